import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, GoneError, InvalidInputError, LockedError, NotFoundError, RateLimitedError, UnavailableError, type DomainError } from '../common/domain-error.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext, type RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { JobQueue } from '../notifications/job-queue.js';
import { maskEmail, maskPhone } from '../notifications/mask.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import {
  hotpCode,
  hotpVerify,
  linkTokenHash,
  newHotpSecret,
  newLinkToken,
  openSecret,
  parseCode,
  parseLinkToken,
  sealHotpSecret,
  sealSecret,
} from './delivery.crypto.js';
import { LIMITS } from './delivery.limits.js';
import { DeliveryRepository, type DeliveryRow } from './delivery.repository.js';
import type {
  CodeRequested,
  CreateDeliveryInput,
  CreatedDelivery,
  DeliveryOverview,
  DeliveryState,
  DeliveryStatus,
  RevealedDelivery,
  RevealHandler,
} from './delivery.types.js';

export const EXPIRY_QUEUE = 'delivery-expire';
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Two-channel secret delivery: a one-time link by email (the secret is sealed under a key derived from the
 * link token, which the server never stores) plus a one-time SMS code (HOTP with a server-side counter).
 * Generic: it delivers "a secret for a subject"; the use case that owns the subject registers a reveal
 * handler that runs inside the reveal transaction.
 */
@Injectable()
export class DeliveryService implements OnModuleInit {
  private readonly handlers = new Map<string, RevealHandler>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repo: DeliveryRepository,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // A pg-boss schedule: one job every 5 minutes across all instances.
    this.queue.register(EXPIRY_QUEUE, { retryLimit: 2, retryDelay: 30, expireInSeconds: 300 }, async () => void (await this.expireDue()), '*/5 * * * *');
  }

  registerRevealHandler(subjectType: string, handler: RevealHandler): void {
    if (this.handlers.has(subjectType)) throw new Error(`a reveal handler for "${subjectType}" is already registered`);
    this.handlers.set(subjectType, handler);
  }

  /** Inside the caller's transaction: the delivery row, its audit event and the link email commit together. */
  async create(tx: Tx, ctx: RequestContext, input: CreateDeliveryInput): Promise<CreatedDelivery> {
    if (!E164.test(input.recipient.mobile)) throw new InvalidInputError('delivery/invalid_mobile', 'The technical contact needs a mobile number in international format (e.g. +31612345678).');
    if (!input.secret) throw new InvalidInputError('delivery/empty_secret', 'There is no secret to deliver.');
    const now = this.clock.now();
    const expiresAt = input.expiresAt ?? new Date(now.getTime() + this.config.deliveryTtlDays * 86_400_000);
    if (expiresAt <= now) throw new InvalidInputError('delivery/invalid_expiry', 'A delivery must expire in the future.');
    const id = randomUUID();
    const token = newLinkToken();
    await this.repo.insert(tx, {
      id,
      subjectType: input.subjectType,
      subjectId: input.subjectId,
      contactId: input.recipient.contactId,
      recipientName: input.recipient.name,
      recipientEmail: input.recipient.email,
      recipientMobile: input.recipient.mobile,
      language: input.recipient.language,
      display: input.display,
      tokenHash: linkTokenHash(this.config.secretHashKey, token),
      secretEnc: sealSecret(token, id, input.secret),
      hotpSecretEnc: sealHotpSecret(this.config.masterKey, id, newHotpSecret()),
      createdAt: now,
      expiresAt,
    });
    await this.audit.record(tx, ctx, {
      action: 'delivery.created',
      subjectType: input.subjectType,
      subjectId: input.subjectId,
      environment: input.display.environment,
      detail: { deliveryId: id, contactId: input.recipient.contactId, recipient: maskEmail(input.recipient.email), mobile: maskPhone(input.recipient.mobile), reason: input.display.reason, expiresAt: expiresAt.toISOString() },
    });
    // The link token leaves the process only inside this email's sealed payload (wiped once it is sent).
    await this.notifications.enqueueEmail(tx, {
      to: input.recipient.email,
      template: 'delivery-link',
      language: input.recipient.language,
      idempotencyKey: `delivery:${id}:link`,
      subject: { type: input.subjectType, id: input.subjectId },
      data: {
        recipientName: input.recipient.name,
        partnerName: input.display.partnerName,
        apiName: input.display.apiName,
        environment: envLabel(input.display.environment),
        clientId: input.display.clientId,
        reason: input.display.reason,
        link: `${this.config.publicBaseUrl}/delivery#${token}`,
        expiresAt: formatTime(expiresAt),
        maskedMobile: maskPhone(input.recipient.mobile),
      },
    });
    return { deliveryId: id, expiresAt };
  }

  /** Staff re-delivery (through the subject's owner) cancels the old one: its secret is wiped. Idempotent. */
  async cancel(tx: Tx, ctx: RequestContext, deliveryId: string): Promise<void> {
    const now = this.clock.now();
    const closed = await this.repo.close(tx, deliveryId, ['pending', 'locked'], 'cancelled', now, 'cancelled');
    if (!closed) {
      if (!(await this.repo.findById(tx, deliveryId))) throw new NotFoundError('delivery/not_found', 'No such delivery.');
      return;
    }
    await this.audit.record(tx, ctx, {
      action: 'delivery.cancelled',
      subjectType: closed.subjectType,
      subjectId: closed.subjectId,
      environment: closed.display.environment,
      detail: { deliveryId },
    });
  }

  async statusFor(subjectType: string, subjectIds: string[]): Promise<DeliveryStatus[]> {
    if (!subjectIds.length) return [];
    const now = this.clock.now();
    return (await this.repo.forSubjects(subjectType, subjectIds)).map((d) => ({
      deliveryId: d.id,
      subjectType: d.subjectType,
      subjectId: d.subjectId,
      state: effectiveState(d, now),
      createdAt: d.createdAt,
      expiresAt: d.expiresAt,
      revealedAt: d.revealedAt,
      codesSent: d.codesSent,
    }));
  }

  /** What the link shows. Never consumes or counts anything. */
  async lookup(tokenInput: unknown): Promise<DeliveryOverview> {
    const token = parseLinkToken(tokenInput);
    const d = await this.repo.findByTokenHash(this.prisma, linkTokenHash(this.config.secretHashKey, token));
    if (!d) throw notFound();
    return overview(d, this.clock.now());
  }

  async requestCode(tokenInput: unknown, ctx: RequestContext): Promise<CodeRequested> {
    const token = parseLinkToken(tokenInput);
    const now = this.clock.now();
    const ip = ctx.clientIp ?? 'unknown';
    const outcome = await this.prisma.transaction(async (tx): Promise<{ ok: CodeRequested } | { error: DomainError; lock?: boolean }> => {
      const d = await this.repo.findByTokenHash(tx, linkTokenHash(this.config.secretHashKey, token));
      if (!d) return { error: notFound() };
      const closed = closedError(d, now);
      if (closed) return { error: closed };
      const pctx = partnerCtx(ctx, d);
      const blocked = await this.repo.addressBlockedUntil(tx, d.id, ip, now);
      if (blocked) return { error: tooManyFromAddress(blocked, now) };
      const issued = await this.repo.issueCode(tx, d.id, now);
      if (!issued) {
        if (d.codesSent >= LIMITS.codesPerDelivery) {
          const usable = d.codeExpiresAt && d.codeExpiresAt > now;
          return { error: new LockedError('delivery/no_codes_left', usable ? 'No more codes can be sent. Use the last code you received.' : 'No more codes can be sent for this link. Business Journeys has been told and will send you a new one.'), lock: !usable };
        }
        const nextAt = new Date((d.codeSentAt?.getTime() ?? now.getTime()) + LIMITS.resendAfterMs);
        const wait = Math.max(1, Math.ceil((nextAt.getTime() - now.getTime()) / 1000));
        return { error: new RateLimitedError('delivery/code_resend_too_soon', `A code was just sent. You can ask for another one in ${wait} seconds.`, wait) };
      }
      const perAddress = await this.repo.countForAddress(tx, d.id, ip, now, 'code');
      if (perAddress.codeRequests > LIMITS.ipCodeRequestsPerWindow) {
        // Thrown inside: the code counters above roll back with it.
        throw new RateLimitedError('delivery/too_many_code_requests', 'Too many codes were requested from your network. Try again later.', LIMITS.ipWindowMs / 1000);
      }
      const code = hotpCode(this.config.masterKey, d.id, d.hotpSecretEnc, issued.hotpCounter);
      await this.notifications.enqueueSms(tx, {
        to: d.recipientMobile,
        template: 'delivery-code',
        language: d.language,
        idempotencyKey: `delivery:${d.id}:code:${issued.hotpCounter}`,
        subject: { type: d.subjectType, id: d.subjectId },
        data: { code, apiName: d.display.apiName, environment: envLabel(d.display.environment) },
      });
      await this.audit.record(tx, pctx, {
        action: 'delivery.code_sent',
        subjectType: d.subjectType,
        subjectId: d.subjectId,
        environment: d.display.environment,
        detail: { deliveryId: d.id, codesSent: issued.codesSent, mobile: maskPhone(d.recipientMobile) },
      });
      return {
        ok: {
          maskedMobile: maskPhone(d.recipientMobile),
          codeExpiresAt: issued.codeExpiresAt,
          codesLeft: LIMITS.codesPerDelivery - issued.codesSent,
          nextCodeAt: new Date(now.getTime() + LIMITS.resendAfterMs),
        },
      };
    });
    if ('ok' in outcome) return outcome.ok;
    if (outcome.lock) await this.lockFor(token, ctx, 'no codes left');
    throw outcome.error;
  }

  /** Verifies link and code; the winner of one conditional UPDATE gets the secret, exactly once. */
  async reveal(tokenInput: unknown, codeInput: unknown, ctx: RequestContext): Promise<RevealedDelivery> {
    const token = parseLinkToken(tokenInput);
    const code = parseCode(codeInput);
    const now = this.clock.now();
    const ip = ctx.clientIp ?? 'unknown';
    const outcome = await this.prisma.transaction(async (tx): Promise<{ ok: RevealedDelivery } | { error: DomainError; locked?: DeliveryRow }> => {
      const d = await this.repo.findByTokenHash(tx, linkTokenHash(this.config.secretHashKey, token));
      if (!d) return { error: notFound() };
      const closed = closedError(d, now);
      if (closed) return { error: closed };
      const pctx = partnerCtx(ctx, d);
      const blocked = await this.repo.addressBlockedUntil(tx, d.id, ip, now);
      if (blocked) return { error: tooManyFromAddress(blocked, now) };
      if (!d.codeExpiresAt || d.codeExpiresAt <= now || d.codeWrong >= LIMITS.wrongPerCode) {
        return { error: new InvalidInputError('delivery/code_expired', 'This code is no longer valid. Ask for a new code.') };
      }
      if (!hotpVerify(this.config.masterKey, d.id, d.hotpSecretEnc, d.hotpCounter, code)) {
        const wrong = await this.repo.recordWrongCode(tx, d.id, d.hotpCounter);
        const perAddress = await this.repo.countForAddress(tx, d.id, ip, now, 'wrong');
        await this.audit.record(tx, pctx, {
          action: 'delivery.code_rejected',
          subjectType: d.subjectType,
          subjectId: d.subjectId,
          environment: d.display.environment,
          detail: { deliveryId: d.id, wrongForThisCode: wrong?.codeWrong ?? null, wrongTotal: wrong?.wrongTotal ?? null },
        });
        if (wrong?.voided && wrong.codesSent >= LIMITS.codesPerDelivery) {
          const locked = await this.lock(tx, pctx, d, 'too many wrong codes');
          return { error: lockedError(), locked: locked ?? undefined };
        }
        if (perAddress.blockedUntil && perAddress.blockedUntil > now) return { error: tooManyFromAddress(perAddress.blockedUntil, now) };
        if (wrong?.voided) return { error: new InvalidInputError('delivery/code_voided', 'That code was entered wrongly too often and no longer works. Ask for a new code.') };
        const left = LIMITS.wrongPerCode - (wrong?.codeWrong ?? LIMITS.wrongPerCode);
        return { error: new InvalidInputError('delivery/wrong_code', `That code is not correct. You can try ${left} more time${left === 1 ? '' : 's'} with this code.`, { attemptsLeft: left }) };
      }
      const sealed = await this.repo.consume(tx, d.id, d.hotpCounter, now, ip);
      if (!sealed) {
        const current = await this.repo.findById(tx, d.id);
        return { error: (current && closedError(current, now)) || new ConflictError('delivery/not_revealed', 'The secret could not be retrieved. Reload the page and try again.') };
      }
      const revealed: RevealedDelivery = {
        deliveryId: d.id,
        subjectType: d.subjectType,
        subjectId: d.subjectId,
        secret: openSecret(token, d.id, sealed),
        display: d.display,
        revealedAt: now,
      };
      const handler = this.handlers.get(d.subjectType);
      if (!handler) throw new UnavailableError('delivery/no_handler', 'This secret cannot be activated right now. Try again later.');
      await handler(tx, pctx, revealed);
      await this.audit.record(tx, pctx, {
        action: 'delivery.revealed',
        subjectType: d.subjectType,
        subjectId: d.subjectId,
        environment: d.display.environment,
        detail: { deliveryId: d.id, contactId: d.contactId, revealedFrom: ip },
      });
      await this.notifications.enqueueEmail(tx, {
        to: d.recipientEmail,
        template: 'delivery-revealed',
        language: d.language,
        idempotencyKey: `delivery:${d.id}:revealed`,
        subject: { type: d.subjectType, id: d.subjectId },
        data: {
          recipientName: d.recipientName,
          partnerName: d.display.partnerName,
          apiName: d.display.apiName,
          environment: envLabel(d.display.environment),
          clientId: d.display.clientId,
          revealedAt: formatTime(now),
          ip,
          contact: this.config.staffAlertEmail,
        },
      });
      return { ok: revealed };
    });
    if ('ok' in outcome) return outcome.ok;
    throw outcome.error;
  }

  /** The scheduled job: pending deliveries past their time become expired, their secrets wiped, staff told. */
  async expireDue(): Promise<number> {
    const now = this.clock.now();
    let total = 0;
    for (;;) {
      const n = await this.prisma.transaction(async (tx) => {
        const expired = await this.repo.expireDue(tx, now, 200);
        const ctx = systemContext();
        for (const d of expired) {
          await this.audit.record(tx, ctx, {
            action: 'delivery.expired',
            subjectType: d.subjectType,
            subjectId: d.subjectId,
            environment: d.display.environment,
            detail: { deliveryId: d.id, expiresAt: d.expiresAt.toISOString(), codesSent: d.codesSent },
          });
          await this.alertStaff(tx, d, 'expired', `it was not retrieved before ${formatTime(d.expiresAt)}.`);
        }
        return expired.length;
      });
      total += n;
      if (n < 200) break;
    }
    if (total) this.logger.info({ expired: total }, 'expired unretrieved deliveries');
    return total;
  }

  private async lockFor(token: string, ctx: RequestContext, reason: string): Promise<void> {
    await this.prisma.transaction(async (tx) => {
      const d = await this.repo.findByTokenHash(tx, linkTokenHash(this.config.secretHashKey, token));
      if (d) await this.lock(tx, partnerCtx(ctx, d), d, reason);
    });
  }

  private async lock(tx: Tx, ctx: RequestContext, d: DeliveryRow, reason: string): Promise<DeliveryRow | null> {
    const locked = await this.repo.close(tx, d.id, ['pending'], 'locked', this.clock.now(), reason);
    if (!locked) return null;
    await this.audit.record(tx, ctx, {
      action: 'delivery.locked',
      subjectType: d.subjectType,
      subjectId: d.subjectId,
      environment: d.display.environment,
      detail: { deliveryId: d.id, reason, codesSent: locked.codesSent, wrongTotal: locked.wrongTotal },
    });
    await this.alertStaff(tx, d, 'locked', `${reason}. The secret has been wiped.`);
    this.logger.warn({ deliveryId: d.id, subjectType: d.subjectType, subjectId: d.subjectId, reason }, 'delivery locked');
    return locked;
  }

  private async alertStaff(tx: Tx, d: DeliveryRow, event: 'locked' | 'expired', explanation: string): Promise<void> {
    if (!this.config.staffAlertEmail) return;
    await this.notifications.enqueueEmail(tx, {
      to: this.config.staffAlertEmail,
      template: 'staff-delivery-alert',
      language: 'en',
      idempotencyKey: `delivery:${d.id}:alert:${event}`,
      subject: { type: d.subjectType, id: d.subjectId },
      data: {
        event,
        explanation,
        partnerName: d.display.partnerName,
        apiName: d.display.apiName,
        environment: envLabel(d.display.environment),
        clientId: d.display.clientId,
        recipient: maskEmail(d.recipientEmail),
        deliveryId: d.id,
        consoleUrl: `${this.config.publicBaseUrl}/console/credentials`,
      },
    });
  }
}

export function effectiveState(d: Pick<DeliveryRow, 'state' | 'expiresAt'>, now: Date): DeliveryState {
  return d.state === 'pending' && d.expiresAt <= now ? 'expired' : d.state;
}

function overview(d: DeliveryRow, now: Date): DeliveryOverview {
  const state = effectiveState(d, now);
  const codeUsable = state === 'pending' && d.codeExpiresAt && d.codeExpiresAt > now && d.codeWrong < LIMITS.wrongPerCode;
  const codesLeft = Math.max(0, LIMITS.codesPerDelivery - d.codesSent);
  const resendAt = d.codeSentAt ? new Date(d.codeSentAt.getTime() + LIMITS.resendAfterMs) : null;
  return {
    state,
    partnerName: d.display.partnerName,
    apiName: d.display.apiName,
    environment: d.display.environment,
    clientId: d.display.clientId,
    reason: d.display.reason,
    maskedMobile: maskPhone(d.recipientMobile),
    expiresAt: d.expiresAt,
    revealedAt: d.revealedAt,
    codesLeft,
    codeExpiresAt: codeUsable ? d.codeExpiresAt : null,
    nextCodeAt: state !== 'pending' || codesLeft === 0 ? null : resendAt && resendAt > now ? resendAt : null,
  };
}

function closedError(d: DeliveryRow, now: Date): DomainError | null {
  switch (effectiveState(d, now)) {
    case 'pending':
      return null;
    case 'revealed':
      return new GoneError('delivery/already_revealed', `This secret was already retrieved on ${formatTime(d.revealedAt!)}. It is shown only once.`, { revealedAt: d.revealedAt!.toISOString() });
    case 'expired':
      return new GoneError('delivery/expired', 'This link has expired. Ask your Business Journeys contact to send a new one.');
    case 'cancelled':
      return new GoneError('delivery/cancelled', 'This link is no longer valid: a newer one was sent.');
    case 'locked':
      return lockedError();
  }
}

const lockedError = () => new LockedError('delivery/locked', 'This link is locked after too many wrong codes. Business Journeys has been told and will send you a new one.');
const notFound = () => new NotFoundError('delivery/not_found', 'This link is not valid. Check that you copied the whole link from the email.');

function tooManyFromAddress(until: Date, now: Date): RateLimitedError {
  const wait = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new RateLimitedError('delivery/too_many_attempts', `Too many wrong codes from your network. Try again in ${Math.ceil(wait / 60)} minutes.`, wait);
}

function partnerCtx(ctx: RequestContext, d: DeliveryRow): RequestContext {
  return ctx.actor.type === 'system' ? { ...ctx, actor: { type: 'partner_contact', id: d.contactId } } : ctx;
}

export function envLabel(env: string): string {
  return env === 'production' ? 'Production' : env === 'acceptance' ? 'Acceptance' : env;
}

export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
