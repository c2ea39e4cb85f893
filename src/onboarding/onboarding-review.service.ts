import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, GoneError, InvalidInputError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { Environment } from '../generated/prisma/enums.js';
import { PartnersService } from '../partners/partners.service.js';
import type { Tx } from '../prisma/prisma.service.js';
import type { OnboardingEvent } from './onboarding-request.state.js';
import { OnboardingNotifier } from './onboarding.notifier.js';
import { OnboardingRepository, type ApprovalRow, type RequestCore } from './onboarding.repository.js';
import { OnboardingService } from './onboarding.service.js';
import { OnboardingTransitions, conflict } from './onboarding.transitions.js';
import type { ApprovalForIssuing, IssuableApproval, OnboardingRequestView } from './onboarding.types.js';

const DAY_MS = 24 * 3600_000;

/** The reviewers' decisions on a request, and the approvals they give, which the credentials feature issues from. */
@Injectable()
export class OnboardingReviewService {
  constructor(
    private readonly onboarding: OnboardingService,
    private readonly transitions: OnboardingTransitions,
    private readonly repo: OnboardingRepository,
    private readonly audit: AuditService,
    private readonly notifier: OnboardingNotifier,
    private readonly partners: PartnersService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  startReview(ctx: RequestContext, id: string, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(id, expectedVersion, async (tx, req) => {
      await this.transitions.move(tx, ctx, req, 'start_review', { reviewStartedById: ctx.actor.id });
    });
  }

  /**
   * A reviewer vouches for the new technical contact an application names for an already known partner
   * (checked with the partner through a channel already known). Approval is then up to another reviewer.
   */
  confirmContact(ctx: RequestContext, id: string, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(id, expectedVersion, async (tx, req) => {
      if (ctx.actor.type !== 'staff' || !ctx.actor.id) throw new ForbiddenError('onboarding/staff_only', 'Only staff confirm contacts.');
      if (!['submitted', 'in_review'].includes(req.state)) {
        throw new ConflictError('onboarding/invalid_transition', `A request that is ${req.state.replace('_', ' ')} cannot have its contact confirmed.`, {
          state: req.state,
          event: 'confirm_contact',
        });
      }
      const contact = await this.transitions.contactOf(tx, req);
      if (contact.attached) throw new ConflictError('onboarding/contact_known', "This technical contact is already one of the partner's contacts.");
      if (req.contactVouchedById) throw new ConflictError('onboarding/contact_already_confirmed', 'Another reviewer already confirmed this contact.');
      const version = await this.repo.changeState(tx, {
        id: req.id,
        from: req.state,
        to: req.state,
        version: req.version,
        now: this.clock.now(),
        set: { contactVouchedById: ctx.actor.id },
      });
      if (version === null) throw conflict();
      await this.audit.record(tx, ctx, {
        action: 'onboarding.contact_confirmed',
        subjectType: 'onboarding_request',
        subjectId: req.id,
        detail: { reference: req.reference, from: req.state, to: req.state, version, contactId: contact.id, partnerId: contact.partnerId },
      });
    });
  }

  /**
   * Approves one environment. Four-eyes: not by whoever created or last edited the request, and for a
   * new contact of a known partner, not without a confirmation of that contact by a different reviewer.
   * Production needs its own approval, after Acceptance when Acceptance was asked for too (Acceptance first);
   * a request for Production only may be approved for Production directly.
   */
  approve(ctx: RequestContext, id: string, environment: Environment, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(id, expectedVersion, async (tx, req) => {
      if (ctx.actor.type !== 'staff' || !ctx.actor.id) throw new ForbiddenError('onboarding/staff_only', 'Only staff approve requests.');
      if (ctx.actor.id === req.createdByStaffId || ctx.actor.id === req.lastEditedById) {
        throw new ForbiddenError('onboarding/four_eyes', 'You created or last edited this request, so another reviewer must approve it.');
      }
      const contact = await this.transitions.contactOf(tx, req);
      if (!contact.attached) {
        if (!req.contactVouchedById) {
          throw new ForbiddenError(
            'onboarding/contact_unconfirmed',
            'This request names a new technical contact for a known partner: a reviewer must confirm the contact first, and another reviewer approves.',
          );
        }
        if (req.contactVouchedById === ctx.actor.id) {
          throw new ForbiddenError('onboarding/four_eyes', 'You confirmed the new technical contact, so another reviewer must approve this request.');
        }
      }
      const items = await this.repo.itemsOf(req.id, tx);
      const requested = new Set(items.map((i) => i.environment));
      if (!requested.has(environment)) {
        throw new InvalidInputError('onboarding/environment_not_requested', `This request does not ask for ${environment} access.`, {
          fields: { environment: ['Not requested'] },
        });
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
      await this.transitions.move(
        tx,
        ctx,
        req,
        event,
        {},
        { environment, extra: confirmsIssued ? { confirmsIssued: true } : { expiresAt: expiresAt.toISOString() } },
      );
      if (confirmsIssued) return;
      if (!(await this.repo.putApproval(tx, { requestId: req.id, environment, approvedById: ctx.actor.id, approvedAt: now, expiresAt }))) {
        throw new ConflictError('onboarding/conflict', 'Someone else changed this approval at the same time. Reload and try again.');
      }
      if (!contact.attached) {
        await this.partners.attach(tx, ctx, contact, now, { onboardingRequestId: req.id, confirmedById: req.contactVouchedById, approvedById: ctx.actor.id });
      }
      await this.notifier.approved(tx, { ...(await this.transitions.mailBase(tx, req, items)), contact, environment, expiresAt, version: req.version + 1 });
    });
  }

  reject(ctx: RequestContext, id: string, reason: string, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(id, expectedVersion, async (tx, req) => {
      await this.transitions.move(tx, ctx, req, 'reject', { decisionReason: reason.trim() });
      await this.notifier.rejected(tx, {
        ...(await this.transitions.mailBase(tx, req)),
        contact: await this.transitions.contactOf(tx, req),
        reason: reason.trim(),
        version: req.version + 1,
      });
    });
  }

  requestChanges(ctx: RequestContext, id: string, note: string, expectedVersion?: number): Promise<OnboardingRequestView> {
    return this.act(id, expectedVersion, async (tx, req) => {
      await this.transitions.move(tx, ctx, req, 'request_changes', { decisionReason: note.trim() });
      await this.notifier.changesRequested(tx, {
        ...(await this.transitions.mailBase(tx, req)),
        contact: await this.transitions.contactOf(tx, req),
        note: note.trim(),
        version: req.version + 1,
      });
    });
  }

  // ---------------------------------------------------------------- the seam for the credentials feature

  /**
   * Marks `environment`'s approval of the request as used for issuing, in the caller's transaction and in
   * one conditional UPDATE (unissued, unexpired, request still live): of concurrent callers exactly one succeeds.
   */
  async takeApprovalForIssuing(tx: Tx, ctx: RequestContext, requestId: string, environment: Environment): Promise<ApprovalForIssuing> {
    const now = this.clock.now();
    const issuerId = ctx.actor.type === 'staff' ? ctx.actor.id : null;
    if (!(await this.repo.takeApproval(tx, requestId, environment, now, issuerId))) {
      const req = await this.repo.core(requestId, tx);
      const approval = req ? (await this.repo.approvals(requestId, tx)).find((a) => a.environment === environment) : undefined;
      if (!req || !approval || !['in_review', 'approved'].includes(req.state)) {
        throw new ConflictError('onboarding/approval_missing', `This request has no ${label(environment)} approval to issue credentials from.`);
      }
      if (approval.issuedAt) throw new ConflictError('onboarding/already_issued', `Credentials were already issued for ${label(environment)} on this request.`);
      if (environment === 'production' && approval.expiresAt > now) {
        throw new ForbiddenError(
          'onboarding/four_eyes_issue',
          'You approved Production for this request: another reviewer must issue its credentials (four-eyes).',
        );
      }
      throw new GoneError(
        'onboarding/approval_expired',
        `The ${label(environment)} approval expired on ${approval.expiresAt.toISOString()}; it must be approved again.`,
      );
    }
    const req = (await this.repo.core(requestId, tx))!;
    const contact = await this.transitions.contactOf(tx, req);
    const { id: partnerId, legalName } = await this.transitions.partnerOf(tx, req);
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
      partner: { id: partnerId, legalName },
      contact: { id: contact.id, name: contact.name, email: contact.email, mobile: contact.mobile, language: contact.language },
      items: items.map((i) => ({
        apiEnvironmentId: i.apiEnvironmentId,
        apiKey: i.apiKey,
        apiName: i.apiName,
        environment: i.environment,
        baseUrl: i.baseUrl,
        audience: i.audience,
      })),
    };
  }

  /** Approved, not yet issued, not expired: what staff can issue credentials for now. */
  listIssuable(): Promise<IssuableApproval[]> {
    return this.repo.issuable(this.clock.now());
  }

  private async act(id: string, expectedVersion: number | undefined, fn: (tx: Tx, req: RequestCore) => Promise<void>): Promise<OnboardingRequestView> {
    await this.transitions.act(id, expectedVersion, fn);
    return this.onboarding.get(id);
  }
}

function label(environment: Environment): string {
  return environment === 'production' ? 'Production' : 'Acceptance';
}
