import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isOAuthPath, sendError } from './common/error.filter.js';
import { contextFromRequest } from './common/http-context.js';
import { createAccessLog } from './common/logger.js';
import { inputShapeError } from './common/input-shape.js';
import { requestContextStorage } from './common/request-context.js';
import type { AppConfig } from './config/config.js';
import { relaxDocsCsp } from './app.swagger.js';
import { Metrics } from './metrics/metrics.js';
import { OAuthEndpoints } from './oauth/oauth-endpoints.js';

/** The Fastify hooks every request passes: context and correlation id, input checks, metrics and the request log. */
export function installHooks(app: NestFastifyApplication, config: AppConfig, logger: Logger): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.decorate('deploymentName', config.nodeEnv);
  // The OAuth POST endpoints skip Nest's per-request pipeline: Fastify calls their handlers directly.
  const oauth = app.get(OAuthEndpoints);
  const oauthRoutes = oauth.fastRoutes();
  const bodyLimit = fastify.initialConfig.bodyLimit ?? 1024 * 1024;
  const accessLog = createAccessLog(logger);
  fastify.addHook('onRoute', (route) => {
    const direct = typeof route.method === 'string' ? oauthRoutes.get(`${route.method} ${route.url}`) : undefined;
    if (direct) route.handler = direct;
  });
  const metrics = app.get(Metrics);
  // Errors thrown by plugin routes (Swagger UI, static files) never reach Nest's filter: map them the same way.
  // Plugins registered below inherit this handler; Nest then sets its own at the root during init, which
  // Fastify reports as FSTWRN004 (silenced with --disable-warning in the start scripts: it is intended).
  fastify.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => sendError(err, req, reply, logger));

  fastify.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const ctx = (req.ctx = contextFromRequest(req));
    requestContextStorage.run(ctx, () => {
      // The OAuth POST endpoints answer a plain form request from here, their own correlation id header included.
      if (oauth.serveDirect(req, reply, ctx.correlationId, bodyLimit)) return;
      reply.header('x-correlation-id', ctx.correlationId);
      done();
    });
  });
  fastify.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => {
    relaxDocsCsp(req, reply);
    done(null, payload);
  });
  // Malformed input is refused before any DTO or query sees it (see inputShapeError).
  // The OAuth endpoints read their flat form parameters themselves and answer such input per RFC 6749
  // (a control character in credentials is a failed client authentication, not a malformed request).
  fastify.addHook('preValidation', (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) =>
    done(isOAuthPath(req.url) ? undefined : (inputShapeError(req.body) ?? inputShapeError(req.query) ?? inputShapeError(req.params))),
  );
  fastify.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // The route template, never the raw URL: paths and queries may carry one-time tokens.
    const route = req.routeOptions?.url ?? 'unmatched';
    const ms = reply.elapsedTime;
    metrics.http.observe(req.method, route, reply.statusCode, ms / 1000);
    accessLog({ method: req.method, route, status: reply.statusCode, ms: Math.round(ms), correlationId: req.ctx?.correlationId, ip: req.ctx?.clientIp });
    done();
  });
}
