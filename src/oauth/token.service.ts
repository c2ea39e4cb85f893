import { Inject, Injectable } from '@nestjs/common';
import { randomUUID, type KeyObject } from 'node:crypto';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { ClientRegistry } from '../credentials/client-registry.js';
import { SecretHashes } from '../credentials/secret-hashes.js';
import { CLIENT_ID_PATTERN, environmentLabel, environmentOfClientId } from '../credentials/credential-format.js';
import type { ClientRecord, ClientSecretRecord } from '../credentials/credentials.types.js';
import type { Environment } from '../generated/prisma/enums.js';
import { FailureLimiter } from './failure-limiter.js';
import { es256Header, signEs256JwtWithHeader, verifyEs256Jwt } from './jws.js';
import { OAuthError } from './oauth-error.js';
import { SigningKeysService } from './signing-keys.service.js';
import { tokenCounts } from './token-counts.js';

export type FormBody = Record<string, unknown>;

export interface PresentedClient {
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

export interface AuthenticatedClient {
  record: ClientRecord;
  secret: ClientSecretRecord;
}

const GENERIC_AUTH_FAILURE = 'Client authentication failed: unknown client_id or wrong client_secret.';
const CONTROL_IN_CREDENTIALS = 'Client authentication failed: client_id and client_secret never contain control characters.';

/** C0 controls and DEL: never part of a client_id, a secret or any parameter this issuer understands. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function str(body: FormBody, name: string): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OAuthError(400, 'invalid_request', `Parameter ${name} must appear once, as a string.`);
  if (CONTROL.test(v) && name !== 'client_id' && name !== 'client_secret')
    throw new OAuthError(400, 'invalid_request', `Parameter ${name} holds a control character.`);
  return v;
}

function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

const VERIFIED_CACHE_SIZE = 10_000;

@Injectable()
export class TokenService {
  private readonly verified = new Map<string, { key: KeyObject; claims: Record<string, unknown> }>();
  /** The encoded JWT header per signing kid (a handful over the service's life). */
  private readonly headers = new Map<string, string>();

  constructor(
    private readonly registry: ClientRegistry,
    private readonly secretHashes: SecretHashes,
    private readonly keys: SigningKeysService,
    private readonly limiter: FailureLimiter,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  issuer(environment: Environment): string {
    return `${this.config.publicBaseUrl}/oauth/${environment}`;
  }

  metadata(environment: Environment): Record<string, unknown> {
    const iss = this.issuer(environment);
    const authMethods = ['client_secret_basic', 'client_secret_post'];
    return {
      issuer: iss,
      token_endpoint: `${iss}/token`,
      jwks_uri: `${iss}/jwks`,
      introspection_endpoint: `${iss}/introspect`,
      revocation_endpoint: `${iss}/revoke`,
      grant_types_supported: ['client_credentials'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: authMethods,
      introspection_endpoint_auth_methods_supported: authMethods,
      revocation_endpoint_auth_methods_supported: authMethods,
      token_endpoint_auth_signing_alg_values_supported: [],
      scopes_supported: ['business', 'cafetariaplan', 'communities'],
      service_documentation: `${this.config.publicBaseUrl}/docs`,
    };
  }

  /** Reads the client's credentials from the Authorization header or the body, never both (RFC 6749 §2.3). */
  presentedClient(authorization: string | undefined, body: FormBody): PresentedClient {
    const bodyId = str(body, 'client_id');
    const bodySecret = str(body, 'client_secret');
    if (authorization !== undefined) {
      const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
      if (!m)
        throw this.clientError(
          'Use HTTP Basic authentication (client_secret_basic) or client_id and client_secret in the form body (client_secret_post).',
          true,
          'malformed_auth',
        );
      if (bodySecret !== undefined)
        throw new OAuthError(
          400,
          'invalid_request',
          'Use one client authentication method: either the Authorization header or client_secret in the body, not both.',
        );
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw this.clientError('The Basic credentials must be client_id:client_secret.', true, 'malformed_auth');
      let clientId: string;
      let clientSecret: string;
      try {
        clientId = formDecode(decoded.slice(0, colon));
        clientSecret = formDecode(decoded.slice(colon + 1));
      } catch {
        throw this.clientError('The Basic credentials are not correctly form-encoded.', true, 'malformed_auth');
      }
      if (CONTROL.test(clientId) || CONTROL.test(clientSecret)) throw this.clientError(CONTROL_IN_CREDENTIALS, true, 'malformed_auth');
      if (bodyId !== undefined && bodyId !== clientId)
        throw new OAuthError(400, 'invalid_request', 'client_id in the body does not match the Authorization header.');
      return { clientId, clientSecret, method: 'client_secret_basic' };
    }
    if (bodyId === undefined || bodySecret === undefined) {
      throw this.clientError(
        'Client authentication is required: send client_id and client_secret with HTTP Basic (client_secret_basic) or in the form body (client_secret_post).',
        true,
        'no_client_auth',
      );
    }
    if (CONTROL.test(bodyId) || CONTROL.test(bodySecret)) throw this.clientError(CONTROL_IN_CREDENTIALS, false, 'malformed_auth');
    return { clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
  }

  private clientError(description: string, basicChallenge: boolean, reason: string, environment?: Environment): OAuthError {
    const realm = environment ? this.issuer(environment) : this.config.publicBaseUrl;
    return new OAuthError(401, 'invalid_client', description, basicChallenge ? { 'www-authenticate': `Basic realm="${realm}", charset="UTF-8"` } : {}, reason);
  }

  /**
   * Authenticates a client at one issuer. Unknown client and wrong secret read the same; what went wrong
   * beyond that (revoked, expired, not delivered, replaced) is said only to a caller who proved the secret.
   */
  async authenticate(environment: Environment, presented: PresentedClient, ip: string | null): Promise<AuthenticatedClient> {
    const basic = presented.method === 'client_secret_basic';
    try {
      // The secret is always checked: throttling changes how failures are answered, never refuses the owner.
      return this.check(environment, presented, basic, await this.lookup(environment, presented, basic));
    } catch (err) {
      if (err instanceof OAuthError && err.status === 401) {
        const wait = await this.limiter.recordFailure(presented.clientId, ip, err.reason ?? 'unknown');
        if (wait > 0) {
          throw new OAuthError(
            429,
            'invalid_client',
            `${err.description} Too many failed attempts from here; failures are refused for ${wait} seconds (the correct secret still works).`,
            { ...err.headers, 'retry-after': String(wait) },
            err.reason,
          );
        }
      }
      throw err;
    }
  }

  private async lookup(environment: Environment, presented: PresentedClient, basic: boolean): Promise<ClientRecord> {
    const claimed = environmentOfClientId(presented.clientId);
    if (claimed && claimed !== environment) {
      // The prefix says it all: no lookup, so nothing about existence is revealed.
      const right = this.issuer(claimed);
      throw this.clientError(
        `This client_id is for the ${environmentLabel(claimed)} environment, but this is the ${environmentLabel(environment)} issuer. Use issuer ${right} (token endpoint ${right}/token).`,
        basic,
        'other_environment',
        environment,
      );
    }
    const record = claimed && CLIENT_ID_PATTERN.test(presented.clientId) ? await this.registry.get(presented.clientId) : null;
    if (!record || record.environment !== environment) throw this.clientError(GENERIC_AUTH_FAILURE, basic, 'unknown_client', environment);
    return record;
  }

  private check(environment: Environment, presented: PresentedClient, basic: boolean, record: ClientRecord): AuthenticatedClient {
    const match: ClientSecretRecord | undefined = this.secretHashes.match(record.clientId, record.secrets, presented.clientSecret);
    if (!match) throw this.clientError(GENERIC_AUTH_FAILURE, basic, 'wrong_secret', environment);
    const now = this.clock.now();
    const day = (d: Date) => d.toISOString().slice(0, 10);
    if (record.state === 'revoked' || match.state === 'revoked') {
      throw this.clientError(
        `This client was revoked${record.revokedAt ? ` on ${day(record.revokedAt)}` : ''}; its secrets no longer work. Contact the API team for new credentials.`,
        basic,
        'revoked',
        environment,
      );
    }
    if (match.state === 'pending_delivery') {
      throw this.clientError(
        'This client_secret has not been activated yet: open the delivery link and enter the SMS code to activate it.',
        basic,
        'not_delivered',
        environment,
      );
    }
    if (match.state === 'retired' || match.state === 'cancelled' || (match.retiresAt && match.retiresAt.getTime() <= now.getTime())) {
      const when = match.endedAt ?? match.retiresAt;
      throw this.clientError(
        `This client_secret was replaced by a newer one and stopped working${when ? ` on ${day(when)}` : ''}. Use the new client_secret.`,
        basic,
        'secret_replaced',
        environment,
      );
    }
    if (match.expiresAt.getTime() <= now.getTime()) {
      throw this.clientError(`This client_secret expired on ${day(match.expiresAt)}. Ask for a rotation to get a new one.`, basic, 'expired', environment);
    }
    this.registry.markUsed(match.id, now);
    return { record, secret: match };
  }

  async token(environment: Environment, authorization: string | undefined, body: FormBody, ip: string | null): Promise<Record<string, unknown>> {
    const grantType = str(body, 'grant_type');
    if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type is missing; this token endpoint supports grant_type=client_credentials.');
    const client = await this.authenticate(environment, this.presentedClient(authorization, body), ip);
    if (grantType !== 'client_credentials')
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType.slice(0, 50)} is not supported; use client_credentials.`);
    const { record } = client;

    const scopeParam = str(body, 'scope');
    let scopes = record.scopes;
    if (scopeParam !== undefined) {
      const asked = scopeParam.split(' ').filter(Boolean);
      const notGranted = asked.filter((s) => !record.scopes.includes(s));
      if (notGranted.length)
        throw new OAuthError(
          400,
          'invalid_scope',
          `Scope ${notGranted.join(' ').slice(0, 100)} is not granted to this client; granted: ${record.scopes.join(' ')}.`,
        );
      if (asked.length) scopes = asked;
    }
    for (const name of ['resource', 'audience'] as const) {
      const asked = str(body, name);
      if (asked !== undefined && asked !== record.audience) {
        throw new OAuthError(
          400,
          'invalid_target',
          `The ${name} ${asked.slice(0, 200)} is not granted to this client; in ${environmentLabel(environment)} it may ask for ${record.audience} (${record.apiName}).`,
        );
      }
    }

    const signer = await this.keys.signer(environment);
    const nowS = Math.floor(this.clock.now().getTime() / 1000);
    const ttl = this.config.credentials.tokenTtlSeconds;
    const scope = scopes.join(' ');
    let header = this.headers.get(signer.kid);
    if (header === undefined) {
      header = es256Header({ typ: 'at+jwt', kid: signer.kid });
      if (this.headers.size >= 100) this.headers.clear();
      this.headers.set(signer.kid, header);
    }
    const accessToken = signEs256JwtWithHeader(
      header,
      {
        iss: this.issuer(environment),
        sub: record.clientId,
        aud: record.audience,
        client_id: record.clientId,
        scope,
        iat: nowS,
        nbf: nowS,
        exp: nowS + ttl,
        jti: randomUUID(),
      },
      signer.key,
    );
    tokenCounts.add(record.apiKey, environment, nowS);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, scope };
  }

  /** The claims of one of our tokens at this issuer, or null when it is not one (any reason). */
  private async verifyOwn(environment: Environment, token: string): Promise<Record<string, unknown> | null> {
    const kid = kidOf(token);
    const key = kid ? await this.keys.verificationKey(environment, kid) : undefined;
    if (!key) return null;
    // A resource server introspects the same token on every call it receives: its signature is checked
    // once per key object (a key withdrawn from the JWKS drops out of the verification set within its
    // 60-second cache, long after its tokens expired).
    let claims = this.verified.get(token)?.key === key ? this.verified.get(token)!.claims : undefined;
    if (!claims) {
      const verified = verifyEs256Jwt(token, () => key);
      if (!verified || verified.header.typ !== 'at+jwt') return null;
      claims = verified.claims;
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
      this.verified.set(token, { key, claims });
    }
    const nowS = this.clock.now().getTime() / 1000;
    if (claims.iss !== this.issuer(environment) || typeof claims.exp !== 'number' || claims.exp <= nowS) return null;
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowS)) return null;
    return claims;
  }

  async introspect(environment: Environment, authorization: string | undefined, body: FormBody, ip: string | null): Promise<Record<string, unknown>> {
    const token = str(body, 'token');
    const caller = await this.authenticate(environment, this.presentedClient(authorization, body), ip);
    if (!token) throw new OAuthError(400, 'invalid_request', 'token is missing.');
    const claims = await this.verifyOwn(environment, token);
    // A client sees only its own tokens (RFC 7662 §4): another client's token reads as inactive, so the
    // endpoint tells no one whether a token it found is live.
    if (!claims || claims.client_id !== caller.record.clientId || typeof claims.jti !== 'string') return { active: false };
    if (await this.keys.isRevoked(claims.jti, kidOf(token) ?? '')) return { active: false };
    if (caller.record.state !== 'active') return { active: false };
    return {
      active: true,
      token_type: 'Bearer',
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      jti: claims.jti,
    };
  }

  /** RFC 7009: 200 whatever the token was, once the client is authenticated. */
  async revoke(environment: Environment, authorization: string | undefined, body: FormBody, ip: string | null): Promise<void> {
    const token = str(body, 'token');
    const caller = await this.authenticate(environment, this.presentedClient(authorization, body), ip);
    if (!token) throw new OAuthError(400, 'invalid_request', 'token is missing.');
    const claims = await this.verifyOwn(environment, token);
    if (!claims || claims.client_id !== caller.record.clientId || typeof claims.jti !== 'string') return;
    await this.keys.revokeToken({ jti: claims.jti, environment, clientId: caller.record.clientId, expiresAt: new Date(Number(claims.exp) * 1000) });
  }
}

/** The kid of a compact JWS, read without trusting anything else in it yet. */
function kidOf(token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot < 1 || dot > 1024) return undefined;
  try {
    const kid = (JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { kid?: unknown }).kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}
