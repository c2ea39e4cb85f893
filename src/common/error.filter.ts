import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { mapError } from './error-response.js';
import { correlationIdOf } from './http-context.js';
import { LOGGER } from './logger.module.js';
import { renderErrorPage, wantsHtml } from './error-page.js';

/** Every error leaving the service, Nest's or Fastify's, goes through `mapError` and nowhere else. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}

export function sendError(exception: unknown, req: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const mapped = mapError(exception, correlationIdOf(req));
  if (mapped.internal) logger.error({ err: exception, route: req.routeOptions?.url }, 'unhandled error');
  if (reply.sent) return;
  reply.status(mapped.status).headers(mapped.headers);
  if (wantsHtml(req)) {
    reply.type('text/html; charset=utf-8').send(renderErrorPage(mapped.status, mapped.body));
  } else {
    reply.type('application/json; charset=utf-8').send(mapped.body);
  }
}
