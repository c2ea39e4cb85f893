import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { systemContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { JobQueue } from '../notifications/job-queue.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { environmentLabel } from './credential-format.js';
import { CredentialsRepository } from './credentials.repository.js';
import { DAY_MS } from './credentials.service.js';

export const EXPIRY_REMINDER_QUEUE = 'credential-expiry-reminders';
export const REMINDER_DAYS = [30, 14, 7, 1] as const;

/**
 * Records each secret's expiry in the audit trail once, and reminds the technical contact and staff that a secret expires in 30, 14, 7 and 1 days. A pg-boss schedule
 * runs it hourly on one instance; even if several instances run it, each (secret, threshold) has one
 * notification idempotency key, so every reminder goes out once.
 */
@Injectable()
export class ExpiryReminders implements OnModuleInit {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: CredentialsRepository,
    private readonly notifications: NotificationsService,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.queue.register(EXPIRY_REMINDER_QUEUE, { retryLimit: 2, retryDelay: 60, expireInSeconds: 600 }, async () => void (await this.run()), '7 * * * *');
  }

  /** Records secrets that expired (once each), then enqueues the reminders due now. */
  async run(): Promise<number> {
    const now = this.clock.now();
    await this.prisma.transaction(async (tx) => {
      for (const e of await this.repo.endExpiredSecrets(tx, now)) {
        await this.audit.record(tx, systemContext(), {
          action: 'credential.secret_expired',
          subjectType: 'credential',
          subjectId: e.credentialId,
          environment: e.environment,
          detail: { clientId: e.clientId, secretId: e.secretId, expiredAt: e.expiresAt.toISOString() },
        });
        await this.repo.notifyChanged(tx, e.clientId);
      }
    });
    const due = await this.repo.activeSecretsExpiringBetween(now, new Date(now.getTime() + REMINDER_DAYS[0] * DAY_MS));
    let n = 0;
    for (const s of due) {
      const left = s.expiresAt.getTime() - now.getTime();
      // The nearest threshold reached: a reminder missed while the service was down is not sent late as well.
      const days = [...REMINDER_DAYS].reverse().find((d) => left <= d * DAY_MS)!;
      const c = await this.repo.detail(s.credentialId);
      if (!c || c.state !== 'active') continue;
      const secret = c.secrets.find((x) => x.id === s.secretId)!;
      const data = {
        days,
        partnerName: c.partnerName,
        apiName: c.apiName,
        environmentLabel: environmentLabel(c.environment),
        clientId: c.clientId,
        secretHint: secret.hint,
        expiresAt: `${s.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        rotateUrl: `${this.config.publicBaseUrl}/rotate`,
        consoleUrl: `${this.config.publicBaseUrl}/console/credentials/${c.id}`,
      };
      const subject = { type: 'credential', id: c.id };
      await this.prisma.transaction(async (tx) => {
        await this.notifications.enqueueEmail(tx, {
          to: c.contact.email,
          template: 'secret-expiry-reminder',
          language: c.contact.language,
          data: { ...data, recipientName: c.contact.name, forStaff: false },
          idempotencyKey: `credential-secret:${s.secretId}:expiry-reminder:${days}:contact`,
          subject,
        });
        if (this.config.staffAlertEmail) {
          await this.notifications.enqueueEmail(tx, {
            to: this.config.staffAlertEmail,
            template: 'secret-expiry-reminder',
            language: 'en',
            data: { ...data, recipientName: 'Business Journeys team', forStaff: true },
            idempotencyKey: `credential-secret:${s.secretId}:expiry-reminder:${days}:staff`,
            subject,
          });
        }
      });
      n++;
    }
    return n;
  }
}
