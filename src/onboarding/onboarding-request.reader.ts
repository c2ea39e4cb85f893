import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { NotFoundError } from '../common/domain-error.js';
import { PartnersService } from '../partners/partners.service.js';
import { OnboardingRepository } from './onboarding.repository.js';
import type { ApprovalView, OnboardingRequestView } from './onboarding.types.js';

/** How an onboarding request reads: its view (partner, contact, items, approvals) and its audit history. */
@Injectable()
export class OnboardingRequestReader {
  constructor(
    private readonly repo: OnboardingRepository,
    private readonly partners: PartnersService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async get(id: string): Promise<OnboardingRequestView> {
    const view = await this.view(id);
    if (!view) throw new NotFoundError('onboarding/not_found', 'No onboarding request with this id.');
    return view;
  }

  /** The request's audit events, newest first, with staff names where the actor is staff. */
  async history(id: string) {
    const events = await this.audit.find({ subjectType: 'onboarding_request', subjectId: id, limit: 200 });
    const names = await this.repo.staffNames([...new Set(events.filter((e) => e.actorType === 'staff' && e.actorId).map((e) => e.actorId!))]);
    return events.map((e) => ({ ...e, actorName: e.actorType === 'staff' && e.actorId ? (names.get(e.actorId) ?? null) : null }));
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
      contact: {
        id: contact!.id,
        name: contact!.name,
        email: contact!.email,
        mobile: contact!.mobile,
        language: contact!.language,
        attached: contact!.attached,
      },
      contactVouchedById: row.contactVouchedById,
      applicant: { legalName: row.applicantLegalName, contactName: row.applicantContactName },
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
