import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { contextFromRequest } from './http-context.js';
import type { RequestContext } from './request-context.js';

/** The request's correlation id, client IP and actor (set by the staff guard when signed in). */
export const Ctx = createParamDecorator((_: unknown, host: ExecutionContext): RequestContext => {
  const req = host.switchToHttp().getRequest<FastifyRequest>();
  if (!req.ctx) req.ctx = contextFromRequest(req);
  return req.ctx;
});
