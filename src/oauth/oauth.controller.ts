import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { clientIpOf, correlationIdOf } from '../common/http-context.js';
import { LOGGER } from '../common/logger.module.js';
import type { Environment } from '../generated/prisma/enums.js';
import { Public } from '../staff/auth.decorators.js';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { OAuthError } from './oauth-error.js';
import { IntrospectionEndpointDocs, JwksDocs, MetadataDocs, RevocationEndpointDocs, TokenEndpointDocs } from './oauth.docs.js';
import { SigningKeysService } from './signing-keys.service.js';
import { TokenService, type FormBody } from './token.service.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * The POST endpoints answer machines with JSON only; @fastify/helmet rebuilds its header middleware on every
 * request (about 8% of the token endpoint's CPU), so these set their few relevant headers themselves.
 */
const NO_HELMET = RouteConfig({ helmet: { skipRoute: true } });
const MACHINE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

/**
 * One OAuth 2.0 issuer per environment. Errors leave here in the RFC 6749 §5.2 shape
 * (`{ error, error_description }`), never the house `{ code }` shape; the correlation id is in the
 * `X-Correlation-Id` header as on every response. No staff session is read or needed.
 */
@ApiTags('oauth')
@Controller()
@Public()
export class OauthController {
  constructor(
    private readonly tokens: TokenService,
    private readonly keys: SigningKeysService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('.well-known/oauth-authorization-server/oauth/:env')
  @MetadataDocs('RFC 8414 authorization server metadata (path-insertion form)')
  metadata(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.handle(req, reply, env, async (e) => this.tokens.metadata(e), 'public, max-age=300');
  }

  @Get('oauth/:env/.well-known/oauth-authorization-server')
  @MetadataDocs('The same metadata, for clients that append the well-known path to the issuer')
  metadataAppended(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.handle(req, reply, env, async (e) => this.tokens.metadata(e), 'public, max-age=300');
  }

  @Get('oauth/:env/jwks')
  @JwksDocs()
  jwks(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.handle(req, reply, env, (e) => this.keys.jwks(e), 'public, max-age=300');
  }

  @Post('oauth/:env/token')
  @NO_HELMET
  @TokenEndpointDocs()
  token(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.handle(req, reply, env, (e) => this.tokens.token(e, authHeader(req), formBody(req), clientIpOf(req)));
  }

  @Post('oauth/:env/introspect')
  @NO_HELMET
  @IntrospectionEndpointDocs()
  introspect(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.handle(req, reply, env, (e) => this.tokens.introspect(e, authHeader(req), formBody(req), clientIpOf(req)));
  }

  @Post('oauth/:env/revoke')
  @NO_HELMET
  @RevocationEndpointDocs()
  revoke(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.handle(req, reply, env, async (e) => {
      await this.tokens.revoke(e, authHeader(req), formBody(req), clientIpOf(req));
      return {};
    });
  }

  private async handle(req: FastifyRequest, reply: FastifyReply, env: string, fn: (e: Environment) => Promise<unknown>, cache = 'no-store'): Promise<void> {
    reply.header('cache-control', cache);
    if (req.method === 'POST') reply.headers(MACHINE_HEADERS);
    if (cache === 'no-store') reply.header('pragma', 'no-cache');
    try {
      if (env !== 'acceptance' && env !== 'production') throw new OAuthError(404, 'not_found', 'No such issuer; the issuers are /oauth/acceptance and /oauth/production.');
      if (req.method === 'POST' && !String(req.headers['content-type'] ?? '').toLowerCase().startsWith(FORM)) {
        throw new OAuthError(400, 'invalid_request', `Send the parameters form-encoded (Content-Type: ${FORM}).`);
      }
      const body = await fn(env);
      reply.status(200).type('application/json; charset=utf-8').send(body);
    } catch (err) {
      if (err instanceof OAuthError) {
        reply.status(err.status).headers(err.headers).type('application/json; charset=utf-8').send({ error: err.error, error_description: err.description });
        return;
      }
      this.logger.error({ err, route: req.routeOptions?.url, correlationId: correlationIdOf(req) }, 'oauth endpoint failed');
      if (isDatabaseUnavailable(err)) {
        reply.status(503).header('retry-after', '2').type('application/json; charset=utf-8').send({ error: 'temporarily_unavailable', error_description: `The token service cannot reach its database right now; retry shortly (correlation id ${correlationIdOf(req)}).` });
        return;
      }
      reply.status(500).type('application/json; charset=utf-8').send({ error: 'server_error', error_description: `Something went wrong on our side; quote correlation id ${correlationIdOf(req)}.` });
    }
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
