import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth.decorators.js';
import { OAuthEndpoints } from './oauth-endpoints.js';
import { IntrospectionEndpointDocs, JwksDocs, MetadataDocs, RevocationEndpointDocs, TokenEndpointDocs } from './oauth.docs.js';
import { SigningKeysService } from './signing-keys.service.js';
import { TokenService } from './token.service.js';

const NO_HELMET = RouteConfig({ helmet: { skipRoute: true } });

/**
 * One OAuth 2.0 issuer per environment. The handlers live in OAuthEndpoints; the POST routes are served
 * by them directly, without Nest's per-request pipeline (app.factory swaps the handler as the route is
 * registered), so nothing may be added here that those routes would need per request.
 */
@ApiTags('oauth')
@Controller()
@Public()
export class OauthController {
  constructor(
    private readonly endpoints: OAuthEndpoints,
    private readonly tokens: TokenService,
    private readonly keys: SigningKeysService,
  ) {}

  @Get('.well-known/oauth-authorization-server/oauth/:env')
  @MetadataDocs('RFC 8414 authorization server metadata (path-insertion form)')
  metadata(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.endpoints.get(req, reply, env, async (e) => this.tokens.metadata(e));
  }

  @Get('oauth/:env/.well-known/oauth-authorization-server')
  @MetadataDocs('The same metadata, for clients that append the well-known path to the issuer')
  metadataAppended(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.endpoints.get(req, reply, env, async (e) => this.tokens.metadata(e));
  }

  @Get('oauth/:env/jwks')
  @JwksDocs()
  jwks(@Param('env') env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.endpoints.get(req, reply, env, (e) => this.keys.jwks(e));
  }

  @Post('oauth/:env/token')
  @NO_HELMET
  @TokenEndpointDocs()
  token(@Param('env') _env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.endpoints.token(req, reply);
  }

  @Post('oauth/:env/introspect')
  @NO_HELMET
  @IntrospectionEndpointDocs()
  introspect(@Param('env') _env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.endpoints.introspect(req, reply);
  }

  @Post('oauth/:env/revoke')
  @NO_HELMET
  @RevocationEndpointDocs()
  revoke(@Param('env') _env: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.endpoints.revoke(req, reply);
  }
}
