import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { mapError, type MappedError } from './error-response.js';
import { correlationIdOf } from './http-context.js';
import { LOGGER } from './logger.module.js';
import { errorPageHtml, wantsHtml } from './error-page.js';

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
  if (isOAuthPath(req.url)) {
    const [status, body] = oauthShaped(mapped);
    reply.status(status).headers(mapped.headers).headers(OAUTH_NO_STORE).type('application/json; charset=utf-8').send(body);
    return;
  }
  reply.status(mapped.status).headers(mapped.headers);
  if (wantsHtml(req)) {
    reply.type('text/html; charset=utf-8').send(errorPageHtml(req, reply, mapped.status, mapped.body));
  } else {
    reply.type('application/json; charset=utf-8').send(mapped.body);
  }
}

/** OAuth clients are libraries that read RFC 6749 §5.2 errors; nothing under these paths may be cached. */
export function isOAuthPath(url: string): boolean {
  return url.startsWith('/oauth/') || url.startsWith('/.well-known/oauth-authorization-server');
}

export const OAUTH_NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

function oauthShaped(mapped: MappedError): [number, { error: string; error_description: string }] {
  const { status, body } = mapped;
  const ref = ` (correlation id ${body.correlationId})`;
  if (status === 503) return [503, { error: 'temporarily_unavailable', error_description: body.message + ref }];
  if (status >= 500) return [500, { error: 'server_error', error_description: body.message + ref }];
  if (status === 404) return [404, { error: 'not_found', error_description: 'No such endpoint; the issuers are /oauth/acceptance and /oauth/production.' }];
  if (status === 405) return [405, { error: 'invalid_request', error_description: 'This method is not allowed here.' }];
  if (status === 413) return [413, { error: 'invalid_request', error_description: 'The request body is too large.' }];
  if (status === 415 || body.code === 'request/unsupported_media_type') {
    return [400, { error: 'invalid_request', error_description: 'Send the parameters form-encoded (Content-Type: application/x-www-form-urlencoded).' }];
  }
  if (status === 429) return [429, { error: 'invalid_request', error_description: body.message }];
  return [
    400,
    {
      error: 'invalid_request',
      error_description:
        body.code === 'request/malformed_text'
          ? 'The request holds a NUL character or broken Unicode.'
          : 'The request body could not be read; send the parameters form-encoded.',
    },
  ];
}
