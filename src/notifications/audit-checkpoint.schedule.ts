import { Inject, Injectable, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { systemContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { JobQueue } from './job-queue.js';
import { NotificationsService } from './notifications.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { SignedCheckpoint } from '../audit/checkpoint.js';

export const CHECKPOINT_QUEUE = 'audit-checkpoint';

/** pg-boss cron for "every N seconds", rounded up to whole minutes (its finest period) and to hours past 59 minutes. */
export function checkpointCron(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  if (minutes < 60) return `*/${minutes} * * * *`;
  return `0 */${Math.min(24, Math.ceil(minutes / 60))} * * *`;
}

/**
 * Signs a checkpoint every AUDIT_CHECKPOINT_INTERVAL_SECONDS when the chain moved, and once a day emails the
 * latest one to STAFF_ALERT_EMAIL (one email per UTC day across instances: the notification's idempotency key).
 * A pg-boss schedule runs it on one instance per period; "moved" is judged against the newest checkpoint in
 * the checkpoint directory, not this process's memory, so whichever instance runs it writes no duplicate.
 * Lives beside the senders, not in audit/, so that audit stays the leaf that imports no feature.
 */
@Injectable()
export class CheckpointSchedule implements OnModuleInit, OnModuleDestroy {
  private running?: Promise<void>;

  constructor(
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly prisma: PrismaService,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const seconds = this.config.audit.checkpointIntervalSeconds;
    this.queue.register(
      CHECKPOINT_QUEUE,
      { policy: 'stately', retryLimit: 2, retryDelay: 30, expireInSeconds: 300 },
      () => this.tick(),
      seconds > 0 ? checkpointCron(seconds) : null,
    );
  }

  /** A round in progress finishes first: the database it uses closes after this module. */
  async onModuleDestroy(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** One round: a new checkpoint if the chain moved since the last one, then today's email if not sent yet. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    await this.audit.sealPending();
    const head = await this.audit.head();
    let last = await this.audit.latestCheckpoint();
    if (!last || last.seq !== head.seq.toString()) last = await this.audit.checkpoint();
    await this.mailDaily(last);
  }

  /** Queues today's checkpoint email; false when it was queued earlier today (here or on another instance). */
  async mailDaily(c: SignedCheckpoint): Promise<boolean> {
    const to = this.config.staffAlertEmail;
    if (!to) return false;
    const day = this.clock.now().toISOString().slice(0, 10);
    const { type, version, seq, headHash, keyedFrom, signedAt, keyId, signature } = c;
    return this.prisma.transaction(async (tx) => {
      const queued = await this.notifications.enqueueEmailOnce(tx, {
        to,
        template: 'audit-checkpoint',
        language: 'en',
        data: {
          day,
          seq,
          headHash,
          signedAt,
          keyId,
          checkpointJson: JSON.stringify({ type, version, seq, headHash, keyedFrom, signedAt, keyId, signature }, null, 2),
        },
        idempotencyKey: `audit-checkpoint:${day}`,
        subject: { type: 'audit_chain', id: day },
      });
      if (queued)
        await this.audit.record(tx, systemContext(), { action: 'audit.checkpoint_mailed', subjectType: 'audit_chain', subjectId: day, detail: { seq, keyId } });
      return queued;
    });
  }
}

@Module({ providers: [CheckpointSchedule] })
export class CheckpointScheduleModule {}
