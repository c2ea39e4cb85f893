import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './error-response.js';
import { pageLang, type Lang } from './i18n.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Browsers navigating to a page get a page; API clients get JSON. */
export function wantsHtml(req: FastifyRequest): boolean {
  if (req.url.startsWith('/api/') || req.url.startsWith('/oauth/') || req.url.startsWith('/.well-known/')) return false;
  const accept = String(req.headers.accept ?? '');
  return accept.includes('text/html');
}

/** A synchronous view renderer the app registers (see app.factory); absent when the error comes before it exists. */
export type SyncViewRenderer = (template: string, data: Record<string, unknown>) => string;

const HEADINGS: Record<Lang, Record<number, [string, string]>> = {
  en: {
    400: ['There is a problem with that request', 'Check what you entered or the link you followed, and try again.'],
    401: ['Sign in to see this page', 'Your session may have ended.'],
    403: ['You do not have access to this page', 'Your role does not allow this. Ask an admin if you need it.'],
    404: ['Page not found', 'If you typed the address, check it is correct. If you followed a link, it may be out of date.'],
    409: ['That could not be done', 'Something changed in the meantime. Go back, reload and try again.'],
    429: ['Too many attempts', 'Wait a few minutes and try again.'],
    500: ['Sorry, there is a problem with the service', 'Try again later. Nothing you entered was lost on our side.'],
    503: ['Sorry, the service is unavailable', 'Nothing was changed. Try again in a moment.'],
  },
  nl: {
    400: ['Er is een probleem met dit verzoek', 'Controleer wat u hebt ingevuld of de link die u volgde, en probeer het opnieuw.'],
    401: ['Log in om deze pagina te zien', 'Uw sessie is misschien verlopen.'],
    403: ['U hebt geen toegang tot deze pagina', 'Uw rol staat dit niet toe.'],
    404: ['Pagina niet gevonden', 'Hebt u het adres getypt, controleer dan of het klopt. Volgde u een link, dan is die misschien verouderd.'],
    409: ['Dat kon niet', 'Er is intussen iets veranderd. Ga terug, laad de pagina opnieuw en probeer het nog eens.'],
    429: ['Te veel pogingen', 'Wacht een paar minuten en probeer het opnieuw.'],
    500: ['Sorry, er is een probleem met de dienst', 'Probeer het later opnieuw. Wat u invulde is bij ons niet verloren gegaan.'],
    503: ['Sorry, de dienst is niet beschikbaar', 'Er is niets veranderd. Probeer het zo opnieuw.'],
  },
};

/**
 * The error page inside the site's layout, so a lost visitor keeps the header, the skip link and a way
 * back. Falls back to a bare page when the view renderer is not available or fails.
 */
export function errorPageHtml(req: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody): string {
  const render = (reply.server as unknown as { renderViewSync?: SyncViewRenderer }).renderViewSync;
  const inConsole = req.url.startsWith('/console');
  // Staff pages are English; a partner's error page follows ?lang= or the browser, like the partner pages.
  const lang: Lang = inConsole ? 'en' : pageLang(req.query, req.headers['accept-language']);
  const [heading, hint] = HEADINGS[lang][status] ?? (status >= 500 ? HEADINGS[lang][500] : [body.message, '']);
  if (render) {
    try {
      return render('error', {
        title: heading,
        lang,
        heading,
        hint,
        message: body.message,
        code: body.code,
        status,
        backHref: inConsole ? '/console' : '/',
        backLabel: inConsole ? 'Go to the staff console' : lang === 'nl' ? 'Naar de startpagina' : 'Go to the start page',
        homeHref: inConsole ? '/console' : '/',
        correlationId: body.correlationId,
        deployment: (reply.server as unknown as { deploymentName?: string }).deploymentName,
      });
    } catch {
      // The bare page below still carries the code and correlation id.
    }
  }
  return renderErrorPage(status, body);
}

export function renderErrorPage(status: number, body: ErrorBody): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${status} – ${escapeHtml(body.message)}</title><link rel="stylesheet" href="/assets/pico.min.css"></head>
<body><main class="container"><h1>${escapeHtml(body.message)}</h1>
<p>Error code: <code>${escapeHtml(body.code)}</code></p>
<footer><small>Correlation id: <code>${escapeHtml(body.correlationId)}</code></small></footer></main></body></html>`;
}
