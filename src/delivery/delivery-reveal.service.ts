import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, InvalidInputError, RateLimitedError } from '../common/domain-error.js';
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
import {
  closedError,
  done,
  noCodeRefusal,
  notFound,
  refusedCounted,
  refuseRollingBack,
  tooManyFromAddress,
  valueOf,
  wrongCodeRefusal,
  type RefusedCounted,
  type Settled,
} from './reveal.decisions.js';
import { revealNoticeExtras } from './developer-steps.js';
import { SmsChecks } from './sms-checks.service.js';

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
    private readonly checks: SmsChecks,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** What the link shows. Never consumes or counts anything. */
  async lookup(tokenInput: unknown): Promise<DeliveryOverview> {
    const token = parseLinkToken(tokenInput);
    const d = await this.byToken(this.prisma, token);
    if (!d) throw notFound();
    const o = overview(d, this.clock.now());
    return { ...o, smsHeld: o.state === 'pending' && (await this.checks.held(d.id)) };
  }

  async requestCode(tokenInput: unknown, ctx: RequestContext): Promise<CodeRequested> {
    const token = parseLinkToken(tokenInput);
    const now = this.clock.now();
    const ip = ctx.clientIp ?? 'unknown';
    // The number is checked (line type, SIM change) only for a request that could send a code: one that
    // would be refused anyway costs no Lookup.
    const pre = await this.byToken(this.prisma, token);
    const due = pre && (!pre.codeSentAt || pre.codeSentAt.getTime() + LIMITS.resendAfterMs <= now.getTime());
    if (
      pre &&
      due &&
      pre.codesSent < LIMITS.codesPerDelivery &&
      !closedError(pre, now) &&
      !(await this.repo.addressBlockedUntil(this.prisma, pre.id, ip, now))
    ) {
      await this.checks.beforeCode(pre, ctx);
    }
    // The transaction boundary: a returned refusal commits its counters, a thrown one rolls them back (see Settled).
    const settled = await this.prisma.transaction(async (tx): Promise<Settled<CodeRequested>> => {
      const open = await this.openDelivery(tx, token, ip, now);
      if (open.outcome === 'refused_counted') return open;
      const { d } = open;
      const pctx = partnerCtx(ctx, d);
      const issued = await this.repo.issueCode(tx, d.id, now);
      if (!issued) return noCodeRefusal(d, now);
      const perAddress = await this.repo.countForAddress(tx, d.id, ip, now, 'code');
      if (perAddress.codeRequests > LIMITS.ipCodeRequestsPerWindow) {
        // The code issued above must not count: it is never sent.
        refuseRollingBack(
          new RateLimitedError(
            'delivery/too_many_code_requests',
            'Too many codes were requested from your network. Try again later.',
            LIMITS.ipWindowMs / 1000,
          ),
        );
      }
      const code = hotpCode(this.config.masterKeys, d.id, d.hotpSecretEnc, issued.hotpCounter);
      await this.notifications.enqueueSms(tx, {
        to: d.recipientMobile,
        template: 'delivery-code',
        language: d.language,
        idempotencyKey: `delivery:${d.id}:code:${issued.hotpCounter}`,
        subject: { type: d.subjectType, id: d.subjectId },
        // deliveryId and hotpCounter are for the SIM-swap check at send time (SmsChecks.atSend).
        data: { code, apiName: d.display.apiName, environment: envLabel(d.display.environment, d.language), deliveryId: d.id, hotpCounter: issued.hotpCounter },
      });
      await this.audit.record(tx, pctx, {
        action: 'delivery.code_sent',
        ...auditSubject(d),
        detail: { deliveryId: d.id, codesSent: issued.codesSent, mobile: maskPhone(d.recipientMobile) },
      });
      return done({
        maskedMobile: maskPhone(d.recipientMobile),
        codeExpiresAt: issued.codeExpiresAt,
        codesLeft: LIMITS.codesPerDelivery - issued.codesSent,
        nextCodeAt: new Date(now.getTime() + LIMITS.resendAfterMs),
      });
    });
    if (settled.outcome === 'refused_counted' && settled.lockAfter) await this.lockFor(token, ctx, 'no codes left');
    return valueOf(settled);
  }

  /** Verifies link and code; the winner of one conditional UPDATE gets the secret, exactly once. */
  async reveal(tokenInput: unknown, codeInput: unknown, ctx: RequestContext): Promise<RevealedDelivery> {
    const token = parseLinkToken(tokenInput);
    const code = parseCode(codeInput);
    const now = this.clock.now();
    const ip = ctx.clientIp ?? 'unknown';
    // The transaction boundary: a returned refusal commits its counters, a thrown one rolls them back (see Settled).
    const settled = await this.prisma.transaction(async (tx): Promise<Settled<RevealedDelivery>> => {
      const open = await this.openDelivery(tx, token, ip, now);
      if (open.outcome === 'refused_counted') return open;
      const { d, linkHash } = open;
      const pctx = partnerCtx(ctx, d);
      if (!d.codeExpiresAt || d.codeExpiresAt <= now || d.codeWrong >= LIMITS.wrongPerCode) {
        return refusedCounted(new InvalidInputError('delivery/code_expired', 'This code is no longer valid. Ask for a new code.'));
      }
      if (!hotpVerify(this.config.masterKeys, d.id, d.hotpSecretEnc, d.hotpCounter, code)) {
        const wrong = await this.repo.recordWrongCode(tx, d.id, d.hotpCounter);
        const perAddress = await this.repo.countForAddress(tx, d.id, ip, now, 'wrong');
        await this.audit.record(tx, pctx, {
          action: 'delivery.code_rejected',
          ...auditSubject(d),
          detail: { deliveryId: d.id, wrongForThisCode: wrong?.codeWrong ?? null, wrongTotal: wrong?.wrongTotal ?? null },
        });
        const decided = wrongCodeRefusal(wrong, perAddress.blockedUntil, now);
        if (decided.lockDelivery) await this.lock(tx, pctx, d, 'too many wrong codes');
        return decided;
      }
      const sealed = await this.repo.consume(tx, d.id, linkHash, d.hotpCounter, now, ip);
      if (!sealed) {
        const current = await this.repo.findById(tx, d.id);
        return refusedCounted(
          (current && closedError(current, now)) ||
            new ConflictError('delivery/not_revealed', 'The secret could not be retrieved. Reload the page and try again.'),
        );
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
      return done(revealed);
    });
    return valueOf(settled);
  }

  private byToken(db: Tx | PrismaService, token: string): Promise<DeliveryRow | null> {
    return this.repo.findByTokenHash(
      db,
      [this.config.secretHashKey, ...this.config.secretHashKeysPrevious].map((k) => linkTokenHash(k, token)),
    );
  }

  /**
   * The delivery behind the link, locked (its owner first, see DeliveryService.lockInOrder), while it is still
   * pending and this address is not blocked. `linkHash` is the link's hash as read before the lock: a resend may
   * have replaced the link meanwhile, and the reveal then consumes nothing.
   */
  private async openDelivery(tx: Tx, token: string, ip: string, now: Date): Promise<{ outcome: 'open'; d: DeliveryRow; linkHash: string } | RefusedCounted> {
    const seen = await this.byToken(tx, token);
    const d = seen && (await this.deliveries.lockInOrder(tx, seen));
    if (!seen?.tokenHash || !d) return refusedCounted(notFound());
    const closed = closedError(d, now);
    if (closed) return refusedCounted(closed);
    const blocked = await this.repo.addressBlockedUntil(tx, d.id, ip, now);
    if (blocked) return refusedCounted(tooManyFromAddress(blocked, now));
    return { outcome: 'open', d, linkHash: seen.tokenHash };
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
    smsHeld: false,
  };
}

function partnerCtx(ctx: RequestContext, d: DeliveryRow): RequestContext {
  return ctx.actor.type === 'system' ? { ...ctx, actor: { type: 'partner_contact', id: d.contactId } } : ctx;
}
