import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, GoneError, InvalidInputError, NotFoundError, RateLimitedError } from '../common/domain-error.js';
import { hmacSha256Hex } from '../common/crypto.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { Environment, OnboardingState } from '../generated/prisma/enums.js';
import { PartnersService } from '../partners/partners.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { nextState, type OnboardingEvent } from './onboarding-request.state.js';
import { OnboardingNotifier } from './onboarding.notifier.js';
import { OnboardingRepository, type ApprovalRow, type RequestCore } from './onboarding.repository.js';
import { STATUS_TOKEN_PATTERN, newReference, newStatusToken, statusTokenHash } from './onboarding.tokens.js';
import type {
  ApprovalForIssuing,
  ApprovalView,
  CatalogueEntry,
  EditInput,
  IssuableApproval,
  OnboardingListFilter,
  OnboardingListRow,
  OnboardingRequestView,
  RequestedItem,
  SubmitInput,
} from './onboarding.types.js';

const DAY_MS = 24 * 3600_000;
const HOUR_MS = 3600_000;

/** Audit action per event: `onboarding.<what happened>`. */
const ACTION: Record<OnboardingEvent, string> = {
  start_review: 'onboarding.review_started',
  approve_partially: 'onboarding.approved',
  approve: 'onboarding.approved',
  renew_approval: 'onboarding.approval_renewed',
  reject: 'onboarding.rejected',
  request_changes: 'onboarding.changes_requested',
  resubmit: 'onboarding.resubmitted',
  withdraw: 'onboarding.withdrawn',
};

@Injectable()
export class OnboardingService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: OnboardingRepository,
    private readonly partners: PartnersService,
    private readonly audit: AuditService,
    private readonly notifier: OnboardingNotifier,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  catalogue(): Promise<CatalogueEntry[]> {
    return this.repo.catalogue();
  }

  /**
   * A new request, from the partner (intake page) or from staff on the partner's behalf (`ctx.actor`
   * is then staff, who counts as its creator and last editor for four-eyes). Returns the status-link token once.
   */
  async submit(ctx: RequestContext, input: SubmitInput): Promise<{ id: string; reference: string; statusToken: string }> {
    const staffId = ctx.actor.type === 'staff' ? ctx.actor.id : null;
    const statusToken = newStatusToken();
    const id = randomUUID();
    return this.prisma.transaction(async (tx) => {
      const items = await this.resolveItems(tx, input.items);
      const registered = await this.partners.register(tx, ctx, input.partner, { ...input.contact, language: input.language });
      const { partner, contact, partnerCreated, contactCreated } = registered;
      // A partner's own submission is attributed to the technical contact it names.
      if (ctx.actor.type === 'partner_contact') ctx = { ...ctx, actor: { type: 'partner_contact', id: contact.id } };
      const now = this.clock.now();
      const reference = await this.repo.insert(
        tx,
        { id, partnerId: partner.id, contactId: contact.id, purpose: input.purpose.trim(), language: input.language, statusTokenHash: this.hashToken(statusToken), createdByStaffId: staffId, now },
        newReference,
      );
      await this.repo.replaceItems(tx, id, items.map((i) => i.apiEnvironmentId));
      await this.audit.record(tx, ctx, {
        action: 'onboarding.submitted',
        subjectType: 'onboarding_request',
        subjectId: id,
        detail: {
          reference,
          to: 'submitted',
          version: 1,
          partnerId: partner.id,
          contactId: contact.id,
          // A new contact on a known partner is worth a reviewer's second look (who added it?).
          newPartner: partnerCreated,
          newContact: contactCreated,
          onBehalf: staffId !== null,
          items: items.map((i) => `${i.apiKey}:${i.environment}`),
        },
      });
      await this.notifier.received(tx, { id, reference, version: 1, language: input.language, partnerName: partner.legalName, contact, items, statusUrl: this.statusUrl(statusToken) });
      return { id, reference, statusToken };
    });
  }

  statusUrl(token: string): string {
    return `${this.config.publicBaseUrl}/requests/${token}`;
  }

  async get(id: string): Promise<OnboardingRequestView> {
    const view = await this.view(id);
    if (!view) throw new NotFoundError('onboarding/not_found', 'No onboarding request with this id.');
    return view;
  }

  /** The partner's view through the status link; an unknown or malformed token is simply not found. */
  async getByStatusToken(token: string): Promise<OnboardingRequestView> {
    const core = STATUS_TOKEN_PATTERN.test(token) ? await this.repo.coreByStatusTokenHash(this.hashToken(token)) : null;
    if (!core) throw new NotFoundError('onboarding/status_link_unknown', 'This status link is not valid. Use the link from your confirmation email.');
    return this.get(core.id);
  }

  list(filter: OnboardingListFilter): Promise<{ rows: OnboardingListRow[]; total: number }> {
    return this.repo.list(filter);
  }

  partnerContacts(partnerId: string) {
    return this.partners.contactsOf(partnerId);
  }

  countsByState(): Promise<Record<string, number>> {
    return this.repo.countsByState();
  }

  /** The request's audit events, newest first, with staff names where the actor is staff. */
  async history(id: string) {
    const events = await this.audit.find({ subjectType: 'onboarding_request', subjectId: id, limit: 200 });
    const names = await this.repo.staffNames([...new Set(events.filter((e) => e.actorType === 'staff' && e.actorId).map((e) => e.actorId!))]);
    return events.map((e) => ({ ...e, actorName: e.actorType === 'staff' && e.actorId ? (names.get(e.actorId) ?? null) : null }));
  }

  startReview(ctx: RequestContext, id: string, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(ctx, id, expectedVersion, async (tx, req) => {
      await this.move(tx, ctx, req, 'start_review', { reviewStartedById: ctx.actor.id });
    });
  }

  /**
   * Approves one environment. Four-eyes: not by whoever created or last edited the request.
   * Production needs its own approval, after Acceptance when Acceptance was asked for too (Acceptance first);
   * a request for Production only may be approved for Production directly.
   */
  approve(ctx: RequestContext, id: string, environment: Environment, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(ctx, id, expectedVersion, async (tx, req) => {
      if (ctx.actor.type !== 'staff' || !ctx.actor.id) throw new ForbiddenError('onboarding/staff_only', 'Only staff approve requests.');
      if (ctx.actor.id === req.createdByStaffId || ctx.actor.id === req.lastEditedById) {
        throw new ForbiddenError('onboarding/four_eyes', 'You created or last edited this request, so another reviewer must approve it.');
      }
      const items = await this.repo.itemsOf(req.id, tx);
      const requested = new Set(items.map((i) => i.environment));
      if (!requested.has(environment)) {
        throw new InvalidInputError('onboarding/environment_not_requested', `This request does not ask for ${environment} access.`, { fields: { environment: ['Not requested'] } });
      }
      const now = this.clock.now();
      const approvals = await this.repo.approvals(req.id, tx);
      const live = (a: ApprovalRow | undefined) => !!a && (a.issuedAt !== null || a.expiresAt > now);
      const existing = approvals.find((a) => a.environment === environment);
      const approvedAfter = new Set([...approvals.filter(live).map((a) => a.environment), environment]);
      const completes = [...requested].every((e) => approvedAfter.has(e));
      // Credentials issued before the request was changed and resubmitted stay valid: approving that
      // environment again only confirms it (no new approval, no email), when it is the last decision missing.
      const confirmsIssued = !!existing?.issuedAt && req.state === 'in_review' && completes;
      if (live(existing) && !confirmsIssued) throw new ConflictError('onboarding/already_approved', `${label(environment)} is already approved.`);
      if (environment === 'production' && requested.has('acceptance') && !live(approvals.find((a) => a.environment === 'acceptance'))) {
        throw new ConflictError('onboarding/acceptance_first', 'Approve Acceptance first: Production is approved separately, after Acceptance.');
      }
      const event: OnboardingEvent = req.state === 'approved' ? 'renew_approval' : completes ? 'approve' : 'approve_partially';
      const expiresAt = new Date(now.getTime() + this.config.onboarding.approvalTtlDays * DAY_MS);
      await this.move(tx, ctx, req, event, {}, { environment, extra: confirmsIssued ? { confirmsIssued: true } : { expiresAt: expiresAt.toISOString() } });
      if (confirmsIssued) return;
      if (!(await this.repo.putApproval(tx, { requestId: req.id, environment, approvedById: ctx.actor.id, approvedAt: now, expiresAt }))) {
        throw new ConflictError('onboarding/conflict', 'Someone else changed this approval at the same time. Reload and try again.');
      }
      const contact = await this.contactOf(tx, req);
      await this.notifier.approved(tx, { ...(await this.mailBase(tx, req)), contact, environment, expiresAt, version: req.version + 1 });
    });
  }

  reject(ctx: RequestContext, id: string, reason: string, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(ctx, id, expectedVersion, async (tx, req) => {
      await this.move(tx, ctx, req, 'reject', { decisionReason: reason.trim() });
      await this.notifier.rejected(tx, { ...(await this.mailBase(tx, req)), contact: await this.contactOf(tx, req), reason: reason.trim(), version: req.version + 1 });
    });
  }

  requestChanges(ctx: RequestContext, id: string, note: string, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(ctx, id, expectedVersion, async (tx, req) => {
      await this.move(tx, ctx, req, 'request_changes', { decisionReason: note.trim() });
      await this.notifier.changesRequested(tx, { ...(await this.mailBase(tx, req)), contact: await this.contactOf(tx, req), note: note.trim(), version: req.version + 1 });
    });
  }

  /** Staff correct purpose or items while the request is open; they then count as its last editor. */
  edit(ctx: RequestContext, id: string, input: EditInput, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(ctx, id, expectedVersion, async (tx, req) => {
      if (!['submitted', 'in_review', 'changes_requested'].includes(req.state)) {
        throw new ConflictError('onboarding/invalid_transition', `A request that is ${req.state.replace('_', ' ')} can no longer be edited.`, { state: req.state, event: 'edit' });
      }
      const items = input.items ? await this.resolveItems(tx, input.items) : null;
      const version = await this.repo.changeState(tx, {
        id: req.id,
        from: req.state,
        to: req.state,
        version: req.version,
        now: this.clock.now(),
        set: { lastEditedById: ctx.actor.id, ...(input.purpose !== undefined ? { purpose: input.purpose.trim() } : {}) },
      });
      if (version === null) throw conflict();
      if (items) {
        await this.repo.replaceItems(tx, req.id, items.map((i) => i.apiEnvironmentId));
        await this.repo.deleteUnissuedApprovals(tx, req.id);
      }
      await this.audit.record(tx, ctx, {
        action: 'onboarding.edited',
        subjectType: 'onboarding_request',
        subjectId: req.id,
        detail: { from: req.state, to: req.state, version, fields: Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined), ...(items ? { items: items.map((i) => `${i.apiKey}:${i.environment}`) } : {}) },
      });
    });
  }

  /** The partner withdraws through the status link. */
  async withdrawByPartner(ctx: RequestContext, token: string, reason?: string): Promise<OnboardingRequestView> {
    const req = await this.partnerRequest(token);
    return this.act(this.asContact(ctx, req), req.id, undefined, async (tx, current) => {
      await this.move(tx, this.asContact(ctx, req), current, 'withdraw', { withdrawnReason: reason?.trim() || null });
    });
  }

  /** Staff withdraw on the partner's behalf (e.g. asked by phone). */
  withdraw(ctx: RequestContext, id: string, reason: string | undefined, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(ctx, id, expectedVersion, async (tx, req) => {
      await this.move(tx, ctx, req, 'withdraw', { withdrawnReason: reason?.trim() || null });
    });
  }

  /**
   * The partner answers "changes requested": purpose and items may change, the contact may not (its
   * mobile number is a second factor for secrets and is not changed through a link). Unissued
   * approvals are dropped: the changed request is reviewed again.
   */
  async resubmitByPartner(ctx: RequestContext, token: string, input: { purpose: string; items: RequestedItem[] }, expectedVersion?: number): Promise<OnboardingRequestView> {
    const req = await this.partnerRequest(token);
    const c = this.asContact(ctx, req);
    return this.act(c, req.id, expectedVersion, async (tx, current) => {
      const items = await this.resolveItems(tx, input.items);
      await this.move(tx, c, current, 'resubmit', { purpose: input.purpose.trim(), decisionReason: null });
      await this.repo.replaceItems(tx, current.id, items.map((i) => i.apiEnvironmentId));
      await this.repo.deleteUnissuedApprovals(tx, current.id);
      const base = await this.mailBase(tx, current);
      await this.notifier.received(tx, { ...base, contact: await this.contactOf(tx, current), items, version: current.version + 1, statusUrl: this.statusUrl(token) });
    });
  }

  // ---------------------------------------------------------------- the seam for the credentials feature

  /**
   * Marks `environment`'s approval of the request as used for issuing, in the caller's transaction and in
   * one conditional UPDATE (unissued, unexpired, request still live): of concurrent callers exactly one succeeds.
   */
  async takeApprovalForIssuing(tx: Tx, ctx: RequestContext, requestId: string, environment: Environment): Promise<ApprovalForIssuing> {
    const now = this.clock.now();
    if (!(await this.repo.takeApproval(tx, requestId, environment, now))) {
      const req = await this.repo.core(requestId, tx);
      const approval = req ? (await this.repo.approvals(requestId, tx)).find((a) => a.environment === environment) : undefined;
      if (!req || !approval || !['in_review', 'approved'].includes(req.state)) {
        throw new ConflictError('onboarding/approval_missing', `This request has no ${label(environment)} approval to issue credentials from.`);
      }
      if (approval.issuedAt) throw new ConflictError('onboarding/already_issued', `Credentials were already issued for ${label(environment)} on this request.`);
      throw new GoneError('onboarding/approval_expired', `The ${label(environment)} approval expired on ${approval.expiresAt.toISOString()}; it must be approved again.`);
    }
    const req = (await this.repo.core(requestId, tx))!;
    const contact = await this.contactOf(tx, req);
    const partner = (await tx.partner.findUniqueOrThrow({ where: { id: req.partnerId }, select: { id: true, legalName: true } }));
    const items = (await this.repo.itemsOf(requestId, tx)).filter((i) => i.environment === environment);
    await this.audit.record(tx, ctx, {
      action: 'onboarding.approval_used',
      subjectType: 'onboarding_request',
      subjectId: requestId,
      environment,
      detail: { reference: req.reference, items: items.map((i) => i.apiKey) },
    });
    return {
      requestId,
      reference: req.reference,
      partner,
      contact: { id: contact.id, name: contact.name, email: contact.email, mobile: contact.mobile, language: contact.language },
      items: items.map((i) => ({ apiEnvironmentId: i.apiEnvironmentId, apiKey: i.apiKey, apiName: i.apiName, environment: i.environment, baseUrl: i.baseUrl, audience: i.audience })),
    };
  }

  /** Approved, not yet issued, not expired: what staff can issue credentials for now. */
  listIssuable(): Promise<IssuableApproval[]> {
    return this.repo.issuable(this.clock.now());
  }

  // ---------------------------------------------------------------- intake protection

  /** Counts one intake submission for this client IP; over the hourly limit it refuses with 429. */
  async countIntake(clientIp: string | null): Promise<void> {
    const now = this.clock.now().getTime();
    const windowStart = new Date(Math.floor(now / HOUR_MS) * HOUR_MS);
    const bucket = hmacSha256Hex(this.config.secretHashKey, `intake-ip:${clientIp ?? 'unknown'}`);
    const count = await this.repo.hitRateLimit(bucket, windowStart);
    if (count > this.config.onboarding.intakeRatePerHour) {
      throw new RateLimitedError('intake/rate_limited', 'Too many applications from your network in the last hour. Please try again later.', (windowStart.getTime() + HOUR_MS - now) / 1000);
    }
  }

  // ---------------------------------------------------------------- internals

  private hashToken(token: string): string {
    return statusTokenHash(this.config.secretHashKey, token);
  }

  private async partnerRequest(token: string): Promise<RequestCore> {
    const core = STATUS_TOKEN_PATTERN.test(token) ? await this.repo.coreByStatusTokenHash(this.hashToken(token)) : null;
    if (!core) throw new NotFoundError('onboarding/status_link_unknown', 'This status link is not valid. Use the link from your confirmation email.');
    return core;
  }

  private asContact(ctx: RequestContext, req: RequestCore): RequestContext {
    return { ...ctx, actor: { type: 'partner_contact', id: req.contactId } };
  }

  /** Loads the request, checks the caller's version if given, runs `fn` in one transaction, returns the new view. */
  private async act(ctx: RequestContext, id: string, expectedVersion: number | undefined, fn: (tx: Tx, req: RequestCore) => Promise<void>): Promise<OnboardingRequestView> {
    await this.prisma.transaction(async (tx) => {
      const req = await this.repo.core(id, tx);
      if (!req) throw new NotFoundError('onboarding/not_found', 'No onboarding request with this id.');
      if (expectedVersion !== undefined && expectedVersion !== req.version) throw conflict({ expectedVersion, currentVersion: req.version });
      await fn(tx, req);
    });
    return this.get(id);
  }

  /** One state change: the table decides, one conditional UPDATE enforces, the audit row records. */
  private async move(
    tx: Tx,
    ctx: RequestContext,
    req: RequestCore,
    event: OnboardingEvent,
    set: NonNullable<Parameters<OnboardingRepository['changeState']>[1]['set']>,
    audit: { environment?: Environment; extra?: Record<string, unknown> } = {},
  ): Promise<number> {
    const to = nextState(req.state, event);
    const version = await this.repo.changeState(tx, { id: req.id, from: req.state, to, version: req.version, now: this.clock.now(), set });
    if (version === null) throw conflict();
    await this.audit.record(tx, ctx, {
      action: ACTION[event],
      subjectType: 'onboarding_request',
      subjectId: req.id,
      environment: audit.environment ?? null,
      detail: { reference: req.reference, event, from: req.state, to, version, ...audit.extra },
    });
    return version;
  }

  /** Maps requested (api key, environment) pairs onto the catalogue; anything unknown is a 400 naming it. */
  private async resolveItems(tx: Tx, items: RequestedItem[]): Promise<CatalogueEntry[]> {
    const catalogue = await this.repo.catalogue(tx);
    const unknown: string[] = [];
    const picked = new Map<string, CatalogueEntry>();
    for (const item of items) {
      const entry = catalogue.find((c) => c.apiKey === item.api && c.environment === item.environment);
      if (!entry) unknown.push(`${item.api}:${item.environment}`);
      else picked.set(entry.apiEnvironmentId, entry);
    }
    if (unknown.length) {
      throw new InvalidInputError('onboarding/unknown_api', `Unknown API or environment: ${unknown.join(', ')}.`, {
        fields: { items: [`Choose from: ${[...new Set(catalogue.map((c) => c.apiKey))].join(', ')} (acceptance or production)`] },
        unknown,
      });
    }
    if (!picked.size) throw new InvalidInputError('onboarding/no_items', 'Choose at least one API and environment.', { fields: { items: ['Choose at least one API and environment'] } });
    return [...picked.values()];
  }

  private async contactOf(tx: Tx, req: RequestCore) {
    const contact = await this.partners.contact(req.contactId, tx);
    if (!contact) throw new Error(`onboarding request ${req.id} has no contact`);
    return contact;
  }

  private async mailBase(tx: Tx, req: RequestCore) {
    const partner = await tx.partner.findUniqueOrThrow({ where: { id: req.partnerId }, select: { legalName: true } });
    return { id: req.id, reference: req.reference, language: req.language, partnerName: partner.legalName, items: await this.repo.itemsOf(req.id, tx) };
  }

  private async view(id: string): Promise<OnboardingRequestView | null> {
    const row = await this.repo.full(id);
    if (!row) return null;
    const [contact, items, approvals] = await Promise.all([this.partners.contact(row.contactId), this.repo.itemsOf(id), this.repo.approvals(id)]);
    const names = await this.repo.staffNames(approvals.map((a) => a.approvedById));
    const now = this.clock.now();
    return {
      id: row.id,
      reference: row.reference,
      state: row.state,
      version: row.version,
      purpose: row.purpose,
      language: row.language,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      createdByStaffId: row.createdByStaffId,
      lastEditedById: row.lastEditedById,
      reviewStartedById: row.reviewStartedById,
      decisionReason: row.decisionReason,
      withdrawnReason: row.withdrawnReason,
      partner: {
        id: row.partner.id,
        legalName: row.partner.legalName,
        registrationNumber: row.partner.registrationNumber,
        country: row.partner.country,
        businessRepresentative: row.partner.businessRepresentative,
      },
      contact: { id: contact!.id, name: contact!.name, email: contact!.email, mobile: contact!.mobile, language: contact!.language },
      items: items.map((i) => ({ apiEnvironmentId: i.apiEnvironmentId, apiKey: i.apiKey, apiName: i.apiName, environment: i.environment })),
      approvals: approvals.map((a): ApprovalView => ({
        environment: a.environment,
        approvedById: a.approvedById,
        approvedByName: names.get(a.approvedById) ?? null,
        approvedAt: a.approvedAt.toISOString(),
        expiresAt: a.expiresAt.toISOString(),
        issuedAt: a.issuedAt?.toISOString() ?? null,
        status: a.issuedAt ? 'issued' : a.expiresAt > now ? 'valid' : 'expired',
      })),
    };
  }
}

function conflict(details?: Record<string, unknown>): ConflictError {
  return new ConflictError('onboarding/conflict', 'Someone else changed this request at the same time. Reload it and try again.', details);
}

function label(environment: Environment): string {
  return environment === 'production' ? 'Production' : 'Acceptance';
}

export type { OnboardingState };
