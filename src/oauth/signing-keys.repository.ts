import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client.js';
import type { Environment } from '../generated/prisma/enums.js';
import { jsonObject } from '../prisma/json-column.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';

const COLUMNS = { kid: true, environment: true, publicJwk: true, privateKeyEnc: true, createdAt: true, signUntil: true, publishUntil: true } as const;
type StoredKey = Prisma.OauthSigningKeyGetPayload<{ select: typeof COLUMNS }>;

/** A signing key as stored; the public JWK is read back as a JSON object (see jsonObject). */
export type SigningKeyRow = Omit<StoredKey, 'publicJwk'> & { publicJwk: Record<string, unknown> };

const toRow = (row: StoredKey): SigningKeyRow => ({ ...row, publicJwk: jsonObject(row.publicJwk, 'oauth_signing_key.public_jwk') });

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Only one instance creates the next key of an environment; the others wait and then find it. */
  async lockEnvironment(tx: Tx, environment: Environment): Promise<void> {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${'oauth_signing_key:' + environment}))::text`;
  }

  /** A withdrawn key is left out by its mark, not only by the times the withdrawal set: another instance's clock may lag. */
  async currentSigner(db: Tx | PrismaService, environment: Environment, now: Date): Promise<SigningKeyRow | null> {
    const row = await db.oauthSigningKey.findFirst({
      where: { environment, withdrawnAt: null, signUntil: { gt: now }, createdAt: { lte: now } },
      orderBy: { createdAt: 'desc' },
      select: COLUMNS,
    });
    return row ? toRow(row) : null;
  }

  async successor(db: Tx | PrismaService, environment: Environment, from: Date): Promise<SigningKeyRow | null> {
    const row = await db.oauthSigningKey.findFirst({
      where: { environment, withdrawnAt: null, createdAt: { gte: from } },
      orderBy: { createdAt: 'desc' },
      select: COLUMNS,
    });
    return row ? toRow(row) : null;
  }

  async insert(tx: Tx, row: SigningKeyRow): Promise<void> {
    await tx.oauthSigningKey.create({ data: { ...row, publicJwk: row.publicJwk as Prisma.InputJsonObject } });
  }

  async published(environment: Environment, now: Date): Promise<SigningKeyRow[]> {
    const rows = await this.prisma.oauthSigningKey.findMany({
      where: { environment, withdrawnAt: null, publishUntil: { gt: now } },
      orderBy: { createdAt: 'desc' },
      select: COLUMNS,
    });
    return rows.map(toRow);
  }

  /** Revoked by its client (RFC 7009), or signed by a key that was withdrawn: one round trip either way. */
  async isRevoked(jti: string, kid: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<Array<{ refused: boolean }>>`
      SELECT EXISTS (SELECT 1 FROM oauth_revoked_token WHERE jti = ${jti})
          OR EXISTS (SELECT 1 FROM oauth_signing_key WHERE kid = ${kid} AND withdrawn_at IS NOT NULL) AS refused`;
    return rows[0]?.refused === true;
  }

  /** Takes a key out of signing and out of the JWKS now. Null when there is no such key or it was already withdrawn. */
  async withdraw(tx: Tx, kid: string, now: Date, reason: string): Promise<{ kid: string; environment: Environment } | null> {
    const rows = await tx.$queryRaw<Array<{ kid: string; environment: Environment }>>`
      UPDATE oauth_signing_key
         SET withdrawn_at = ${now}, withdrawn_reason = ${reason}, sign_until = LEAST(sign_until, ${now}), publish_until = ${now}
       WHERE kid = ${kid} AND withdrawn_at IS NULL
      RETURNING kid, environment::text AS environment`;
    return rows[0] ?? null;
  }

  /** Any key we ever made with this kid, withdrawn or long retired included (for explaining a token). */
  async byKid(kid: string): Promise<{ kid: string; environment: Environment; publicJwk: Record<string, unknown>; withdrawnAt: Date | null } | null> {
    return this.prisma.oauthSigningKey.findUnique({
      where: { kid },
      select: { kid: true, environment: true, publicJwk: true, withdrawnAt: true },
    }) as Promise<{ kid: string; environment: Environment; publicJwk: Record<string, unknown>; withdrawnAt: Date | null } | null>;
  }

  async withdrawnAmong(kids: string[]): Promise<string[]> {
    if (!kids.length) return [];
    const rows = await this.prisma.oauthSigningKey.findMany({ where: { kid: { in: kids }, withdrawnAt: { not: null } }, select: { kid: true } });
    return rows.map((r) => r.kid);
  }

  async list(): Promise<
    Array<{
      kid: string;
      environment: Environment;
      createdAt: Date;
      signUntil: Date;
      publishUntil: Date;
      withdrawnAt: Date | null;
      withdrawnReason: string | null;
    }>
  > {
    return this.prisma.oauthSigningKey.findMany({
      select: { kid: true, environment: true, createdAt: true, signUntil: true, publishUntil: true, withdrawnAt: true, withdrawnReason: true },
      orderBy: [{ environment: 'asc' }, { createdAt: 'desc' }],
    });
  }

  async revokeToken(data: { jti: string; environment: Environment; clientId: string; expiresAt: Date; revokedAt: Date }): Promise<void> {
    await this.prisma.oauthRevokedToken.upsert({ where: { jti: data.jti }, create: data, update: {} });
  }

  async purgeRevokedTokens(now: Date): Promise<number> {
    return (await this.prisma.oauthRevokedToken.deleteMany({ where: { expiresAt: { lt: now } } })).count;
  }
}
