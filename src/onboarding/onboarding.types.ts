import type { Environment, Language, OnboardingState } from '../generated/prisma/enums.js';

export interface CatalogueEntry {
  apiEnvironmentId: string;
  apiKey: string;
  apiName: string;
  environment: Environment;
  baseUrl: string;
  audience: string;
}

export interface RequestedItem {
  /** `api_product.key` from the catalogue, e.g. `business`. */
  api: string;
  environment: Environment;
}

export interface SubmitInput {
  partner: { legalName: string; registrationNumber: string; country: string; businessRepresentative?: string | null };
  contact: { name: string; email: string; mobile: string };
  language: Language;
  purpose: string;
  items: RequestedItem[];
}

export interface EditInput {
  purpose?: string;
  items?: RequestedItem[];
}

export type ApprovalStatus = 'valid' | 'issued' | 'expired';

export interface ApprovalView {
  environment: Environment;
  approvedById: string;
  approvedByName: string | null;
  approvedAt: string;
  expiresAt: string;
  issuedAt: string | null;
  status: ApprovalStatus;
}

export interface OnboardingRequestView {
  id: string;
  reference: string;
  state: OnboardingState;
  version: number;
  purpose: string;
  language: Language;
  createdAt: string;
  updatedAt: string;
  createdByStaffId: string | null;
  lastEditedById: string | null;
  reviewStartedById: string | null;
  /** The rejection reason or the changes asked for, shown to the partner. */
  decisionReason: string | null;
  withdrawnReason: string | null;
  partner: { id: string; legalName: string; registrationNumber: string; country: string; businessRepresentative: string | null };
  /** `attached` is false while a new contact of a known partner waits for a second reviewer. */
  contact: { id: string; name: string; email: string; mobile: string; language: Language; attached: boolean };
  /** The reviewer who checked that waiting contact; a different reviewer approves. */
  contactVouchedById: string | null;
  /** The names as the applicant typed them: what the partner's own pages and emails show. */
  applicant: { legalName: string; contactName: string };
  items: Array<{ apiEnvironmentId: string; apiKey: string; apiName: string; environment: Environment }>;
  approvals: ApprovalView[];
}

export interface OnboardingListFilter {
  q?: string;
  state?: OnboardingState;
  api?: string;
  environment?: Environment;
  /** By last change: newest first (default) or oldest first (what has waited longest). */
  sort?: 'newest' | 'oldest';
  limit: number;
  offset: number;
}

export interface OnboardingListRow {
  id: string;
  reference: string;
  state: OnboardingState;
  partnerName: string;
  contactEmail: string;
  createdAt: string;
  updatedAt: string;
  items: Array<{ apiKey: string; apiName: string; environment: Environment }>;
}

export interface IssuableApproval {
  requestId: string;
  reference: string;
  partnerName: string;
  environment: Environment;
  approvedById: string;
  approvedAt: string;
  expiresAt: string;
  items: Array<{ apiEnvironmentId: string; apiKey: string; apiName: string }>;
}

/** What the credentials feature receives when it takes an approval to issue credentials. */
export interface ApprovalForIssuing {
  requestId: string;
  reference: string;
  partner: { id: string; legalName: string };
  contact: { id: string; name: string; email: string; mobile: string; language: Language };
  items: Array<{ apiEnvironmentId: string; apiKey: string; apiName: string; environment: Environment; baseUrl: string; audience: string }>;
}
