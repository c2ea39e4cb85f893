import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './error-response.js';

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

const HEADINGS: Record<number, [string, string]> = {
  400: ['There is a problem with that request', 'Check what you entered or the link you followed, and try again.'],
  401: ['Sign in to see this page', 'Your session may have ended.'],
  403: ['You do not have access to this page', 'Your role does not allow this. Ask an admin if you need it.'],
  404: ['Page not found', 'If you typed the address, check it is correct. If you followed a link, it may be out of date.'],
  409: ['That could not be done', 'Something changed in the meantime. Go back, reload and try again.'],
  429: ['Too many attempts', 'Wait a few minutes and try again.'],
  503: ['Sorry, the service is unavailable', 'Nothing was changed. Try again in a moment.'],
};

/**
 * The error page inside the site's layout, so a lost visitor keeps the header, the skip link and a way
 * back. Falls back to a bare page when the view renderer is not available or fails.
 */
export function errorPageHtml(req: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody): string {
  const render = (reply.server as unknown as { renderViewSync?: SyncViewRenderer }).renderViewSync;
  const [heading, hint] =
    HEADINGS[status] ??
    (status >= 500 ? ['Sorry, there is a problem with the service', 'Try again later. Nothing you entered was lost on our side.'] : [body.message, '']);
  const inConsole = req.url.startsWith('/console');
  if (render) {
    try {
      return render('error', {
        title: heading,
        heading,
        hint,
        message: body.message,
        code: body.code,
        status,
        backHref: inConsole ? '/console' : '/',
        backLabel: inConsole ? 'Go to the staff console' : 'Go to the start page',
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
