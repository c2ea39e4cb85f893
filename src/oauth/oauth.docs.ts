import { applyDecorators, HttpCode } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiOAuthErrors } from '../common/api-docs.js';

// The OAuth endpoints read their form and write their answers by hand (RFC 6749 shapes, no-store); these
// classes and decorators are what the OpenAPI document says about them.

const CLIENT_AUTH = 'Client authentication: HTTP Basic (client_secret_basic) or client_id + client_secret in the form (client_secret_post), never both';

class ClientAuthForm {
  @ApiPropertyOptional({ description: 'client_secret_post only' }) client_id?: string;
  @ApiPropertyOptional({ description: 'client_secret_post only' }) client_secret?: string;
}

export class TokenRequestForm extends ClientAuthForm {
  @ApiProperty({ enum: ['client_credentials'] }) grant_type!: 'client_credentials';
  @ApiPropertyOptional({ description: 'Space-separated; default: every scope granted to the client (its API key)', example: 'business' }) scope?: string;
  @ApiPropertyOptional({ description: "RFC 8707: must be the audience of the client's API in this environment" }) resource?: string;
  @ApiPropertyOptional({ description: 'Same as resource' }) audience?: string;
}

export class TokenIntrospectionForm extends ClientAuthForm {
  @ApiProperty({ description: 'An access token issued by this issuer' }) token!: string;
  @ApiPropertyOptional({ example: 'access_token' }) token_type_hint?: string;
}

export class TokenRevocationForm extends TokenIntrospectionForm {}

export class TokenView {
  @ApiProperty({ description: "An RFC 9068 JWT (ES256), `aud` = the API's audience in this environment" }) access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
  @ApiProperty({ description: 'Seconds' }) expires_in!: number;
  @ApiProperty({ example: 'business' }) scope!: string;
}

export class IntrospectionView {
  @ApiProperty({ description: 'false for any token that is not a live token of this issuer; then no other member is present' }) active!: boolean;
  @ApiPropertyOptional({ enum: ['Bearer'] }) token_type?: string;
  @ApiPropertyOptional() scope?: string;
  @ApiPropertyOptional() client_id?: string;
  @ApiPropertyOptional() sub?: string;
  @ApiPropertyOptional() aud?: string;
  @ApiPropertyOptional() iss?: string;
  @ApiPropertyOptional() exp?: number;
  @ApiPropertyOptional() iat?: number;
  @ApiPropertyOptional() nbf?: number;
  @ApiPropertyOptional() jti?: string;
}

export class AuthorizationServerMetadataView {
  @ApiProperty() issuer!: string;
  @ApiProperty() token_endpoint!: string;
  @ApiProperty() jwks_uri!: string;
  @ApiProperty() introspection_endpoint!: string;
  @ApiProperty() revocation_endpoint!: string;
  @ApiProperty({ type: [String] }) grant_types_supported!: string[];
  @ApiProperty({ type: [String] }) response_types_supported!: string[];
  @ApiProperty({ type: [String] }) token_endpoint_auth_methods_supported!: string[];
  @ApiProperty({ type: [String] }) introspection_endpoint_auth_methods_supported!: string[];
  @ApiProperty({ type: [String] }) revocation_endpoint_auth_methods_supported!: string[];
  @ApiProperty({ type: [String] }) token_endpoint_auth_signing_alg_values_supported!: string[];
  @ApiProperty({ type: [String] }) scopes_supported!: string[];
  @ApiProperty() service_documentation!: string;
}

export class JwkView {
  @ApiProperty({ enum: ['EC'] }) kty!: string;
  @ApiProperty({ enum: ['P-256'] }) crv!: string;
  @ApiProperty() x!: string;
  @ApiProperty() y!: string;
  @ApiProperty() kid!: string;
  @ApiProperty({ enum: ['ES256'] }) alg!: string;
  @ApiProperty({ enum: ['sig'] }) use!: string;
}

export class JwksView {
  @ApiProperty({ type: [JwkView], description: 'Current and recent signing keys, until every token they signed has expired' }) keys!: JwkView[];
}

const UNKNOWN_ISSUER = 'not_found: no such issuer (the environment is acceptance or production)';
const UNAVAILABLE = 'temporarily_unavailable: the database does not answer (Retry-After)';
const CLIENT_ERRORS = {
  401: 'invalid_client: unknown client or wrong secret (they read the same), or the secret is revoked, expired, not yet delivered, replaced, or for the other issuer',
  404: UNKNOWN_ISSUER,
  413: 'invalid_request: the body is too large',
  429: 'invalid_client: too many failed attempts (Retry-After)',
  503: UNAVAILABLE,
} as const;

const formEndpoint = (summary: string, form: new () => object, ok: Parameters<typeof ApiOkResponse>[0], badRequest: string) =>
  applyDecorators(
    HttpCode(200),
    ApiOperation({ summary, description: CLIENT_AUTH }),
    ApiConsumes('application/x-www-form-urlencoded'),
    ApiBody({ type: form }),
    ApiOkResponse(ok),
    ApiOAuthErrors({ 400: badRequest, ...CLIENT_ERRORS }),
  );

export const TokenEndpointDocs = () =>
  formEndpoint(
    'Token endpoint: client_credentials grant, client_secret_basic or client_secret_post (form-encoded)',
    TokenRequestForm,
    { type: TokenView },
    'invalid_request (missing or repeated parameter, not form-encoded, two authentication methods), unsupported_grant_type, invalid_scope, invalid_target',
  );

export const IntrospectionEndpointDocs = () =>
  formEndpoint(
    'RFC 7662 token introspection (client-authenticated)',
    TokenIntrospectionForm,
    { type: IntrospectionView },
    'invalid_request: token missing, not form-encoded',
  );

export const RevocationEndpointDocs = () =>
  applyDecorators(
    ApiExtraModels(TokenRevocationForm),
    formEndpoint(
      'RFC 7009 token revocation (client-authenticated); 200 whatever the token was',
      TokenRevocationForm,
      { schema: { type: 'object', properties: {}, additionalProperties: false, description: 'An empty object' } },
      'invalid_request: token missing, not form-encoded',
    ),
  );

export const MetadataDocs = (summary: string) =>
  applyDecorators(
    ApiOperation({ summary }),
    ApiOkResponse({ type: AuthorizationServerMetadataView }),
    ApiOAuthErrors({ 404: UNKNOWN_ISSUER, 503: UNAVAILABLE }),
  );

export const JwksDocs = () =>
  applyDecorators(
    ApiOperation({ summary: "The issuer's public signing keys (JWKS)" }),
    ApiOkResponse({ type: JwksView }),
    ApiOAuthErrors({ 404: UNKNOWN_ISSUER, 503: UNAVAILABLE }),
  );
