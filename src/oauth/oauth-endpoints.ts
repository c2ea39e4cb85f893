import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { clientIpOf, correlationIdOf } from '../common/http-context.js';
import { LOGGER } from '../common/logger.module.js';
import type { Environment } from '../generated/prisma/enums.js';
import { OAuthError } from './oauth-error.js';
import { TokenFailureLog } from './token-failure-log.js';
import { TokenService, type FormBody } from './token.service.js';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The POST endpoints answer machines with JSON only, never stored (RFC 6749 §5.1); @fastify/helmet is
 * skipped on them (it rebuilds its header middleware per request), so they carry their few relevant
 * headers themselves, as one precomputed set.
 */
const MACHINE_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-type': JSON_TYPE,
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * The HTTP edge of the issuer: parameters in, RFC 6749 §5.2 errors out (`{ error, error_description }`,
 * never the house `{ code }` shape; the correlation id is in the `X-Correlation-Id` header). The token,
 * introspection and revocation handlers are complete Fastify handlers that never throw, so they can be
 * served without Nest's per-request pipeline (see `fastRoutes`); OauthController documents and declares
 * the same routes.
 */
@Injectable()
export class OAuthEndpoints {
  constructor(
    private readonly tokens: TokenService,
    private readonly failures: TokenFailureLog,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  readonly token: Handler = (req, reply) => this.post(req, reply, (e) => this.tokens.token(e, authHeader(req), formBody(req), clientIpOf(req)));

  readonly introspect: Handler = (req, reply) => this.post(req, reply, (e) => this.tokens.introspect(e, authHeader(req), formBody(req), clientIpOf(req)));

  readonly revoke: Handler = (req, reply) =>
    this.post(req, reply, async (e) => {
      await this.tokens.revoke(e, authHeader(req), formBody(req), clientIpOf(req));
      return {};
    });

  /**
   * The POST routes by Fastify method and path. Nest's router adds guards, interceptors, parameter
   * resolution and an exception zone per request (several percent of the token endpoint's CPU in a
   * profile, and a staff-session lookup whenever a cookie came along); these routes need none of it
   * (public, no DTOs, every error answered here), so Fastify calls the handlers directly.
   */
  fastRoutes(): Map<string, Handler> {
    return new Map([
      ['POST /oauth/:env/token', this.token],
      ['POST /oauth/:env/introspect', this.introspect],
      ['POST /oauth/:env/revoke', this.revoke],
    ]);
  }

  private async post(req: FastifyRequest, reply: FastifyReply, fn: (e: Environment) => Promise<unknown>): Promise<void> {
    reply.headers(MACHINE_HEADERS);
    return this.run(req, reply, (req.params as { env?: string }).env ?? '', fn, true);
  }

  /** The GET documents (metadata, JWKS): public and cacheable when they succeed, never when they fail. */
  get(req: FastifyRequest, reply: FastifyReply, env: string, fn: (e: Environment) => Promise<unknown>): Promise<void> {
    reply.header('cache-control', 'public, max-age=300');
    return this.run(req, reply, env, fn);
  }

  private async run(req: FastifyRequest, reply: FastifyReply, env: string, fn: (e: Environment) => Promise<unknown>, form = false): Promise<void> {
    try {
      if (env !== 'acceptance' && env !== 'production')
        throw new OAuthError(404, 'not_found', 'No such issuer; the issuers are /oauth/acceptance and /oauth/production.');
      if (
        form &&
        !String(req.headers['content-type'] ?? '')
          .toLowerCase()
          .startsWith(FORM)
      ) {
        throw new OAuthError(400, 'invalid_request', `Send the parameters form-encoded (Content-Type: ${FORM}).`);
      }
      const body = await fn(env);
      reply.status(200).type(JSON_TYPE).send(body);
    } catch (err) {
      this.fail(req, reply, err);
    }
  }

  private fail(req: FastifyRequest, reply: FastifyReply, err: unknown): void {
    reply.headers(NO_STORE).type(JSON_TYPE);
    this.failures.record(req, err);
    if (err instanceof OAuthError) {
      reply.status(err.status).headers(err.headers).send({ error: err.error, error_description: err.description });
      return;
    }
    this.logger.error({ err, route: req.routeOptions?.url, correlationId: correlationIdOf(req) }, 'oauth endpoint failed');
    if (isDatabaseUnavailable(err)) {
      reply
        .status(503)
        .header('retry-after', '2')
        .send({
          error: 'temporarily_unavailable',
          error_description: `The token service cannot reach its database right now; retry shortly (correlation id ${correlationIdOf(req)}).`,
        });
      return;
    }
    reply.status(500).send({ error: 'server_error', error_description: `Something went wrong on our side; quote correlation id ${correlationIdOf(req)}.` });
  }
}

function authHeader(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' ? h : undefined;
}

function formBody(req: FastifyRequest): FormBody {
  const b = req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as FormBody) : {};
}
