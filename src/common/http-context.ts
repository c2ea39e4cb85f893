import type { FastifyRequest } from 'fastify';
import { correlationIdFrom, type Actor, type RequestContext } from './request-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    ctx?: RequestContext;
  }
}

export function correlationIdOf(req: FastifyRequest): string {
  if (!req.ctx) req.ctx = contextFromRequest(req);
  return req.ctx.correlationId;
}

/** The client IP as derived once per request under TRUST_PROXY: every per-IP limit and audit row uses this one. */
export function clientIpOf(req: FastifyRequest): string | null {
  if (!req.ctx) req.ctx = contextFromRequest(req);
  return req.ctx.clientIp;
}

export function contextFromRequest(req: FastifyRequest, actor?: Actor): RequestContext {
  return {
    correlationId: correlationIdFrom(req.headers['x-correlation-id']),
    clientIp: req.ip ?? null,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 512) : null,
    actor: actor ?? { type: 'system', id: null },
  };
}
