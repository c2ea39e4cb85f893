import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { NotificationsService } from './notifications.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { SignedCheckpoint } from '../audit/checkpoint.js';

/**
 * Signs a checkpoint every AUDIT_CHECKPOINT_INTERVAL_SECONDS when the chain moved, and once a day emails the
 * latest one to STAFF_ALERT_EMAIL (one email per UTC day across instances: the notification's idempotency key).
 * Lives beside the senders, not in audit/, so that audit stays the leaf that imports no feature.
 */
@Injectable()
export class CheckpointSchedule implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private last?: SignedCheckpoint;
  private running?: Promise<void>;

  constructor(
    private readonly audit: AuditService,
    private readonly notifications: NotificationsService,
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.audit.checkpointIntervalSeconds;
    if (seconds > 0) {
      this.timer = setInterval(
        () => void this.tick().catch((err: Error) => this.logger.error({ err: { type: err.name, message: err.message } }, 'audit checkpoint failed')),
        seconds * 1000,
      );
      this.timer.unref();
    }
  }

  /** A round in progress finishes first: the database it uses closes after this module. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
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
    if (!this.last || this.last.seq !== head.seq.toString()) this.last = await this.audit.checkpoint();
    await this.mailDaily(this.last);
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
