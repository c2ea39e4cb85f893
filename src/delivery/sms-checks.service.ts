import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, InvalidInputError, LockedError, NotFoundError, UnavailableError } from '../common/domain-error.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext, type RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { maskEmail, maskPhone } from '../notifications/mask.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PhoneLookup } from '../notifications/phone-lookup.js';
import type { SimSwapVerdict } from '../notifications/phone-lookup.policy.js';
import { PartnersService } from '../partners/partners.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { DeliveryRepository, type DeliveryRow } from './delivery.repository.js';
import { auditSubject, effectiveState, formatTime, staffAlertFacts } from './delivery.service.js';
import { SimSwapRepository } from './sim-swap.repository.js';

/** A delivery whose SMS codes are held after a SIM change, until staff verified the person. */
export interface BlockedSimSwapDelivery {
  deliveryId: string;
  subjectType: string;
  subjectId: string;
  partnerName: string;
  apiName: string;
  environment: string;
  clientId: string;
  recipient: string;
  detectedAt: Date;
  reason: string;
}

export const SIM_SWAP_HELD_MESSAGE =
  'For your security no code was sent: the SIM card of this mobile number was changed recently. Contact your Business Journeys contact; once they have confirmed it is you, you can ask for a code here again.';

/**
 * Checks run before each SMS code, at the partner's request and outside the code's transaction (Lookup is a
 * network call): the line type (unless staff allowed the number) and a recent SIM change. A refused request
 * makes no code and counts nothing, so the delivery stays pending and usable once the hold is cleared.
 */
@Injectable()
export class SmsChecks implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repo: DeliveryRepository,
    private readonly holds: SimSwapRepository,
    private readonly lookup: PhoneLookup,
    private readonly partners: PartnersService,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.notifications.registerSmsSendCheck('delivery-code', (data) => this.atSend(data));
  }

  /** Whether an uncleared SIM-swap hold stops this delivery's codes (the partner's page says so). */
  async held(deliveryId: string): Promise<boolean> {
    return (await this.holds.stateOf(this.prisma, deliveryId)).open !== null;
  }

  /** Throws when no code may be sent now; records (once) and reports a SIM-swap hold. */
  async beforeCode(d: DeliveryRow, ctx: RequestContext): Promise<void> {
    const state = await this.holds.stateOf(this.prisma, d.id);
    if (state.open) throw heldError();
    if (!this.lookup.enabled) return;
    const r = await this.lookup.beforeCode(d.recipientMobile);
    const failOpen = this.lookup.failOpen;
    if ('lookupFailed' in r) {
      if (failOpen)
        return void this.logger.warn({ deliveryId: d.id, reason: r.lookupFailed }, 'number check failed; code sent anyway (TWILIO_LOOKUP_FAIL_OPEN)');
      throw unavailable();
    }
    if (r.line.kind !== 'allowed' && !(UUID.test(d.contactId) && (await this.partners.lineOverride(d.contactId)))) {
      if (r.line.kind === 'refused') {
        throw new LockedError(
          'delivery/number_not_mobile',
          `No code was sent: the mobile number on file (${maskPhone(d.recipientMobile)}) is not a line that can receive codes reliably (${r.line.lineType}). Contact your Business Journeys contact to confirm your number.`,
          { lineType: r.line.lineType },
        );
      }
      if (!failOpen) throw unavailable();
    }
    // Staff verified the person after this delivery's earlier hold: that swap no longer holds it.
    if (state.cleared || r.swap.kind === 'clear' || (r.swap.kind === 'unknown' && failOpen)) return;
    await this.hold(d, ctx, r.swap);
    throw heldError();
  }

  /**
   * Right before the SMS job hands a code to the provider: the SIM change is checked again, with a fresh Lookup
   * answer, so a swap in the seconds between the request and the send is caught. A swap holds the delivery as
   * at request time (audit, staff alert, the partner's page) and the code is withdrawn unsent; no answer from
   * Lookup is retried later (fail-closed), or sends (TWILIO_LOOKUP_FAIL_OPEN).
   */
  async atSend(data: Record<string, unknown>): Promise<'send' | { withhold: string } | { retry: string }> {
    if (!this.lookup.enabled || typeof data.deliveryId !== 'string' || typeof data.hotpCounter !== 'number') return 'send';
    const d = await this.repo.findById(this.prisma, data.deliveryId);
    if (!d) return 'send';
    const state = await this.holds.stateOf(this.prisma, d.id);
    if (state.open) {
      await this.prisma.transaction((tx) => this.repo.withdrawCode(tx, d.id, data.hotpCounter as number));
      return { withhold: 'a SIM-swap hold is open for this delivery' };
    }
    if (state.cleared) return 'send';
    const r = await this.lookup.beforeCode(d.recipientMobile, { fresh: true });
    if ('lookupFailed' in r) return this.lookup.failOpen ? 'send' : { retry: `number check before sending failed: ${r.lookupFailed}` };
    if (r.swap.kind === 'clear' || (r.swap.kind === 'unknown' && this.lookup.failOpen)) return 'send';
    await this.hold(d, systemContext(), r.swap, data.hotpCounter);
    return { withhold: 'the SIM card of the number changed before the code was sent' };
  }

  /** Staff verified the person (through a channel already known): codes may be sent again. */
  async clear(ctx: RequestContext, deliveryId: string, reasonInput: string): Promise<void> {
    const reason = reasonInput.trim();
    if (reason.length < 5 || reason.length > 2000) {
      throw new InvalidInputError('delivery/clear_reason_required', 'Say how the person was verified (5 to 2000 characters).', {
        fields: { reason: ['Say how the person was verified (at least 5 characters)'] },
      });
    }
    await this.prisma.transaction(async (tx) => {
      const d = await this.repo.findById(tx, deliveryId);
      if (!d) throw new NotFoundError('delivery/not_found', 'No such delivery.');
      const cleared = await this.holds.clear(tx, d.id, ctx.actor.id!, reason, this.clock.now());
      if (!cleared) throw new ConflictError('delivery/not_held', 'This delivery has no SIM-swap hold to clear.');
      await this.audit.record(tx, ctx, {
        action: 'delivery.sim_swap_cleared',
        ...auditSubject(d),
        detail: { deliveryId: d.id, holdId: cleared.id, reason, state: effectiveState(d, this.clock.now()) },
      });
    });
  }

  /** Pending deliveries held by a SIM change and not yet cleared (the staff home's "needs my action"). */
  async blockedSimSwapDeliveries(subject?: { type: string; ids: string[] }): Promise<BlockedSimSwapDelivery[]> {
    const rows = await this.holds.openOfPending(this.clock.now(), subject);
    return rows.map(({ delivery: d, ...b }) => ({
      deliveryId: b.deliveryId,
      subjectType: d.subjectType,
      subjectId: d.subjectId,
      partnerName: d.display.partnerName,
      apiName: d.display.apiName,
      environment: d.display.environment,
      clientId: d.display.clientId,
      recipient: maskEmail(d.recipientEmail),
      detectedAt: b.detectedAt,
      reason: b.reason,
    }));
  }

  private async hold(d: DeliveryRow, ctx: RequestContext, swap: Exclude<SimSwapVerdict, { kind: 'clear' }>, unsentCounter?: number): Promise<void> {
    const now = this.clock.now();
    const reason =
      swap.kind === 'swapped'
        ? `the SIM card was changed ${swap.lastSwapAt ? `on ${formatTime(swap.lastSwapAt)}` : `within ${swap.swappedPeriod ?? 'the checked period'}`} (window: ${this.config.lookup.simSwapWindowDays} days)`
        : `whether the SIM card was changed recently is unknown: ${swap.reason}`;
    await this.prisma.transaction(async (tx) => {
      const opened = await this.holds.open(tx, {
        deliveryId: d.id,
        detectedAt: now,
        lastSwapAt: swap.kind === 'swapped' ? swap.lastSwapAt : null,
        swappedPeriod: swap.kind === 'swapped' ? swap.swappedPeriod : null,
        reason,
      });
      if (unsentCounter !== undefined) await this.repo.withdrawCode(tx, d.id, unsentCounter);
      if (!opened) return;
      await this.audit.record(
        tx,
        { ...ctx, actor: ctx.actor.type === 'system' ? { type: 'partner_contact', id: d.contactId } : ctx.actor },
        {
          action: 'delivery.sim_swap_blocked',
          ...auditSubject(d),
          detail: { deliveryId: d.id, holdId: opened.id, mobile: maskPhone(d.recipientMobile), reason },
        },
      );
      await this.alertStaff(tx, d, reason);
    });
    this.logger.warn({ deliveryId: d.id, mobile: maskPhone(d.recipientMobile) }, 'SMS code held: recent SIM change');
  }

  private async alertStaff(tx: Tx, d: DeliveryRow, explanation: string): Promise<void> {
    if (!this.config.staffAlertEmail) return;
    await this.notifications.enqueueEmail(tx, {
      to: this.config.staffAlertEmail,
      template: 'staff-sim-swap-alert',
      language: 'en',
      idempotencyKey: `delivery:${d.id}:sim-swap:${this.clock.now().getTime()}`,
      subject: { type: d.subjectType, id: d.subjectId },
      data: {
        explanation,
        ...staffAlertFacts(d, this.config.publicBaseUrl),
      },
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const heldError = () => new LockedError('delivery/sim_swap_held', SIM_SWAP_HELD_MESSAGE);
const unavailable = () =>
  new UnavailableError('delivery/number_check_unavailable', 'We could not check your mobile number just now, so no code was sent. Try again in a few minutes.');
