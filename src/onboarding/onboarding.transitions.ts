import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { Environment } from '../generated/prisma/enums.js';
import { PartnersService } from '../partners/partners.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { nextState, type OnboardingEvent } from './onboarding-request.state.js';
import { OnboardingRepository, type RequestCore } from './onboarding.repository.js';
import { openStatusToken } from './onboarding.tokens.js';
import type { CatalogueEntry } from './onboarding.types.js';

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

/** How an existing request changes, shared by the requesting side (OnboardingService) and the reviewers (OnboardingReviewService). */
@Injectable()
export class OnboardingTransitions {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: OnboardingRepository,
    private readonly partners: PartnersService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Loads the request, checks the caller's version if given, and runs `fn` in one transaction. */
  async act(id: string, expectedVersion: number | undefined, fn: (tx: Tx, req: RequestCore) => Promise<void>): Promise<void> {
    await this.prisma.transaction(async (tx) => {
      const req = await this.repo.core(id, tx);
      if (!req) throw new NotFoundError('onboarding/not_found', 'No onboarding request with this id.');
      if (expectedVersion !== undefined && expectedVersion !== req.version) throw conflict({ expectedVersion, currentVersion: req.version });
      await fn(tx, req);
    });
  }

  /** One state change: the table decides, one conditional UPDATE enforces, the audit row records. */
  async move(
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

  async contactOf(tx: Tx, req: RequestCore) {
    const contact = await this.partners.contact(req.contactId, tx);
    if (!contact) throw new Error(`onboarding request ${req.id} has no contact`);
    return contact;
  }

  async partnerOf(tx: Tx, req: RequestCore) {
    const partner = await this.partners.partner(req.partnerId, tx);
    if (!partner) throw new Error(`onboarding request ${req.id} has no partner`);
    return partner;
  }

  /** What every partner email names (as the applicant typed it); `items` when the caller already holds the request's items. */
  async mailBase(tx: Tx, req: RequestCore, items?: CatalogueEntry[]) {
    return {
      id: req.id,
      reference: req.reference,
      language: req.language,
      partnerName: req.applicantLegalName,
      contactName: req.applicantContactName,
      items: items ?? (await this.repo.itemsOf(req.id, tx)),
      statusUrl: await this.statusUrlOf(tx, req.id),
    };
  }

  /** The partner's status link, for emails sent after the receipt; null for requests saved before it was kept. */
  private async statusUrlOf(tx: Tx, id: string): Promise<string | null> {
    const sealed = await this.repo.sealedStatusToken(tx, id);
    return sealed ? `${this.config.publicBaseUrl}/requests/${openStatusToken(this.config.masterKeys, id, sealed)}` : null;
  }
}

export function conflict(details?: Record<string, unknown>): ConflictError {
  return new ConflictError('onboarding/conflict', 'Someone else changed this request at the same time. Reload it and try again.', details);
}
