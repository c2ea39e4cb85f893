import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { StaffPendingPurpose } from '../generated/prisma/enums.js';

export interface PendingLogin {
  id: string;
  staffId: string;
  purpose: StaffPendingPurpose;
  totpSecretEnc: string | null;
  attempts: number;
  expiresAt: Date;
}

const SELECT = { id: true, staffId: true, purpose: true, totpSecretEnc: true, attempts: true, expiresAt: true } as const;

@Injectable()
export class PendingLoginRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(
    tx: Tx,
    p: {
      tokenHash: string;
      staffId: string;
      purpose: StaffPendingPurpose;
      totpSecretEnc: string | null;
      expiresAt: Date;
      ip: string | null;
      now: Date;
      id?: string;
    },
  ): Promise<string> {
    const id = p.id ?? randomUUID();
    await tx.staffPendingLogin.create({
      data: {
        id,
        tokenHash: p.tokenHash,
        staffId: p.staffId,
        purpose: p.purpose,
        totpSecretEnc: p.totpSecretEnc,
        expiresAt: p.expiresAt,
        ip: p.ip,
        createdAt: p.now,
      },
    });
    return id;
  }

  /** For rendering a page: a live record, without counting an attempt. */
  findLive(tokenHash: string, now: Date): Promise<PendingLogin | null> {
    return this.prisma.staffPendingLogin.findFirst({ where: { tokenHash, consumedAt: null, expiresAt: { gt: now } }, select: SELECT });
  }

  /** Counts one attempt on a live record, in one conditional UPDATE; null when it is used up, expired or unknown. */
  async takeAttempt(tokenHash: string, now: Date, maxAttempts: number): Promise<PendingLogin | null> {
    const rows = await this.prisma.$queryRaw<
      Array<{ id: string; staff_id: string; purpose: StaffPendingPurpose; totp_secret_enc: string | null; attempts: number; expires_at: Date }>
    >`
      UPDATE staff_pending_login SET attempts = attempts + 1
       WHERE token_hash = ${tokenHash} AND consumed_at IS NULL AND expires_at > ${now} AND attempts < ${maxAttempts}
      RETURNING id::text, staff_id::text, purpose::text AS purpose, totp_secret_enc, attempts, expires_at`;
    const r = rows[0];
    return r ? { id: r.id, staffId: r.staff_id, purpose: r.purpose, totpSecretEnc: r.totp_secret_enc, attempts: r.attempts, expiresAt: r.expires_at } : null;
  }

  async consume(tx: Tx, id: string, now: Date): Promise<boolean> {
    const r = await tx.staffPendingLogin.updateMany({ where: { id, consumedAt: null }, data: { consumedAt: now } });
    return r.count === 1;
  }

  async consumeAllOf(tx: Tx, staffId: string, now: Date): Promise<void> {
    await tx.staffPendingLogin.updateMany({ where: { staffId, consumedAt: null }, data: { consumedAt: now } });
  }

  async purgeExpiredBefore(before: Date): Promise<number> {
    return (await this.prisma.staffPendingLogin.deleteMany({ where: { expiresAt: { lt: before } } })).count;
  }
}
