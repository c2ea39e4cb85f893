import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { clientIpOf, correlationIdOf } from '../common/http-context.js';
import { LOGGER } from '../common/logger.module.js';
import type { Environment } from '../generated/prisma/enums.js';
import { FORM, parseForm, plainFormLength, readBody } from './form-body.js';
import { OAuthError } from './oauth-error.js';
import { TokenFailureLog } from './token-failure-log.js';
import { TokenService, type FormBody } from './token.service.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The POST endpoints answer machines with JSON only, never stored (RFC 6749 §5.1); @fastify/helmet is
 * skipped on them (it rebuilds its header middleware per request), so they carry their few relevant
 * headers themselves, as one precomputed set.
 */
const MACHINE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-type': JSON_TYPE,
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const UNREADABLE_HEADERS = { ...NO_STORE, 'content-type': JSON_TYPE };
const UNREADABLE = { error: 'invalid_request', error_description: 'The request body could not be read; send the parameters form-encoded.' };

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
type Call = (req: FastifyRequest, e: Environment) => Promise<unknown>;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The HTTP edge of the issuer: parameters in, RFC 6749 §5.2 errors out (`{ error, error_description }`,
 * never the house `{ code }` shape; the correlation id is in the `X-Correlation-Id` header). The token,
 * introspection and revocation endpoints never throw, so they are served without Nest's per-request
 * pipeline: a plain form request is answered from the first request hook (`serveDirect`), anything else
 * by the same code as a Fastify handler (`fastRoutes`); OauthController documents and declares the routes.
 */
@Injectable()
export class OAuthEndpoints {
  constructor(
    private readonly tokens: TokenService,
    private readonly failures: TokenFailureLog,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private readonly calls = new Map<string, Call>([
    ['/oauth/:env/token', (req, e) => this.tokens.token(e, authHeader(req), formBody(req), clientIpOf(req))],
    ['/oauth/:env/introspect', (req, e) => this.tokens.introspect(e, authHeader(req), formBody(req), clientIpOf(req))],
    [
      '/oauth/:env/revoke',
      async (req, e) => {
        await this.tokens.revoke(e, authHeader(req), formBody(req), clientIpOf(req));
        return {};
      },
    ],
  ]);

  readonly token = this.handler('/oauth/:env/token');
  readonly introspect = this.handler('/oauth/:env/introspect');
  readonly revoke = this.handler('/oauth/:env/revoke');

  /**
   * The POST routes by Fastify method and path, for requests `serveDirect` leaves to Fastify. Nest's router
   * adds guards, interceptors, parameter resolution and an exception zone per request; these routes need
   * none of it (public, no DTOs, every error answered here), so Fastify calls the handlers directly.
   */
  fastRoutes(): Map<string, Handler> {
    return new Map([...this.calls.keys()].map((url): [string, Handler] => [`POST ${url}`, this.handler(url)]));
  }

  private handler(url: string): Handler {
    const call = this.calls.get(url)!;
    return async (req, reply) => {
      const a = await this.answer(req, call, true);
      reply.status(a.status).headers(a.headers).send(a.body);
    };
  }

  /**
   * Answers a POST with a plain form body from the request hook, before Fastify's body parsing, validation,
   * handler and reply pipeline (which cost more CPU than signing the token). The reply is written
   * straight to the socket with the same status, headers and body; the response hooks (access log,
   * metrics) still run. False when the request is not one to take here.
   */
  serveDirect(req: FastifyRequest, reply: FastifyReply, correlationId: string, bodyLimit: number): boolean {
    const call = req.method === 'POST' ? this.calls.get(req.routeOptions.url ?? '') : undefined;
    const length = call ? plainFormLength(req.headers, bodyLimit) : -1;
    if (length < 0) return false;
    reply.hijack();
    readBody(req.raw, length, (text) => {
      const form = text === null ? null : parseForm(text);
      // As Fastify's body parser: a body that lies about its length, or names __proto__, is not read.
      if (!form || Object.hasOwn(form, '__proto__')) return writeRaw(reply, correlationId, { status: 400, headers: UNREADABLE_HEADERS, body: UNREADABLE });
      req.body = form;
      this.answer(req, call!, true)
        .then((a) => writeRaw(reply, correlationId, a))
        .catch(() => req.raw.destroy());
    });
    return true;
  }

  /** The GET documents (metadata, JWKS): public and cacheable when they succeed, never when they fail. */
  async get(req: FastifyRequest, reply: FastifyReply, env: string, fn: (e: Environment) => Promise<unknown>): Promise<void> {
    reply.header('cache-control', 'public, max-age=300');
    const a = await this.answer(req, (_req, e) => fn(e), false, env);
    reply.status(a.status).headers(a.headers).type(JSON_TYPE).send(a.body);
  }

  private async answer(req: FastifyRequest, call: Call, form: boolean, env = (req.params as { env?: string }).env ?? ''): Promise<Answer> {
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
      return { status: 200, headers: form ? MACHINE_HEADERS : {}, body: await call(req, env) };
    } catch (err) {
      return this.fail(req, err, form ? MACHINE_HEADERS : NO_STORE);
    }
  }

  private fail(req: FastifyRequest, err: unknown, base: Record<string, string>): Answer {
    const headers = { ...base, ...NO_STORE, 'content-type': JSON_TYPE };
    this.failures.record(req, err);
    if (err instanceof OAuthError) {
      return { status: err.status, headers: { ...headers, ...err.headers }, body: { error: err.error, error_description: err.description } };
    }
    const correlationId = correlationIdOf(req);
    this.logger.error({ err, route: req.routeOptions?.url, correlationId }, 'oauth endpoint failed');
    if (isDatabaseUnavailable(err)) {
      return {
        status: 503,
        headers: { ...headers, 'retry-after': '2' },
        body: {
          error: 'temporarily_unavailable',
          error_description: `The token service cannot reach its database right now; retry shortly (correlation id ${correlationId}).`,
        },
      };
    }
    return {
      status: 500,
      headers,
      body: { error: 'server_error', error_description: `Something went wrong on our side; quote correlation id ${correlationId}.` },
    };
  }
}

function writeRaw(reply: FastifyReply, correlationId: string, a: Answer): void {
  const payload = JSON.stringify(a.body);
  reply.raw.writeHead(a.status, {
    ...a.headers,
    'x-correlation-id': correlationId,
    'content-length': String(Buffer.byteLength(payload)),
  });
  reply.raw.end(payload);
}

function authHeader(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' ? h : undefined;
}

function formBody(req: FastifyRequest): FormBody {
  const b = req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as FormBody) : {};
}
