import { Injectable } from '@nestjs/common';
import type { Tx } from '../prisma/prisma.service.js';

export interface LastDigest {
  sentAt: Date;
  keys: string[];
}

@Injectable()
export class ReviewerDigestRepository {
  async last(tx: Tx, staffId: string): Promise<LastDigest | null> {
    const row = await tx.reviewerDigest.findUnique({ where: { staffId }, select: { lastSentAt: true, sentKeys: true } });
    return row ? { sentAt: row.lastSentAt, keys: row.sentKeys } : null;
  }

  /**
   * Claims this reviewer's batch: moves the row on from what was read, in one conditional statement, so
   * two senders that both read the same digest cannot both send.
   */
  async claim(tx: Tx, staffId: string, previous: LastDigest | null, at: Date, keys: string[]): Promise<boolean> {
    const n = previous
      ? await tx.$executeRaw`UPDATE reviewer_digest SET last_sent_at = ${at}, sent_keys = ${keys}::text[] WHERE staff_id = ${staffId}::uuid AND last_sent_at = ${previous.sentAt}`
      : await tx.$executeRaw`INSERT INTO reviewer_digest (staff_id, last_sent_at, sent_keys) VALUES (${staffId}::uuid, ${at}, ${keys}::text[]) ON CONFLICT (staff_id) DO NOTHING`;
    return n === 1;
  }
}
