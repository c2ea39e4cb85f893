import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdOf } from '../common/http-context.js';
import { layoutText } from './i18n/layout.text.js';

/** The staff console's navigation; items a role may not use are left out. */
export function consoleNav(req: FastifyRequest, current: string): NonNullable<PageData['nav']> {
  const role = req.staff?.role;
  if (!role) return [];
  const items = [
    { href: '/console/home', label: 'Home' },
    { href: '/console/requests', label: 'Requests' },
    { href: '/console/credentials', label: 'Credentials' },
    { href: '/console/leaks', label: 'Leaks' },
    { href: '/console/audit', label: 'Audit trail' },
    { href: '/console/overview', label: 'Overview' },
    { href: '/console/notifications', label: 'Messages' },
    ...(role === 'admin'
      ? [
          { href: '/console/staff', label: 'Staff' },
          { href: '/console/catalogue', label: 'API catalogue' },
        ]
      : []),
    { href: '/console/account', label: req.staff!.name },
  ];
  return items.map((i) => ({ ...i, current: current === i.href }));
}

export interface PageData {
  title: string;
  lang?: 'en' | 'nl';
  nav?: Array<{ href: string; label: string; current?: boolean }>;
  scripts?: string[];
  [key: string]: unknown;
}

/**
 * Renders a server-side page through the shared layout: every page gets the correlation id in its
 * footer and the deployment badge, and the layout's own words in the page's language (`lang`). Templates live in src/web/views (Eta, auto-escaped).
 */
export async function renderPage(req: FastifyRequest, reply: FastifyReply, template: string, data: PageData, status = 200): Promise<FastifyReply> {
  const deployment = (reply.server as unknown as { deploymentName?: string }).deploymentName;
  reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8');
  return reply.view(template, {
    ...data,
    L: layoutText(data.lang),
    correlationId: correlationIdOf(req),
    deployment,
    csrfToken: req.csrfToken,
    staff: req.staff ?? null,
  });
}
