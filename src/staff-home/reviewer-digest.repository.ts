import { Injectable } from '@nestjs/common';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';

/** Arbitrary but fixed: the transaction-scoped advisory lock that lets one instance send a batch at a time. */
const DIGEST_LOCK = 72_707_412;

@Injectable()
export class ReviewerDigestRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** True when this transaction now holds the digest lock; another instance holding it means it is sending. */
  async tryLock(tx: Tx): Promise<boolean> {
    const rows = await tx.$queryRaw<Array<{ ok: boolean }>>`SELECT pg_try_advisory_xact_lock(${DIGEST_LOCK}) AS ok`;
    return rows[0]?.ok === true;
  }

  async lastSent(tx: Tx, staffId: string): Promise<Date | null> {
    return (await tx.reviewerDigest.findUnique({ where: { staffId }, select: { lastSentAt: true } }))?.lastSentAt ?? null;
  }

  /**
   * Claims this reviewer's batch: moves `last_sent_at` from what was read to `at` in one conditional
   * statement, so two senders that both read the same value cannot both send.
   */
  async claim(tx: Tx, staffId: string, previous: Date | null, at: Date): Promise<boolean> {
    if (previous === null) {
      const n = await tx.$executeRaw`INSERT INTO reviewer_digest (staff_id, last_sent_at) VALUES (${staffId}::uuid, ${at}) ON CONFLICT (staff_id) DO NOTHING`;
      return n === 1;
    }
    const n = await tx.$executeRaw`UPDATE reviewer_digest SET last_sent_at = ${at} WHERE staff_id = ${staffId}::uuid AND last_sent_at = ${previous}`;
    return n === 1;
  }
}
