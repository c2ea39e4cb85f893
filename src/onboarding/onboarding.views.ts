import { ApiProperty } from '@nestjs/swagger';
import { AuditEventView, toAuditEventView } from '../audit/audit.views.js';
import type { AuditEventView as AuditEvent } from '../audit/audit.types.js';
import type { Environment, Language, OnboardingState } from '../generated/prisma/enums.js';
import { ONBOARDING_STATES } from './onboarding-request.state.js';
import type { CatalogueEntry, IssuableApproval, OnboardingListRow } from './onboarding.types.js';

// What the JSON API answers about onboarding requests, built field by field from the services' results.

const ENVIRONMENTS = ['acceptance', 'production'];
const DATE = { type: String, format: 'date-time' } as const;
const NULLABLE_DATE = { type: String, format: 'date-time', nullable: true } as const;
const NULLABLE_ID = { type: String, format: 'uuid', nullable: true } as const;

export class RequestableApiView {
  @ApiProperty({ format: 'uuid' }) apiEnvironmentId!: string;
  @ApiProperty({ example: 'business' }) apiKey!: string;
  @ApiProperty({ example: 'Business API' }) apiName!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty() baseUrl!: string;
  @ApiProperty() audience!: string;
}

export function toRequestableApiView(e: CatalogueEntry): RequestableApiView {
  return { apiEnvironmentId: e.apiEnvironmentId, apiKey: e.apiKey, apiName: e.apiName, environment: e.environment, baseUrl: e.baseUrl, audience: e.audience };
}

export class CreatedOnboardingRequestView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'OB-7K3M-Q9XA' }) reference!: string;
  @ApiProperty({ description: "The partner's private status page; returned only here and in the receipt email" }) statusUrl!: string;
}

export class RequestPartnerView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() legalName!: string;
  @ApiProperty() registrationNumber!: string;
  @ApiProperty({ example: 'NL' }) country!: string;
  @ApiProperty({ type: String, nullable: true }) businessRepresentative!: string | null;
}

export class RequestContactView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() email!: string;
  @ApiProperty() mobile!: string;
  @ApiProperty({ enum: ['nl', 'en'] }) language!: Language;
  @ApiProperty({ description: "False while a new contact of a known partner waits for a second reviewer: it is not yet one of the partner's contacts" })
  attached!: boolean;
}

export class RequestApplicantView {
  @ApiProperty({ description: 'The organisation name as the applicant typed it (may differ from the recorded partner name)' }) legalName!: string;
  @ApiProperty({ description: 'The contact name as the applicant typed it' }) contactName!: string;
}

export class RequestItemView {
  @ApiProperty({ format: 'uuid' }) apiEnvironmentId!: string;
  @ApiProperty() apiKey!: string;
  @ApiProperty() apiName!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
}

export class ApprovalView {
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty({ format: 'uuid' }) approvedById!: string;
  @ApiProperty({ type: String, nullable: true }) approvedByName!: string | null;
  @ApiProperty(DATE) approvedAt!: string;
  @ApiProperty({ ...DATE, description: 'Unless credentials were issued, the approval lapses then (APPROVAL_TTL_DAYS)' }) expiresAt!: string;
  @ApiProperty(NULLABLE_DATE) issuedAt!: string | null;
  @ApiProperty({ enum: ['valid', 'issued', 'expired'] }) status!: 'valid' | 'issued' | 'expired';
}

/** Built field by field by the onboarding service (`OnboardingRequestReader.view`); documented here. */
export class OnboardingRequestView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'OB-7K3M-Q9XA' }) reference!: string;
  @ApiProperty({ enum: ONBOARDING_STATES }) state!: OnboardingState;
  @ApiProperty({ description: 'Send it back as `version`; a newer one gives 409 onboarding/conflict' }) version!: number;
  @ApiProperty() purpose!: string;
  @ApiProperty({ enum: ['nl', 'en'] }) language!: Language;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty(DATE) updatedAt!: string;
  @ApiProperty(NULLABLE_ID) createdByStaffId!: string | null;
  @ApiProperty(NULLABLE_ID) lastEditedById!: string | null;
  @ApiProperty(NULLABLE_ID) reviewStartedById!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The rejection reason or the changes asked for, shown to the partner' }) decisionReason!:
    string | null;
  @ApiProperty({ type: String, nullable: true }) withdrawnReason!: string | null;
  @ApiProperty({ type: RequestPartnerView }) partner!: RequestPartnerView;
  @ApiProperty({ type: RequestContactView }) contact!: RequestContactView;
  @ApiProperty({ ...NULLABLE_ID, description: 'The reviewer who confirmed a new contact of a known partner; a different reviewer approves' })
  contactVouchedById!: string | null;
  @ApiProperty({ type: RequestApplicantView, description: "What the partner's own pages and emails show" }) applicant!: RequestApplicantView;
  @ApiProperty({ type: [RequestItemView] }) items!: RequestItemView[];
  @ApiProperty({ type: [ApprovalView] }) approvals!: ApprovalView[];
}

export class ListedItemView {
  @ApiProperty() apiKey!: string;
  @ApiProperty() apiName!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
}

export class OnboardingListRowView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() reference!: string;
  @ApiProperty({ enum: ONBOARDING_STATES }) state!: OnboardingState;
  @ApiProperty() partnerName!: string;
  @ApiProperty() contactEmail!: string;
  @ApiProperty(DATE) createdAt!: string;
  @ApiProperty(DATE) updatedAt!: string;
  @ApiProperty({ type: [ListedItemView] }) items!: ListedItemView[];
}

export class OnboardingQueueView {
  @ApiProperty({ type: [OnboardingListRowView], description: 'Most recently changed first' }) rows!: OnboardingListRowView[];
  @ApiProperty({ description: 'Matching requests in all pages' }) total!: number;
}

export function toOnboardingQueueView(q: { rows: OnboardingListRow[]; total: number }): OnboardingQueueView {
  return {
    total: q.total,
    rows: q.rows.map((r) => ({
      id: r.id,
      reference: r.reference,
      state: r.state,
      partnerName: r.partnerName,
      contactEmail: r.contactEmail,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      items: r.items.map((i) => ({ apiKey: i.apiKey, apiName: i.apiName, environment: i.environment })),
    })),
  };
}

export class IssuableItemView {
  @ApiProperty({ format: 'uuid' }) apiEnvironmentId!: string;
  @ApiProperty() apiKey!: string;
  @ApiProperty() apiName!: string;
}

export class IssuableApprovalView {
  @ApiProperty({ format: 'uuid' }) requestId!: string;
  @ApiProperty() reference!: string;
  @ApiProperty() partnerName!: string;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty({ format: 'uuid', description: 'For Production, whoever approved it cannot issue it' }) approvedById!: string;
  @ApiProperty(DATE) approvedAt!: string;
  @ApiProperty(DATE) expiresAt!: string;
  @ApiProperty({ type: [IssuableItemView] }) items!: IssuableItemView[];
}

export function toIssuableApprovalView(a: IssuableApproval): IssuableApprovalView {
  return {
    requestId: a.requestId,
    reference: a.reference,
    partnerName: a.partnerName,
    environment: a.environment,
    approvedById: a.approvedById,
    approvedAt: a.approvedAt,
    expiresAt: a.expiresAt,
    items: a.items.map((i) => ({ apiEnvironmentId: i.apiEnvironmentId, apiKey: i.apiKey, apiName: i.apiName })),
  };
}

export class RequestHistoryEventView extends AuditEventView {
  @ApiProperty({ type: String, nullable: true, description: "The staff member's name when the actor is staff" }) actorName!: string | null;
}

export function toRequestHistoryEventView(e: AuditEvent & { actorName: string | null }): RequestHistoryEventView {
  return { ...toAuditEventView(e), actorName: e.actorName };
}
