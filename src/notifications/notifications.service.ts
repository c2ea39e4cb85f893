import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { JobWithMetadata } from 'pg-boss';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { isE164 } from '../common/phone.js';
import { Clock } from '../common/clock.js';
import { InvalidInputError } from '../common/domain-error.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { NotificationStatus } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { JobQueue } from './job-queue.js';
import { maskEmail, maskPhone } from './mask.js';
import { NotificationRepository, type NotificationRow } from './notification.repository.js';
import type { EmailMessage, SmsMessage } from './notifications.types.js';
import { MessageSender, type SendOutcome } from './senders.js';
import { TemplateRenderer } from './templates.js';

export const EMAIL_QUEUE = 'notification-email';
export const SMS_QUEUE = 'notification-sms';

interface SealedPayload {
  to: string;
  data: Record<string, unknown>;
}

export interface NotificationView {
  id: string;
  channel: 'email' | 'sms';
  template: string;
  recipient: string;
  title: string | null;
  subjectType: string | null;
  subjectId: string | null;
  status: NotificationStatus;
  attempts: number;
  providerId: string | null;
  providerReason: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
}

/**
 * Data a template needs that must not wait in the queue (a delivery link): made by its owner right before
 * each send attempt. Null means the message is no longer wanted; it is closed without sending.
 */
export type LateData = (data: Record<string, unknown>) => Promise<Record<string, unknown> | null>;

/**
 * A check its owner runs right before an SMS of a template goes to the provider (e.g. a SIM change since the
 * message was queued): `send`, `withhold` (closed unsent, with the reason) or `retry` (no answer now: try later).
 */
export type SmsSendCheck = (data: Record<string, unknown>) => Promise<'send' | { withhold: string } | { retry: string }>;

const EMAIL = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

/**
 * Email and SMS, enqueued in the caller's transaction (the job and the notification row commit or roll back
 * with the change that causes them) and sent after commit by pg-boss workers, with retries and backoff.
 * The recipient and template data are sealed with the master key until the message reaches a final status.
 */
@Injectable()
export class NotificationsService implements OnModuleInit {
  private readonly lateData = new Map<string, LateData>();
  private readonly smsChecks = new Map<string, SmsSendCheck>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repo: NotificationRepository,
    private readonly queue: JobQueue,
    private readonly templates: TemplateRenderer,
    private readonly sender: MessageSender,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.queue.register(EMAIL_QUEUE, { retryLimit: 12, retryDelay: 15, retryBackoff: true, retryDelayMax: 3600, expireInSeconds: 300 }, (job) =>
      this.handleEmail(job),
    );
    // An SMS job that outlives its expiry is treated as interrupted mid-send (status stays `sending`): not resent.
    this.queue.register(SMS_QUEUE, { retryLimit: 6, retryDelay: 10, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 120 }, (job) =>
      this.handleSms(job),
    );
  }

  registerLateData(template: string, provider: LateData): void {
    if (this.lateData.has(template)) throw new Error(`late data for "${template}" is already registered`);
    this.lateData.set(template, provider);
  }

  registerSmsSendCheck(template: string, check: SmsSendCheck): void {
    if (this.smsChecks.has(template)) throw new Error(`an SMS send check for "${template}" is already registered`);
    this.smsChecks.set(template, check);
  }

  async enqueueEmail(tx: Tx, m: EmailMessage): Promise<void> {
    await this.enqueueEmailOnce(tx, m);
  }

  /** Like `enqueueEmail`; resolves false when a message with the same idempotency key was queued before. */
  async enqueueEmailOnce(tx: Tx, m: EmailMessage): Promise<boolean> {
    if (!EMAIL.test(m.to)) throw new InvalidInputError('notification/invalid_email', 'The email address is not valid.');
    if (!this.templates.exists(m.template, 'email')) throw new Error(`no email template "${m.template}"`);
    return this.enqueue(tx, 'email', m, maskEmail(m.to), EMAIL_QUEUE);
  }

  async enqueueSms(tx: Tx, m: SmsMessage): Promise<void> {
    if (!isE164(m.to)) throw new InvalidInputError('notification/invalid_mobile', 'The mobile number must be in international format, e.g. +31612345678.');
    if (!this.templates.exists(m.template, 'sms')) throw new Error(`no SMS template "${m.template}"`);
    await this.enqueue(tx, 'sms', m, maskPhone(m.to), SMS_QUEUE);
  }

  /** Runs due notification jobs in this process (tests, CLI); `includeDelayed` also runs those waiting to retry. */
  drain(opts: { includeDelayed?: boolean } = {}): Promise<number> {
    return this.queue.drain({ ...opts, queues: [EMAIL_QUEUE, SMS_QUEUE] });
  }

  /** Starts polling workers in a process where they are off (tests that want the real worker loop). */
  start(): Promise<void> {
    return this.queue.startWorkers();
  }

  async list(filter: { subjectType?: string; subjectId?: string; status?: NotificationStatus; limit?: number }): Promise<NotificationView[]> {
    const rows = await this.repo.list({ ...filter, limit: Math.min(filter.limit ?? 50, 200) });
    return rows.map(toView);
  }

  /** What the console's messages page lists: failed, unknown, or queued too long (see QUEUED_TOO_LONG_MINUTES); never a payload. */
  async needingAttention(
    filter: { kinds: Array<'failed' | 'unknown' | 'stuck'>; channel?: 'email' | 'sms'; subjectType?: string; subjectId?: string },
    now: Date,
  ): Promise<NotificationView[]> {
    const rows = await this.repo.needingAttention({
      ...filter,
      from: new Date(now.getTime() - ATTENTION_DAYS * 86_400_000),
      queuedBefore: new Date(now.getTime() - QUEUED_TOO_LONG_MINUTES * 60_000),
      limit: 200,
    });
    return rows.map(toView);
  }

  private async enqueue(tx: Tx, channel: 'email' | 'sms', m: EmailMessage | SmsMessage, recipientMasked: string, queue: string): Promise<boolean> {
    if (!m.idempotencyKey || m.idempotencyKey.length > 200) throw new Error('a notification needs an idempotency key (at most 200 characters)');
    const id = randomUUID();
    const payload: SealedPayload = { to: m.to, data: m.data };
    const inserted = await this.repo.insertOnce(tx, {
      id,
      idempotencyKey: m.idempotencyKey,
      channel,
      template: m.template,
      language: m.language,
      recipientMasked,
      subjectType: m.subject?.type,
      subjectId: m.subject?.id,
      payloadEnc: this.config.masterKeys.seal(JSON.stringify(payload), `notification:${id}`),
    });
    // The job carries only the notification id; the sealed payload stays in our row and is wiped after sending.
    if (inserted) await this.queue.send(tx, queue, { notificationId: id }, { id });
    return inserted;
  }

  private payloadOf(n: NotificationRow): SealedPayload {
    return JSON.parse(this.config.masterKeys.open(n.payloadEnc!, `notification:${n.id}`).toString('utf8')) as SealedPayload;
  }

  private async handleEmail(job: JobWithMetadata<Record<string, unknown>>): Promise<void> {
    const n = await this.repo.find(String(job.data.notificationId));
    if (!n || n.status !== 'queued' || !n.payloadEnc) return;
    let payload: SealedPayload;
    let rendered;
    try {
      payload = this.payloadOf(n);
    } catch (err) {
      return this.fail(n, `could not render the message: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
    }
    const late = this.lateData.get(n.template);
    let extra: Record<string, unknown> | null;
    try {
      extra = late ? await late(payload.data) : {};
    } catch (err) {
      const reason = `could not prepare the message: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`;
      return this.retryOrGiveUp(job, n, { kind: 'retry', reason }, await this.repo.countAttempt(n.id));
    }
    if (!extra) {
      await this.repo.finish(this.prisma, n.id, 'failed', { providerReason: 'not sent: no longer needed (its subject was closed before it could be sent)' });
      return;
    }
    try {
      rendered = this.templates.email(n.template, n.language, { ...payload.data, ...extra });
    } catch (err) {
      return this.fail(n, `could not render the message: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
    }
    const attempts = await this.repo.countAttempt(n.id);
    const outcome = await this.sender.sendEmail({ to: payload.to, template: n.template, rendered, idempotencyKey: n.idempotencyKey, notificationId: n.id });
    if (outcome.kind === 'sent') {
      await this.repo.finish(this.prisma, n.id, 'sent', {
        providerId: outcome.providerId,
        title: rendered.subject,
        sentAt: this.clock.now(),
        providerReason: null,
      });
      return;
    }
    if (outcome.kind === 'permanent') return this.fail(n, outcome.reason, rendered.subject);
    // Email is at-least-once: a lost answer is retried like a refused connection.
    await this.retryOrGiveUp(job, n, outcome, attempts);
  }

  private async handleSms(job: JobWithMetadata<Record<string, unknown>>): Promise<void> {
    const n = await this.repo.find(String(job.data.notificationId));
    if (!n) return;
    if (n.status === 'sending') {
      // A previous attempt was interrupted after claiming the message: Twilio may have sent it.
      return this.markUnknown(n, 'interrupted while sending; not resent automatically');
    }
    if (n.status !== 'queued' || !n.payloadEnc) return;
    let payload: SealedPayload;
    let body: string;
    try {
      payload = this.payloadOf(n);
      body = this.templates.sms(n.template, n.language, payload.data);
    } catch (err) {
      return this.fail(n, `could not render the message: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
    }
    const check = this.smsChecks.get(n.template);
    if (check) {
      const verdict = await check(payload.data).catch((err: unknown) => ({
        retry: `could not check: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`,
      }));
      if (verdict !== 'send' && 'retry' in verdict)
        return this.retryOrGiveUp(job, n, { kind: 'retry', reason: verdict.retry }, await this.repo.countAttempt(n.id));
      if (verdict !== 'send') return void (await this.repo.finish(this.prisma, n.id, 'failed', { providerReason: `not sent: ${verdict.withhold}` }));
    }
    const claimed = await this.repo.claimForSending(n.id);
    if (!claimed) return;
    const outcome = await this.sender.sendSms({ to: payload.to, template: n.template, body, idempotencyKey: n.idempotencyKey });
    if (outcome.kind === 'sent') {
      await this.repo.finish(this.prisma, n.id, 'sent', { providerId: outcome.providerId, sentAt: this.clock.now(), providerReason: null });
      return;
    }
    if (outcome.kind === 'permanent') return this.fail(n, outcome.reason);
    if (outcome.kind === 'ambiguous') return this.markUnknown(n, outcome.reason);
    await this.retryOrGiveUp(job, n, outcome, claimed.attempts);
  }

  private async retryOrGiveUp(
    job: JobWithMetadata<Record<string, unknown>>,
    n: NotificationRow,
    outcome: Extract<SendOutcome, { reason: string }>,
    attempts: number,
  ): Promise<void> {
    if (job.retryCount >= job.retryLimit) return this.fail(n, `gave up after ${attempts} attempts: ${outcome.reason}`);
    await this.repo.requeue(n.id, outcome.reason);
    this.logger.warn({ notificationId: n.id, channel: n.channel, template: n.template, attempts, reason: outcome.reason }, 'notification not sent; will retry');
    throw new Error(outcome.reason);
  }

  private async fail(n: NotificationRow, reason: string, title?: string): Promise<void> {
    await this.prisma.transaction(async (tx) => {
      if (!(await this.repo.finish(tx, n.id, 'failed', { providerReason: reason, title }))) return;
      await this.audit.record(tx, systemContext(), {
        action: 'notification.failed',
        subjectType: n.subjectType ?? 'notification',
        subjectId: n.subjectId ?? n.id,
        detail: { notificationId: n.id, channel: n.channel, template: n.template, recipient: n.recipientMasked, reason },
      });
      // Staff hear of it (never about their own alerts, which would loop).
      if (this.config.staffAlertEmail && !n.template.startsWith('staff-')) {
        await this.enqueueEmail(tx, {
          to: this.config.staffAlertEmail,
          template: 'staff-notification-failed',
          language: 'en',
          idempotencyKey: `notification:${n.id}:failed-alert`,
          subject: n.subjectType && n.subjectId ? { type: n.subjectType, id: n.subjectId } : undefined,
          data: {
            channel: n.channel,
            template: n.template,
            recipient: n.recipientMasked,
            reason,
            subjectType: n.subjectType,
            subjectId: n.subjectId,
            notificationId: n.id,
          },
        });
      }
    });
    this.logger.warn({ notificationId: n.id, channel: n.channel, template: n.template, reason }, 'notification failed permanently');
  }

  private async markUnknown(n: NotificationRow, reason: string): Promise<void> {
    await this.prisma.transaction(async (tx) => {
      if (!(await this.repo.finish(tx, n.id, 'unknown', { providerReason: reason }))) return;
      await this.audit.record(tx, systemContext(), {
        action: 'notification.outcome_unknown',
        subjectType: n.subjectType ?? 'notification',
        subjectId: n.subjectId ?? n.id,
        detail: { notificationId: n.id, channel: n.channel, template: n.template, recipient: n.recipientMasked, reason },
      });
    });
    this.logger.warn({ notificationId: n.id, channel: n.channel, template: n.template, reason }, 'notification outcome unknown; not resent');
  }
}

/** A message still queued (or being sent) this long after it was enqueued is listed as stuck: it is retrying, or no sender is configured. */
export const QUEUED_TOO_LONG_MINUTES = 30;
/** How far back the messages page looks for failed and unknown messages. */
export const ATTENTION_DAYS = 30;

function toView(n: NotificationRow): NotificationView {
  return {
    id: n.id,
    channel: n.channel,
    template: n.template,
    recipient: n.recipientMasked,
    title: n.title,
    subjectType: n.subjectType,
    subjectId: n.subjectId,
    status: n.status,
    attempts: n.attempts,
    providerId: n.providerId,
    providerReason: n.providerReason,
    createdAt: n.createdAt.toISOString(),
    updatedAt: n.updatedAt.toISOString(),
    sentAt: n.sentAt?.toISOString() ?? null,
  };
}
