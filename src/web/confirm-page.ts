import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderPage, type PageData } from './page.js';

/**
 * A GOV.UK-style "are you sure" page: an action that cannot be undone (or that lets a partner into
 * production) is first shown with its consequence in plain words; only the POST from this page acts.
 */
export interface ConfirmPage {
  title: string;
  heading: string;
  consequences: string[];
  facts?: Array<[string, string]>;
  /** Warning-styled button and a "cannot be undone" line. */
  destructive: boolean;
  warningText?: string;
  action: string;
  hidden?: Record<string, string>;
  /** A reason field (kept in the audit trail). */
  reason?: { label: string; value?: string };
  confirmLabel: string;
  cancelHref: string;
}

export function renderConfirmPage(
  req: FastifyRequest,
  reply: FastifyReply,
  nav: PageData['nav'],
  page: ConfirmPage,
  errors: Record<string, string> = {},
  status = 200,
): Promise<FastifyReply> {
  return renderPage(req, reply, 'console/confirm.eta', { ...page, nav, errors }, status);
}
