import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { JobQueue } from '../notifications/job-queue.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { StaffService } from '../staff/staff.service.js';
import { ageOf } from '../web/age.js';
import { ReviewerDigestRepository } from './reviewer-digest.repository.js';
import { StaffHomeService } from './staff-home.service.js';

export const REVIEWER_DIGEST_QUEUE = 'reviewer-digest';

/** pg-boss cron for "every N minutes" (N from 1 to 60). */
export function digestCron(minutes: number): string {
  return minutes >= 60 ? '0 * * * *' : `*/${minutes} * * * *`;
}

/**
 * Every REVIEWER_DIGEST_MINUTES, each reviewer with items newly waiting for them (not in their last digest)
 * gets one email listing them. Batched instead of one mail per event. A pg-boss schedule runs the batch on one
 * instance per period; should two runs meet anyway, each reviewer's digest row is moved on by a conditional
 * statement in the same transaction as the queued email, so a reviewer gets one digest per batch.
 */
@Injectable()
export class ReviewerDigest implements OnModuleInit {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: ReviewerDigestRepository,
    private readonly home: StaffHomeService,
    private readonly staff: StaffService,
    private readonly notifications: NotificationsService,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.queue.register(
      REVIEWER_DIGEST_QUEUE,
      { retryLimit: 1, retryDelay: 60, expireInSeconds: 300 },
      async () => void (await this.run()),
      digestCron(this.config.onboarding.reviewerDigestMinutes),
    );
  }

  /** Sends the digests due now; returns how many were queued (those another run claimed first are skipped). */
  async run(): Promise<number> {
    const now = this.clock.now();
    const reviewers = (await this.staff.list()).filter((s) => !s.disabled && (s.role === 'reviewer' || s.role === 'admin'));
    return this.prisma.transaction(
      async (tx) => {
        let sent = 0;
        for (const r of reviewers) {
          const last = await this.repo.last(tx, r.id);
          const waiting = await this.home.forReview({ staffId: r.id, role: r.role }, now);
          const seen = new Set(last?.keys ?? []);
          const items = waiting.filter((i) => !seen.has(i.key));
          if (
            !items.length ||
            !(await this.repo.claim(
              tx,
              r.id,
              last,
              now,
              waiting.map((i) => i.key),
            ))
          )
            continue;
          await this.notifications.enqueueEmail(tx, {
            to: r.email,
            template: 'reviewer-digest',
            language: 'en',
            idempotencyKey: `reviewer-digest:${r.id}:${now.toISOString()}`,
            subject: { type: 'staff_account', id: r.id },
            data: {
              recipientName: r.name,
              minutes: this.config.onboarding.reviewerDigestMinutes,
              homeUrl: `${this.config.publicBaseUrl}/console/home`,
              items: items
                .slice(0, 50)
                .map((i) => ({ title: i.title, detail: i.detail ?? '', waiting: ageOf(i.since, now), url: `${this.config.publicBaseUrl}${i.href}` })),
            },
          });
          sent++;
        }
        return sent;
      },
      { timeoutMs: 60_000 },
    );
  }
}
