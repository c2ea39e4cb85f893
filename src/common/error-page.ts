import type { FastifyRequest } from 'fastify';
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

export function renderErrorPage(status: number, body: ErrorBody): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${status} – ${escapeHtml(body.message)}</title><link rel="stylesheet" href="/assets/pico.min.css"></head>
<body><main class="container"><h1>${escapeHtml(body.message)}</h1>
<p>Error code: <code>${escapeHtml(body.code)}</code></p>
<footer><small>Correlation id: <code>${escapeHtml(body.correlationId)}</code></small></footer></main></body></html>`;
}
