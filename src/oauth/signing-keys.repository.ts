import { Injectable } from '@nestjs/common';
import type { Environment } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';

export interface SigningKeyRow {
  kid: string;
  environment: Environment;
  publicJwk: Record<string, unknown>;
  privateKeyEnc: string;
  createdAt: Date;
  signUntil: Date;
  publishUntil: Date;
}

@Injectable()
export class SigningKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Only one instance creates the next key of an environment; the others wait and then find it. */
  async lockEnvironment(tx: Tx, environment: Environment): Promise<void> {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${'oauth_signing_key:' + environment}))::text`;
  }

  async currentSigner(db: Tx | PrismaService, environment: Environment, now: Date): Promise<SigningKeyRow | null> {
    const row = await db.oauthSigningKey.findFirst({ where: { environment, signUntil: { gt: now }, createdAt: { lte: now } }, orderBy: { createdAt: 'desc' } });
    return row ? (row as unknown as SigningKeyRow) : null;
  }

  async successor(db: Tx | PrismaService, environment: Environment, from: Date): Promise<SigningKeyRow | null> {
    const row = await db.oauthSigningKey.findFirst({ where: { environment, createdAt: { gte: from } }, orderBy: { createdAt: 'desc' } });
    return row ? (row as unknown as SigningKeyRow) : null;
  }

  async insert(tx: Tx, row: SigningKeyRow): Promise<void> {
    await tx.oauthSigningKey.create({ data: { ...row, publicJwk: row.publicJwk as object } });
  }

  async published(environment: Environment, now: Date): Promise<SigningKeyRow[]> {
    const rows = await this.prisma.oauthSigningKey.findMany({ where: { environment, publishUntil: { gt: now } }, orderBy: { createdAt: 'desc' } });
    return rows as unknown as SigningKeyRow[];
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.prisma.oauthRevokedToken.count({ where: { jti } })) > 0;
  }

  async revokeToken(data: { jti: string; environment: Environment; clientId: string; expiresAt: Date; revokedAt: Date }): Promise<void> {
    await this.prisma.oauthRevokedToken.upsert({ where: { jti: data.jti }, create: data, update: {} });
  }

  async purgeRevokedTokens(now: Date): Promise<number> {
    return (await this.prisma.oauthRevokedToken.deleteMany({ where: { expiresAt: { lt: now } } })).count;
  }
}
