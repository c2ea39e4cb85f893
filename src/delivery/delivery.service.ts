import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { isE164 } from '../common/phone.js';
import { Clock } from '../common/clock.js';
import { DomainError, InvalidInputError, NotFoundError, UnavailableError } from '../common/domain-error.js';
import { environmentName, formatTimeIn, type Lang } from '../common/i18n.js';
import { LOGGER } from '../common/logger.module.js';
import { systemContext, type RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { JobQueue } from '../notifications/job-queue.js';
import { maskEmail, maskPhone } from '../notifications/mask.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { linkTokenHash, newHotpSecret, newLinkToken, sealHotpSecret, sealSecret } from './delivery.crypto.js';
import { DeliveryRepository, type DeliveryRow } from './delivery.repository.js';
import { SimSwapRepository } from './sim-swap.repository.js';
import type {
  CreateDeliveryInput,
  CreatedDelivery,
  DeliveryState,
  DeliveryStatus,
  OwnerLock,
  RevealedDelivery,
  RevealHandler,
  RevealOutcome,
  SecretIssuer,
} from './delivery.types.js';

export const EXPIRY_QUEUE = 'delivery-expire';
const LINK_TEMPLATE = 'delivery-link';

/**
 * Two-channel secret delivery: a one-time link by email (the secret is made when the email is sent and
 * sealed under a key derived from the link token, which the server never stores) plus a one-time SMS code
 * (HOTP with a server-side counter).
 * Generic: it delivers "a secret for a subject"; the use case that owns the subject registers a reveal
 * handler that runs inside the reveal transaction. The partner's steps live in DeliveryRevealService.
 */
@Injectable()
export class DeliveryService implements OnModuleInit {
  private readonly handlers = new Map<string, RevealHandler>();
  private readonly issuers = new Map<string, SecretIssuer>();
  private readonly ownerLocks = new Map<string, OwnerLock>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repo: DeliveryRepository,
    private readonly holds: SimSwapRepository,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.notifications.registerLateData(LINK_TEMPLATE, async (data) => (typeof data.deliveryId === 'string' ? this.armLink(data.deliveryId) : {}));
    // A pg-boss schedule: one job every 5 minutes across all instances.
    this.queue.register(EXPIRY_QUEUE, { retryLimit: 2, retryDelay: 30, expireInSeconds: 300 }, async () => void (await this.expireDue()), '*/5 * * * *');
  }

  /** The subject's owner makes the secret when the link is sent; see SecretIssuer. */
  registerSecretIssuer(subjectType: string, issuer: SecretIssuer): void {
    if (this.issuers.has(subjectType)) throw new Error(`a secret issuer for "${subjectType}" is already registered`);
    this.issuers.set(subjectType, issuer);
  }

  registerRevealHandler(subjectType: string, handler: RevealHandler): void {
    if (this.handlers.has(subjectType)) throw new Error(`a reveal handler for "${subjectType}" is already registered`);
    this.handlers.set(subjectType, handler);
  }

  registerOwnerLock(subjectType: string, lock: OwnerLock): void {
    if (this.ownerLocks.has(subjectType)) throw new Error(`an owner lock for "${subjectType}" is already registered`);
    this.ownerLocks.set(subjectType, lock);
  }

  /**
   * The lock order of every transaction that touches a delivery and its subject's owner: the owner's rows first
   * (through its registered OwnerLock), then the delivery row, FOR UPDATE. The owner's own writers (re-delivery,
   * rotation cancel, revocation) lock the owner before they cancel a delivery, so no two such transactions wait
   * for each other in a circle. Returns the delivery as it is once locked; null when it does not exist.
   */
  async lockInOrder(tx: Tx, d: Pick<DeliveryRow, 'id' | 'subjectType' | 'subjectId'>): Promise<DeliveryRow | null> {
    await this.ownerLocks.get(d.subjectType)?.(tx, d.subjectId);
    return this.repo.lockForUpdate(tx, d.id);
  }

  /** Inside the reveal transaction: the subject's owner activates what was just revealed. */
  async runRevealHandler(tx: Tx, ctx: RequestContext, revealed: RevealedDelivery): Promise<RevealOutcome> {
    const handler = this.handlers.get(revealed.subjectType);
    if (!handler) throw new UnavailableError('delivery/no_handler', 'This secret cannot be activated right now. Try again later.');
    return (await handler(tx, ctx, revealed)) ?? {};
  }

  /**
   * Inside the caller's transaction: the delivery row, its audit event and the link email commit together.
   * Neither the link token nor the secret exists yet: both are made when the email is sent (`armLink`), so
   * while the email waits (an SMTP outage) nothing in the database or the configuration can open the secret.
   */
  async create(tx: Tx, ctx: RequestContext, input: CreateDeliveryInput): Promise<CreatedDelivery> {
    if (!isE164(input.recipient.mobile))
      throw new InvalidInputError('delivery/invalid_mobile', 'The technical contact needs a mobile number in international format (e.g. +31612345678).');
    if (!this.issuers.has(input.subjectType)) throw new Error(`no secret issuer for "${input.subjectType}"`);
    const now = this.clock.now();
    const expiresAt = input.expiresAt ?? new Date(now.getTime() + this.config.deliveryTtlDays * 86_400_000);
    if (expiresAt <= now) throw new InvalidInputError('delivery/invalid_expiry', 'A delivery must expire in the future.');
    const id = randomUUID();
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
      hotpSecretEnc: sealHotpSecret(this.config.masterKeys, id, newHotpSecret()),
      createdAt: now,
      expiresAt,
    });
    await this.audit.record(tx, ctx, {
      action: 'delivery.created',
      subjectType: input.subjectType,
      subjectId: input.subjectId,
      environment: input.display.environment,
      detail: {
        deliveryId: id,
        contactId: input.recipient.contactId,
        recipient: maskEmail(input.recipient.email),
        mobile: maskPhone(input.recipient.mobile),
        reason: input.display.reason,
        expiresAt: expiresAt.toISOString(),
      },
    });
    await this.notifications.enqueueEmail(tx, {
      to: input.recipient.email,
      template: LINK_TEMPLATE,
      language: input.recipient.language,
      idempotencyKey: `delivery:${id}:link`,
      subject: { type: input.subjectType, id: input.subjectId },
      data: {
        deliveryId: id,
        recipientName: input.recipient.name,
        partnerName: input.display.partnerName,
        apiName: input.display.apiName,
        environment: envLabel(input.display.environment, input.recipient.language),
        clientId: input.display.clientId,
        reason: input.display.reason,
        expiresAt: formatTime(expiresAt),
        maskedMobile: maskPhone(input.recipient.mobile),
      },
    });
    return { deliveryId: id, expiresAt };
  }

  /**
   * Right before the link email goes out (each attempt): a new link token, a new secret from the subject's
   * owner sealed under it, committed; the token then lives only in this process until the email carries it.
   * A link from an earlier attempt stops working. Null when the delivery is no longer pending.
   */
  async armLink(deliveryId: string): Promise<{ link: string } | null> {
    const token = newLinkToken();
    const armed = await this.prisma.transaction(async (tx) => {
      const seen = await this.repo.findById(tx, deliveryId);
      const d = seen && (await this.lockInOrder(tx, seen));
      if (!d || effectiveState(d, this.clock.now()) !== 'pending') return null;
      const issuer = this.issuers.get(d.subjectType);
      if (!issuer) throw new UnavailableError('delivery/no_issuer', 'This secret cannot be sent right now. Try again later.');
      let secret: string;
      try {
        secret = await issuer(tx, d.subjectId);
      } catch (err) {
        // The owner no longer wants this secret sent (revoked, replaced): the email is closed unsent.
        if (err instanceof DomainError && (err.kind === 'conflict' || err.kind === 'not_found')) return null;
        throw err;
      }
      const row = await this.repo.arm(tx, d.id, linkTokenHash(this.config.secretHashKey, token), sealSecret(token, d.id, secret), this.clock.now());
      if (!row) return null;
      await this.audit.record(tx, systemContext(), {
        action: 'delivery.link_made',
        ...auditSubject(d),
        detail: { deliveryId: d.id, replacedEarlierLink: d.tokenHash !== null },
      });
      return row;
    });
    return armed ? { link: `${this.config.publicBaseUrl}/delivery#${token}` } : null;
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
      ...auditSubject(closed),
      detail: { deliveryId },
    });
  }

  async statusFor(subjectType: string, subjectIds: string[]): Promise<DeliveryStatus[]> {
    if (!subjectIds.length) return [];
    const now = this.clock.now();
    const held = new Map((await this.holds.openOfPending(now, { type: subjectType, ids: subjectIds })).map((b) => [b.deliveryId, b]));
    return (await this.repo.forSubjects(subjectType, subjectIds)).map((d) => ({
      deliveryId: d.id,
      subjectType: d.subjectType,
      subjectId: d.subjectId,
      state: effectiveState(d, now),
      createdAt: d.createdAt,
      expiresAt: d.expiresAt,
      revealedAt: d.revealedAt,
      codesSent: d.codesSent,
      simSwapHold: held.has(d.id) ? { detectedAt: held.get(d.id)!.detectedAt, reason: held.get(d.id)!.reason } : null,
    }));
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
            ...auditSubject(d),
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

  /** Staff hear of a delivery that expired unread or locked (DeliveryRevealService), so they can send a new one. */
  async alertStaff(tx: Tx, d: DeliveryRow, event: 'locked' | 'expired', explanation: string): Promise<void> {
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
        ...staffAlertFacts(d, this.config.publicBaseUrl),
      },
    });
  }
}

/** The audit event's subject for a delivery row: the delivered subject and its environment. */
/** What a staff alert about a delivery says of it: never the secret, the link or the full address. */
export function staffAlertFacts(d: Pick<DeliveryRow, 'id' | 'display' | 'recipientEmail'>, publicBaseUrl: string) {
  return {
    partnerName: d.display.partnerName,
    apiName: d.display.apiName,
    environment: envLabel(d.display.environment),
    clientId: d.display.clientId,
    recipient: maskEmail(d.recipientEmail),
    deliveryId: d.id,
    consoleUrl: `${publicBaseUrl}/console/credentials`,
  };
}

export function auditSubject(d: Pick<DeliveryRow, 'subjectType' | 'subjectId' | 'display'>) {
  return { subjectType: d.subjectType, subjectId: d.subjectId, environment: d.display.environment };
}

export function effectiveState(d: Pick<DeliveryRow, 'state' | 'expiresAt'>, now: Date): DeliveryState {
  return d.state === 'pending' && d.expiresAt <= now ? 'expired' : d.state;
}

export function envLabel(env: string, lang: Lang = 'en'): string {
  return environmentName(env, lang);
}

export const formatTime = formatTimeIn;
