import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { ClientRegistry } from '../credentials/client-registry.js';
import { CLIENT_ID_PATTERN, ENVIRONMENTS, SECRET_PREFIX, environmentLabel } from '../credentials/credential-format.js';
import { CatalogueService } from '../credentials/catalogue.service.js';
import type { CatalogueEntry, ClientRecord } from '../credentials/credentials.types.js';
import type { Environment } from '../generated/prisma/enums.js';
import { verifyEs256Jwt } from '../oauth/jws.js';
import { SigningKeysService } from '../oauth/signing-keys.service.js';
import { TokenService } from '../oauth/token.service.js';
import { duration, nextSteps, when } from './token-explain.messages.js';
import type { EnvironmentUrls, ExplainFindingCode, ExplainInput, ExplainReason, TokenExplanation, TokenFacts } from './token-explain.types.js';

type Finding = { code: ExplainFindingCode; message: string };

/**
 * Tells a developer why one of our access tokens is refused, or that it is fine. Verification is the token
 * endpoint's own (jws.ts, the signing keys service, the revocation list); this adds the keys no longer
 * published, so that "signed by a key we withdrew" and "not ours" read differently. Nothing of the token is
 * stored or logged, and a client secret pasted by mistake is recognised and never looked up.
 */
@Injectable()
export class TokenExplainService {
  constructor(
    private readonly tokens: TokenService,
    private readonly keys: SigningKeysService,
    private readonly registry: ClientRegistry,
    private readonly catalogue: CatalogueService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async explain(input: ExplainInput): Promise<TokenExplanation> {
    const raw = normalise(input.token);
    const catalogue = await this.catalogue.catalogue();
    if (looksLikeClientSecret(raw)) {
      return this.answer(
        [
          {
            code: 'client_secret',
            message: 'This is a client secret, not an access token. Do not share it: we did not look it up, and it is not stored or logged.',
          },
        ],
        null,
        input.environment ? this.urls(input.environment, catalogue, input.api) : null,
      );
    }
    const decoded = decodeUnverified(raw);
    if (!decoded) {
      return this.answer(
        [
          {
            code: 'malformed',
            message: 'This is not a JWT: an access token from us has three base64url parts separated by dots (header.claims.signature), and this does not.',
          },
        ],
        null,
        input.environment ? this.urls(input.environment, catalogue, input.api) : null,
      );
    }
    const kid = typeof decoded.header.kid === 'string' ? decoded.header.kid : '';
    const key = decoded.header.alg === 'ES256' && kid ? await this.keys.describeKey(kid) : null;
    if (!key) {
      const iss = typeof decoded.claims.iss === 'string' ? decoded.claims.iss.slice(0, 200) : null;
      const says = iss ? `it says it comes from ${iss}, but ` : '';
      const message = `This is a JWT, but not one we signed: ${says}its header names none of our signing keys (our tokens are ES256, with a kid from our JWKS).`;
      return this.answer([{ code: 'not_signed_by_us', message }], null, input.environment ? this.urls(input.environment, catalogue, input.api) : null);
    }
    const verified = verifyEs256Jwt(raw, (k) => (k === key.kid ? key.key : undefined));
    const env = key.environment;
    if (!verified || verified.header.typ !== 'at+jwt') {
      return this.answer(
        [
          {
            code: 'signature_invalid',
            message: `This token names our ${environmentLabel(env)} signing key ${key.kid}, but its signature does not match its contents: it was altered or is incomplete.`,
          },
        ],
        null,
        this.urls(input.environment ?? env, catalogue, input.api),
      );
    }
    const claims = verified.claims;
    const token = this.facts(claims, env, key.kid, catalogue);
    const called = input.environment ?? env;
    const urls = this.urls(called, catalogue, input.api ?? (called === env ? (token.apiKey ?? undefined) : undefined));
    const now = this.clock.now();
    const client = token.clientId && CLIENT_ID_PATTERN.test(token.clientId) ? await this.registry.get(token.clientId) : null;
    const findings: Finding[] = [];

    if (key.withdrawnAt)
      findings.push({
        code: 'key_withdrawn',
        message: `This token was signed by our ${environmentLabel(env)} key ${key.kid}, which we withdrew on ${when(key.withdrawnAt)}. Tokens it signed are no longer accepted.`,
      });
    if (called !== env) {
      findings.push({
        code: 'other_environment',
        message: `This token was issued by the ${environmentLabel(env)} issuer (${token.issuer ?? this.tokens.issuer(env)}), but you called ${environmentLabel(called)}, which accepts only tokens of its own issuer (${this.tokens.issuer(called)}).`,
      });
    }
    if (input.api) {
      const expected = catalogue.find((e) => e.apiKey === input.api && e.environment === called);
      if (expected && expected.audience !== token.audience) {
        findings.push({
          code: 'wrong_audience',
          message: `This token is for ${token.apiName ?? `audience ${token.audience ?? '(none)'}`}${token.apiName ? ` (aud ${token.audience})` : ''}, not for ${expected.apiName} (aud ${expected.audience}).`,
        });
      }
    }
    if (client?.state === 'revoked')
      findings.push({
        code: 'client_revoked',
        message: `The client ${client.clientId} was revoked${client.revokedAt ? ` on ${when(client.revokedAt)}` : ''}; its tokens are no longer accepted.`,
      });
    const jti = typeof claims.jti === 'string' ? claims.jti : null;
    if (jti && (await this.keys.isRevoked(jti, '')))
      findings.push({ code: 'token_revoked', message: 'This token was revoked (through the revocation endpoint) and is no longer accepted.' });
    const ttl = this.config.credentials.tokenTtlSeconds;
    if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) {
      findings.push({
        code: 'expired',
        message: `This token expired at ${when(token.expiresAt)}, ${duration((now.getTime() - token.expiresAt.getTime()) / 1000)} ago. Our tokens live ${duration(ttl)}.`,
      });
    }
    if (token.notBefore && token.notBefore.getTime() > now.getTime())
      findings.push({
        code: 'not_yet_valid',
        message: `This token is not valid before ${when(token.notBefore)} (${duration((token.notBefore.getTime() - now.getTime()) / 1000)} from now).`,
      });
    if (!findings.length) {
      findings.push({
        code: 'valid',
        message: `This token is fine for ${token.apiName ?? `audience ${token.audience}`} in ${environmentLabel(env)} until ${token.expiresAt ? when(token.expiresAt) : 'it is revoked'}.`,
      });
    }
    const replaced = client && token.issuedAt ? replacedSince(client, token.issuedAt, now) : null;
    if (replaced) {
      findings.push({
        code: 'secret_replaced',
        message: `Every client_secret ${client!.clientId} had when this token was issued (${when(token.issuedAt!)}) has since been replaced; the rotation completed on ${when(replaced)}. A token does not record which secret fetched it, so the token itself is unaffected, but new tokens need the new client_secret (the old one is refused with invalid_client).`,
      });
    }
    return this.answer(findings, token, urls);
  }

  private answer(findings: Finding[], token: TokenFacts | null, urls: EnvironmentUrls | null): TokenExplanation {
    const reason = findings[0].code as ExplainReason;
    const ttlSeconds = this.config.credentials.tokenTtlSeconds;
    const tokenEndpoints = ENVIRONMENTS.map((e) => `${environmentLabel(e)} ${this.tokens.issuer(e)}/token`).join(', ');
    return {
      reason,
      valid: reason === 'valid',
      summary: findings[0].message,
      findings,
      nextSteps: nextSteps(reason, { token, urls, ttlSeconds, tokenEndpoints }),
      token,
      urls,
      tokenLifetimeSeconds: ttlSeconds,
    };
  }

  private facts(claims: Record<string, unknown>, environment: Environment, kid: string, catalogue: CatalogueEntry[]): TokenFacts {
    const audience = typeof claims.aud === 'string' ? claims.aud : null;
    const api = catalogue.find((e) => e.environment === environment && e.audience === audience);
    const time = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? new Date(v * 1000) : null);
    return {
      clientId: typeof claims.client_id === 'string' ? claims.client_id.slice(0, 100) : null,
      apiKey: api?.apiKey ?? null,
      apiName: api?.apiName ?? null,
      environment,
      audience,
      issuer: typeof claims.iss === 'string' ? claims.iss : null,
      kid,
      issuedAt: time(claims.iat),
      notBefore: time(claims.nbf),
      expiresAt: time(claims.exp),
    };
  }

  /** The environment's issuer and token endpoint, and the API's base URL there when the API is known. */
  urls(environment: Environment, catalogue: CatalogueEntry[], apiKey?: string): EnvironmentUrls {
    const meta = this.tokens.metadata(environment);
    const api = apiKey ? catalogue.find((e) => e.apiKey === apiKey && e.environment === environment) : undefined;
    return {
      environment,
      label: environmentLabel(environment),
      issuer: String(meta.issuer),
      tokenEndpoint: String(meta.token_endpoint),
      jwksUri: String(meta.jwks_uri),
      apiName: api?.apiName ?? null,
      apiBaseUrl: api?.baseUrl ?? null,
    };
  }

  /** The APIs and environments a caller can choose from. */
  async choices(): Promise<Array<{ apiKey: string; apiName: string }>> {
    const seen = new Map<string, string>();
    for (const e of await this.catalogue.catalogue()) seen.set(e.apiKey, e.apiName);
    return [...seen].map(([apiKey, apiName]) => ({ apiKey, apiName }));
  }
}

/** What people paste: `Bearer <token>`, a whole header, quotes or line breaks around it. */
function normalise(input: string): string {
  return input
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^bearer\s+/i, '')
    .replace(/^["']|["']$/g, '')
    .replace(/\s+/g, '');
}

/** A client secret, or HTTP Basic credentials that carry one. */
function looksLikeClientSecret(s: string): boolean {
  if (s.includes(SECRET_PREFIX)) return true;
  const basic = /^basic(.+)$/i.exec(s);
  if (!basic) return false;
  return Buffer.from(basic[1], 'base64').toString('utf8').includes(SECRET_PREFIX);
}

/** Header and claims of a compact JWS, read without trusting them: only to say what kind of thing this is. */
function decodeUnverified(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1] || token.length > 8192) return null;
  const header = parseJson(parts[0]);
  const claims = parseJson(parts[1]);
  return header && claims ? { header, claims } : null;
}

function parseJson(segment: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * When every secret that could have fetched a token issued at `issuedAt` is gone (retired at the end of a
 * rotation's overlap), the moment the last of them stopped working; otherwise null.
 */
function replacedSince(client: ClientRecord, issuedAt: Date, now: Date): Date | null {
  // iat is in whole seconds: a secret activated within the second before the next one may have fetched it.
  const t = issuedAt.getTime() + 999;
  const candidates = client.secrets.filter(
    (s) => s.activatedAt && s.activatedAt.getTime() <= t && (!s.endedAt || s.endedAt.getTime() > issuedAt.getTime()) && s.state !== 'pending_delivery',
  );
  if (!candidates.length) return null;
  let last = 0;
  for (const s of candidates) {
    const stopped = s.state === 'retired' ? (s.endedAt ?? s.retiresAt) : s.retiresAt && s.retiresAt.getTime() <= now.getTime() ? s.retiresAt : null;
    if (!stopped) return null;
    last = Math.max(last, stopped.getTime());
  }
  return new Date(last);
}
