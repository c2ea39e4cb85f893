import { Injectable } from '@nestjs/common';
import type { NotificationChannel, NotificationStatus } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';

export interface NewNotification {
  id: string;
  idempotencyKey: string;
  channel: NotificationChannel;
  template: string;
  language: 'en' | 'nl';
  recipientMasked: string;
  subjectType?: string;
  subjectId?: string;
  payloadEnc: string;
}

export interface NotificationRow {
  id: string;
  idempotencyKey: string;
  channel: NotificationChannel;
  template: string;
  language: 'en' | 'nl';
  recipientMasked: string;
  title: string | null;
  subjectType: string | null;
  subjectId: string | null;
  status: NotificationStatus;
  attempts: number;
  providerId: string | null;
  providerReason: string | null;
  payloadEnc: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
}

const FINAL: NotificationStatus[] = ['sent', 'failed', 'unknown'];

@Injectable()
export class NotificationRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One row per idempotency key: returns false when the key was already used (nothing is written). */
  async insertOnce(tx: Tx, n: NewNotification): Promise<boolean> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO notification (id, idempotency_key, channel, template, language, recipient_masked, subject_type, subject_id, payload_enc)
      VALUES (${n.id}::uuid, ${n.idempotencyKey}, ${n.channel}::"NotificationChannel", ${n.template}, ${n.language}::"Language",
              ${n.recipientMasked}, ${n.subjectType ?? null}, ${n.subjectId ?? null}, ${n.payloadEnc})
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id::text`;
    return rows.length === 1;
  }

  find(id: string): Promise<NotificationRow | null> {
    return this.prisma.notification.findUnique({ where: { id } });
  }

  /** Claims a queued SMS for one provider call: exactly one caller gets its attempt count back. */
  async claimForSending(id: string): Promise<{ attempts: number } | null> {
    const rows = await this.prisma.$queryRaw<Array<{ attempts: number }>>`
      UPDATE notification SET status = 'sending', attempts = attempts + 1, updated_at = now()
      WHERE id = ${id}::uuid AND status = 'queued' RETURNING attempts`;
    return rows[0] ?? null;
  }

  /** Marks an attempt on a queued email (email may be sent more than once; it is not claimed). */
  async countAttempt(id: string): Promise<number> {
    const rows = await this.prisma.$queryRaw<Array<{ attempts: number }>>`
      UPDATE notification SET attempts = attempts + 1, updated_at = now() WHERE id = ${id}::uuid AND status = 'queued' RETURNING attempts`;
    return rows[0]?.attempts ?? 0;
  }

  /** Back to queued after a definite failure, so the retry can claim it again. */
  async requeue(id: string, reason: string): Promise<void> {
    await this.prisma.notification.updateMany({
      where: { id, status: { in: ['queued', 'sending'] } },
      data: { status: 'queued', providerReason: reason, updatedAt: new Date() },
    });
  }

  /** A final status; the sealed payload (recipient, link, code) is wiped with it. */
  async finish(
    db: Tx | PrismaService,
    id: string,
    status: 'sent' | 'failed' | 'unknown',
    fields: { providerId?: string; providerReason?: string | null; title?: string; sentAt?: Date },
  ): Promise<boolean> {
    const r = await db.notification.updateMany({
      where: { id, status: { notIn: FINAL } },
      data: { status, payloadEnc: null, updatedAt: new Date(), ...fields },
    });
    return r.count === 1;
  }

  list(filter: { subjectType?: string; subjectId?: string; status?: NotificationStatus; limit: number }): Promise<NotificationRow[]> {
    return this.prisma.notification.findMany({
      where: { subjectType: filter.subjectType, subjectId: filter.subjectId, status: filter.status },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
    });
  }

  /**
   * Messages that need a person (the console's messages page): failed or unknown since `from`, and queued or
   * sending since before `queuedBefore`; newest first. `statuses` narrows to some of those kinds.
   */
  async needingAttention(filter: {
    kinds: Array<'failed' | 'unknown' | 'stuck'>;
    from: Date;
    queuedBefore: Date;
    channel?: NotificationChannel;
    subjectType?: string;
    subjectId?: string;
    limit: number;
  }): Promise<NotificationRow[]> {
    const ended = filter.kinds.filter((k): k is 'failed' | 'unknown' => k !== 'stuck');
    const or = [
      ...(ended.length ? [{ status: { in: ended }, updatedAt: { gte: filter.from } }] : []),
      ...(filter.kinds.includes('stuck') ? [{ status: { in: ['queued', 'sending'] as NotificationStatus[] }, createdAt: { lt: filter.queuedBefore } }] : []),
    ];
    if (!or.length) return [];
    return this.prisma.notification.findMany({
      where: { OR: or, channel: filter.channel, subjectType: filter.subjectType, subjectId: filter.subjectId },
      orderBy: { createdAt: 'desc' },
      take: filter.limit,
    });
  }

  /** Messages that failed for good or whose outcome is unknown, since `from`, oldest first (the staff home). */
  async undelivered(from: Date, limit = 200): Promise<NotificationRow[]> {
    return this.prisma.notification.findMany({
      where: { status: { in: ['failed', 'unknown'] }, updatedAt: { gte: from } },
      orderBy: { updatedAt: 'asc' },
      take: limit,
    });
  }
}
