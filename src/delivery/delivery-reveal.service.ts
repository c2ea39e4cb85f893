import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, GoneError, InvalidInputError, LockedError, NotFoundError, RateLimitedError, type DomainError } from '../common/domain-error.js';
import { LOGGER } from '../common/logger.module.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { maskPhone } from '../notifications/mask.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { hotpCode, hotpVerify, linkTokenHash, openSecret, parseCode, parseLinkToken } from './delivery.crypto.js';
import { LIMITS } from './delivery.limits.js';
import { DeliveryRepository, type DeliveryRow } from './delivery.repository.js';
import { DeliveryService, auditSubject, effectiveState, envLabel, formatTime } from './delivery.service.js';
import type { CodeRequested, DeliveryOverview, RevealedDelivery } from './delivery.types.js';
import { revealNoticeExtras } from './developer-steps.js';

/**
 * The partner's side of a delivery: open the link, ask for an SMS code, reveal the secret. Wrong codes and
 * code requests are limited per address first and per delivery after; a delivery that runs out locks.
 */
@Injectable()
export class DeliveryRevealService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repo: DeliveryRepository,
    private readonly deliveries: DeliveryService,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** What the link shows. Never consumes or counts anything. */
  async lookup(tokenInput: unknown): Promise<DeliveryOverview> {
    const token = parseLinkToken(tokenInput);
    const d = await this.byToken(this.prisma, token);
    if (!d) throw notFound();
    return overview(d, this.clock.now());
  }

  async requestCode(tokenInput: unknown, ctx: RequestContext): Promise<CodeRequested> {
    const token = parseLinkToken(tokenInput);
    const now = this.clock.now();
    const ip = ctx.clientIp ?? 'unknown';
    const outcome = await this.prisma.transaction(async (tx): Promise<{ ok: CodeRequested } | { error: DomainError; lock?: boolean }> => {
      const open = await this.openDelivery(tx, token, ip, now);
      if ('error' in open) return open;
      const { d } = open;
      const pctx = partnerCtx(ctx, d);
      const issued = await this.repo.issueCode(tx, d.id, now);
      if (!issued) {
        if (d.codesSent >= LIMITS.codesPerDelivery) {
          const usable = d.codeExpiresAt && d.codeExpiresAt > now;
          return { error: new LockedError('delivery/no_codes_left', usable ? 'No more codes can be sent. Use the last code you received.' : 'No more codes can be sent for this link. Business Journeys has been told and will send you a new one.'), lock: !usable };
        }
        const wait = secondsUntil(new Date((d.codeSentAt?.getTime() ?? now.getTime()) + LIMITS.resendAfterMs), now);
        return { error: new RateLimitedError('delivery/code_resend_too_soon', `A code was just sent. You can ask for another one in ${wait} seconds.`, wait) };
      }
      const perAddress = await this.repo.countForAddress(tx, d.id, ip, now, 'code');
      if (perAddress.codeRequests > LIMITS.ipCodeRequestsPerWindow) {
        // Thrown inside: the code counters above roll back with it.
        throw new RateLimitedError('delivery/too_many_code_requests', 'Too many codes were requested from your network. Try again later.', LIMITS.ipWindowMs / 1000);
      }
      const code = hotpCode(this.config.masterKeys, d.id, d.hotpSecretEnc, issued.hotpCounter);
      await this.notifications.enqueueSms(tx, {
        to: d.recipientMobile,
        template: 'delivery-code',
        language: d.language,
        idempotencyKey: `delivery:${d.id}:code:${issued.hotpCounter}`,
        subject: { type: d.subjectType, id: d.subjectId },
        data: { code, apiName: d.display.apiName, environment: envLabel(d.display.environment, d.language) },
      });
      await this.audit.record(tx, pctx, {
        action: 'delivery.code_sent',
        ...auditSubject(d),
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
      const open = await this.openDelivery(tx, token, ip, now);
      if ('error' in open) return open;
      const { d } = open;
      const pctx = partnerCtx(ctx, d);
      if (!d.codeExpiresAt || d.codeExpiresAt <= now || d.codeWrong >= LIMITS.wrongPerCode) {
        return { error: new InvalidInputError('delivery/code_expired', 'This code is no longer valid. Ask for a new code.') };
      }
      if (!hotpVerify(this.config.masterKeys, d.id, d.hotpSecretEnc, d.hotpCounter, code)) {
        const wrong = await this.repo.recordWrongCode(tx, d.id, d.hotpCounter);
        const perAddress = await this.repo.countForAddress(tx, d.id, ip, now, 'wrong');
        await this.audit.record(tx, pctx, {
          action: 'delivery.code_rejected',
          ...auditSubject(d),
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
      const sealed = await this.repo.consume(tx, d.id, d.tokenHash ?? '', d.hotpCounter, now, ip);
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
        language: d.language,
      };
      revealed.previousSecretEndsAt = (await this.deliveries.runRevealHandler(tx, pctx, revealed)).previousSecretEndsAt ?? null;
      await this.audit.record(tx, pctx, {
        action: 'delivery.revealed',
        ...auditSubject(d),
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
          environment: envLabel(d.display.environment, d.language),
          clientId: d.display.clientId,
          revealedAt: formatTime(now),
          ip,
          contact: this.config.staffAlertEmail,
          ...revealNoticeExtras(d.display, revealed.previousSecretEndsAt ?? null),
        },
      });
      return { ok: revealed };
    });
    if ('ok' in outcome) return outcome.ok;
    throw outcome.error;
  }

  private byToken(db: Tx | PrismaService, token: string): Promise<DeliveryRow | null> {
    return this.repo.findByTokenHash(db, [this.config.secretHashKey, ...this.config.secretHashKeysPrevious].map((k) => linkTokenHash(k, token)));
  }

  /** The delivery behind the link, while it is still pending and this address is not blocked. */
  private async openDelivery(tx: Tx, token: string, ip: string, now: Date): Promise<{ d: DeliveryRow } | { error: DomainError }> {
    const d = await this.byToken(tx, token);
    if (!d) return { error: notFound() };
    const closed = closedError(d, now);
    if (closed) return { error: closed };
    const blocked = await this.repo.addressBlockedUntil(tx, d.id, ip, now);
    if (blocked) return { error: tooManyFromAddress(blocked, now) };
    return { d };
  }

  private async lockFor(token: string, ctx: RequestContext, reason: string): Promise<void> {
    await this.prisma.transaction(async (tx) => {
      const d = await this.byToken(tx, token);
      if (d) await this.lock(tx, partnerCtx(ctx, d), d, reason);
    });
  }

  private async lock(tx: Tx, ctx: RequestContext, d: DeliveryRow, reason: string): Promise<DeliveryRow | null> {
    const locked = await this.repo.close(tx, d.id, ['pending'], 'locked', this.clock.now(), reason);
    if (!locked) return null;
    await this.audit.record(tx, ctx, {
      action: 'delivery.locked',
      ...auditSubject(d),
      detail: { deliveryId: d.id, reason, codesSent: locked.codesSent, wrongTotal: locked.wrongTotal },
    });
    await this.deliveries.alertStaff(tx, d, 'locked', `${reason}. The secret has been wiped.`);
    this.logger.warn({ deliveryId: d.id, subjectType: d.subjectType, subjectId: d.subjectId, reason }, 'delivery locked');
    return locked;
  }
}

function overview(d: DeliveryRow, now: Date): DeliveryOverview {
  const state = effectiveState(d, now);
  const codeUsable = state === 'pending' && d.codeExpiresAt && d.codeExpiresAt > now && d.codeWrong < LIMITS.wrongPerCode;
  const codesLeft = Math.max(0, LIMITS.codesPerDelivery - d.codesSent);
  const resendAt = d.codeSentAt ? new Date(d.codeSentAt.getTime() + LIMITS.resendAfterMs) : null;
  return {
    state,
    language: d.language,
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

function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

function tooManyFromAddress(until: Date, now: Date): RateLimitedError {
  const wait = secondsUntil(until, now);
  return new RateLimitedError('delivery/too_many_attempts', `Too many wrong codes from your network. Try again in ${Math.ceil(wait / 60)} minutes.`, wait);
}

function partnerCtx(ctx: RequestContext, d: DeliveryRow): RequestContext {
  return ctx.actor.type === 'system' ? { ...ctx, actor: { type: 'partner_contact', id: d.contactId } } : ctx;
}
