import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { exportJWK, exportPKCS8, generateKeyPair, createLocalJWKSet, type JSONWebKeySet, type JWK } from 'jose';
import { createPrivateKey, createPublicKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { InvalidInputError, NotFoundError } from '../common/domain-error.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext, type RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { ENVIRONMENTS } from '../credentials/credential-format.js';
import type { Environment } from '../generated/prisma/enums.js';
import { JobQueue } from '../notifications/job-queue.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { SigningKeysRepository, type SigningKeyRow } from './signing-keys.repository.js';

const DAY_MS = 86_400_000;
/** Slack for clocks of resource servers and JWKS caches before an old public key is withdrawn. */
const PUBLISH_MARGIN_MS = 60 * 60 * 1000;
const PREPUBLISH_MS = DAY_MS;
/** How often an instance asks whether a key it signs with was withdrawn elsewhere. */
const WITHDRAWAL_CHECK_MS = 5_000;
const REVOCATION_RECHECK_MS = 500;
export const SIGNING_KEYS_QUEUE = 'oauth-signing-keys';

export interface Signer {
  kid: string;
  /** The private key as a Node KeyObject, for synchronous signing on the token path. */
  key: KeyObject;
  signUntil: Date;
}

/**
 * ES256 signing keys, one series per environment (each environment is its own issuer). Keys are made
 * by the service, the private half sealed with the master key (AAD = kid). A key signs for
 * `signingKeyRotationDays`; its public half stays in the JWKS until every token it signed has expired.
 * Rotation happens on first use after a key's time is up and from an hourly job, whichever comes first.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly signers = new Map<Environment, Signer>();
  private readonly pending = new Map<Environment, Promise<Signer>>();
  /**
   * The published keys per environment (the JWKS document and the verification keys): reloaded when a kid
   * is unknown, after 60 s, once the clock reaches the first key's publishUntil, and when a key is made,
   * rotated or withdrawn here (withdrawals elsewhere: within WITHDRAWAL_CHECK_MS, as for signers).
   */
  private readonly verifySets = new Map<
    Environment,
    { at: number; until: number; kids: Set<string>; jwks: JSONWebKeySet; set: ReturnType<typeof createLocalJWKSet>; byKid: Map<string, KeyObject> }
  >();
  /** jti -> when it was last found not revoked (monotonic ms); see isRevoked. */
  private readonly notRevoked = new Map<string, number>();
  /** Bumped by every revocation here, so an answer read before it is not cached after it. */
  private revocations = 0;
  private withdrawalTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: SigningKeysRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const env of ENVIRONMENTS) await this.signer(env);
    for (const env of ENVIRONMENTS) await this.prepublishNext(env);
    // Shared rows (keys, revoked tokens): hourly on one instance. Each instance still rotates on first use.
    this.queue.register(SIGNING_KEYS_QUEUE, { policy: 'stately', retryLimit: 2, retryDelay: 60, expireInSeconds: 300 }, () => this.maintain(), '17 * * * *');
    // Per instance: whether a key this process signs with was withdrawn elsewhere (its own cache).
    this.withdrawalTimer = setInterval(
      () => void this.dropWithdrawnSigners().catch((err) => this.logger.warn({ err }, 'signing key withdrawal check failed')),
      WITHDRAWAL_CHECK_MS,
    );
    this.withdrawalTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.withdrawalTimer) clearInterval(this.withdrawalTimer);
  }

  /**
   * Withdraws a signing key now (a compromise, say): it signs nothing more, leaves the JWKS, and introspection
   * answers `active: false` for its tokens. A new key takes over signing at once on this instance, and
   * within WITHDRAWAL_CHECK_MS on the others.
   */
  async withdraw(ctx: RequestContext, kid: string, reason: string): Promise<{ kid: string; environment: Environment; signingKid: string }> {
    const why = reason.trim().slice(0, 500);
    if (!why) throw new InvalidInputError('signing_key/reason_required', 'Say why the key is withdrawn.');
    const withdrawn = await this.prisma.transaction(async (tx) => {
      const w = await this.repo.withdraw(tx, kid, this.clock.now(), why);
      if (!w) throw new NotFoundError('signing_key/not_found', 'No signing key with this kid that is not already withdrawn.');
      await this.audit.record(tx, ctx, {
        action: 'oauth.signing_key_withdrawn',
        subjectType: 'oauth_signing_key',
        subjectId: kid,
        environment: w.environment,
        detail: { kid, reason: why },
      });
      return w;
    });
    this.forget(withdrawn.environment);
    this.revocations++;
    this.notRevoked.clear();
    const next = await this.signer(withdrawn.environment);
    return { kid, environment: withdrawn.environment, signingKid: next.kid };
  }

  /** The hourly job: rotates a key whose time is up, prepublishes successors, forgets expired revocations. */
  async maintain(): Promise<void> {
    for (const env of ENVIRONMENTS) {
      await this.signer(env);
      await this.prepublishNext(env);
    }
    await this.repo.purgeRevokedTokens(this.clock.now());
  }

  listKeys() {
    return this.repo.list();
  }

  private forget(environment: Environment): void {
    this.signers.delete(environment);
    this.verifySets.delete(environment);
  }

  private async dropWithdrawnSigners(): Promise<void> {
    const kids = new Set([...this.signers.values()].map((s) => s.kid));
    for (const v of this.verifySets.values()) for (const kid of v.kids) kids.add(kid);
    const withdrawn = new Set(await this.repo.withdrawnAmong([...kids]));
    for (const [env, s] of this.signers) if (withdrawn.has(s.kid)) this.forget(env);
    for (const [env, v] of this.verifySets) if ([...v.kids].some((kid) => withdrawn.has(kid))) this.verifySets.delete(env);
  }

  /** The key to sign with now; synchronous on the hot path once loaded. */
  signer(environment: Environment): Promise<Signer> {
    const s = this.signers.get(environment);
    if (s && s.signUntil.getTime() > this.clock.now().getTime()) return Promise.resolve(s);
    let p = this.pending.get(environment);
    if (!p) {
      p = this.loadOrRotate(environment).finally(() => this.pending.delete(environment));
      this.pending.set(environment, p);
    }
    return p;
  }

  /**
   * A day before the current key stops signing, its successor is made and published in the JWKS (dated to
   * start signing when the current one stops), so resource servers with a cached JWKS know it in time.
   */
  async prepublishNext(environment: Environment): Promise<string | null> {
    const now = this.clock.now();
    const current = await this.repo.currentSigner(this.prisma, environment, now);
    if (!current || current.signUntil.getTime() - now.getTime() > PREPUBLISH_MS) return null;
    return this.prisma.transaction(async (tx) => {
      await this.repo.lockEnvironment(tx, environment);
      const existing = await this.repo.successor(tx, environment, current.signUntil);
      if (existing) return existing.kid;
      const next = await this.generate(environment, current.signUntil);
      await this.repo.insert(tx, next);
      await this.audit.record(tx, systemContext(), {
        action: 'oauth.signing_key_prepublished',
        subjectType: 'oauth_signing_key',
        subjectId: next.kid,
        environment,
        detail: { kid: next.kid, signsFrom: next.createdAt.toISOString(), signUntil: next.signUntil.toISOString() },
      });
      this.verifySets.delete(environment);
      return next.kid;
    });
  }

  private async loadOrRotate(environment: Environment): Promise<Signer> {
    const now = this.clock.now();
    let row = await this.repo.currentSigner(this.prisma, environment, now);
    if (!row) {
      row = await this.prisma.transaction(async (tx) => {
        await this.repo.lockEnvironment(tx, environment);
        const existing = await this.repo.currentSigner(tx, environment, now);
        if (existing) return existing;
        const made = await this.generate(environment, now);
        await this.repo.insert(tx, made);
        await this.audit.record(tx, systemContext(), {
          action: 'oauth.signing_key_rotated',
          subjectType: 'oauth_signing_key',
          subjectId: made.kid,
          environment,
          detail: { kid: made.kid, signUntil: made.signUntil.toISOString(), publishUntil: made.publishUntil.toISOString() },
        });
        return made;
      });
      this.verifySets.delete(environment);
    }
    const key = createPrivateKey(this.config.masterKeys.open(row.privateKeyEnc, row.kid).toString('utf8'));
    const signer = { kid: row.kid, key, signUntil: row.signUntil };
    this.signers.set(environment, signer);
    // A key made by another instance: publish it here at once too.
    if (!this.verifySets.get(environment)?.kids.has(row.kid)) this.verifySets.delete(environment);
    return signer;
  }

  private async generate(environment: Environment, now: Date): Promise<SigningKeyRow> {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `${environment === 'production' ? 'prd' : 'acc'}-${now.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const jwk = await exportJWK(publicKey);
    const signUntil = new Date(now.getTime() + this.config.credentials.signingKeyRotationDays * DAY_MS);
    return {
      kid,
      environment,
      publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' },
      privateKeyEnc: this.config.masterKeys.seal(await exportPKCS8(privateKey), kid),
      createdAt: now,
      signUntil,
      publishUntil: new Date(signUntil.getTime() + this.config.credentials.tokenTtlSeconds * 1000 + PUBLISH_MARGIN_MS),
    };
  }

  async jwks(environment: Environment): Promise<JSONWebKeySet> {
    return (await this.verificationSet(environment, undefined)).jwks;
  }

  /** A key set for verifying our own tokens (introspection, revocation); reloaded when a kid is unknown. */
  async verificationKeys(environment: Environment, kid: string | undefined): Promise<ReturnType<typeof createLocalJWKSet>> {
    return (await this.verificationSet(environment, kid)).set;
  }

  /** The public key of a published kid as a Node KeyObject, for synchronous verification on the introspection path. */
  async verificationKey(environment: Environment, kid: string): Promise<KeyObject | undefined> {
    return (await this.verificationSet(environment, kid)).byKid.get(kid);
  }

  private async verificationSet(environment: Environment, kid: string | undefined) {
    const cached = this.verifySets.get(environment);
    const now = this.clock.now().getTime();
    if (cached && (!kid || cached.kids.has(kid)) && Date.now() - cached.at < 60_000 && now < cached.until) return cached;
    const rows = await this.repo.published(environment, new Date(now));
    const jwks: JSONWebKeySet = { keys: rows.map((r) => r.publicJwk as JWK) };
    const byKid = new Map(jwks.keys.map((k) => [String(k.kid), createPublicKey({ key: k as JsonWebKey, format: 'jwk' })]));
    const until = Math.min(...rows.map((r) => r.publishUntil.getTime()));
    const entry = { at: Date.now(), until, kids: new Set(byKid.keys()), jwks, set: createLocalJWKSet(jwks), byKid };
    this.verifySets.set(environment, entry);
    return entry;
  }

  /**
   * Any signing key we made, by kid, with its public half as a KeyObject: also keys withdrawn or no longer
   * published, so a token can be told apart as "ours, but its key was withdrawn" from "not ours".
   */
  async describeKey(kid: string): Promise<{ kid: string; environment: Environment; key: KeyObject; withdrawnAt: Date | null } | null> {
    if (!kid || kid.length > 200) return null;
    const row = await this.repo.byKid(kid);
    if (!row) return null;
    const key = createPublicKey({ key: row.publicJwk as JsonWebKey, format: 'jwk' });
    return { kid: row.kid, environment: row.environment, key, withdrawnAt: row.withdrawnAt };
  }

  /**
   * A token found not revoked is not asked about again for REVOCATION_RECHECK_MS, so a resource server
   * introspecting the same token per request costs one query per half second, not one per request; a
   * revocation on another instance therefore reaches this one within that time (well inside a second),
   * and one made here at once. Real time, not the injected clock: this bounds staleness, not business time.
   * Revoked also means signed by a key that was withdrawn.
   */
  async isRevoked(jti: string, kid: string): Promise<boolean> {
    const checked = this.notRevoked.get(jti);
    if (checked !== undefined && performance.now() - checked < REVOCATION_RECHECK_MS) return false;
    const startedAt = performance.now();
    const generation = this.revocations;
    const revoked = await this.repo.isRevoked(jti, kid);
    if (revoked) this.notRevoked.delete(jti);
    else if (generation === this.revocations) {
      if (this.notRevoked.size >= 50_000) this.notRevoked.clear();
      this.notRevoked.set(jti, startedAt);
    }
    return revoked;
  }

  async revokeToken(data: { jti: string; environment: Environment; clientId: string; expiresAt: Date }): Promise<void> {
    this.revocations++;
    this.notRevoked.delete(data.jti);
    await this.repo.revokeToken({ ...data, revokedAt: this.clock.now() });
    this.revocations++;
    this.notRevoked.delete(data.jti);
  }
}
