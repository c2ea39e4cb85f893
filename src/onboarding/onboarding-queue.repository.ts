import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service.js';

export interface WaitingRequestRow {
  id: string;
  reference: string;
  partnerName: string;
  state: 'submitted' | 'in_review';
  since: Date;
  createdByStaffId: string | null;
  lastEditedById: string | null;
  contactAttached: boolean;
  contactVouchedById: string | null;
}

export interface OpenApprovalRow {
  requestId: string;
  reference: string;
  partnerName: string;
  environment: 'acceptance' | 'production';
  approvedById: string;
  approvedAt: Date;
  expiresAt: Date;
}

/** Read models for the staff home and the overview: what waits, and how requests went per week. */
@Injectable()
export class OnboardingQueueRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Requests waiting for a reviewer, oldest first; `since` is when they last changed (submitted or resubmitted). */
  waitingRequests(limit = 200): Promise<WaitingRequestRow[]> {
    return this.prisma.$queryRaw<WaitingRequestRow[]>`
      SELECT r.id::text AS id, r.reference, p.legal_name AS "partnerName", r.state::text AS state, r.updated_at AS since,
        r.created_by_staff_id::text AS "createdByStaffId", r.last_edited_by_id::text AS "lastEditedById",
        (c.attached_at IS NOT NULL) AS "contactAttached", r.contact_vouched_by_id::text AS "contactVouchedById"
      FROM onboarding_request r JOIN partner p ON p.id = r.partner_id JOIN technical_contact c ON c.id = r.contact_id
      WHERE r.state IN ('submitted', 'in_review')
      ORDER BY r.updated_at ASC, r.id LIMIT ${limit}`;
  }

  /** Approvals whose credentials are not issued yet and that have not lapsed. */
  openApprovals(now: Date, limit = 200): Promise<OpenApprovalRow[]> {
    return this.prisma.$queryRaw<OpenApprovalRow[]>`
      SELECT r.id::text AS "requestId", r.reference, p.legal_name AS "partnerName", a.environment::text AS environment,
        a.approved_by_id::text AS "approvedById", a.approved_at AS "approvedAt", a.expires_at AS "expiresAt"
      FROM onboarding_approval a JOIN onboarding_request r ON r.id = a.request_id JOIN partner p ON p.id = r.partner_id
      WHERE a.issued_at IS NULL AND a.expires_at > ${now} AND r.state IN ('in_review', 'approved')
      ORDER BY a.approved_at ASC LIMIT ${limit}`;
  }

  /** Requests received per week (UTC, Monday first) since `from`, by where they stand now. */
  weeklyOutcomes(from: Date): Promise<Array<{ week: Date; outcome: string; n: number }>> {
    return this.prisma.$queryRaw<Array<{ week: Date; outcome: string; n: number }>>`
      SELECT (date_trunc('week', r.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS week,
        CASE WHEN r.state IN ('approved', 'rejected', 'withdrawn') THEN r.state::text ELSE 'open' END AS outcome, count(*)::int AS n
      FROM onboarding_request r WHERE r.created_at >= ${from}
      GROUP BY 1, 2 ORDER BY 1`;
  }

  /** Median hours from a request's submission to its first issued credential, per week of that issue. */
  weeklyMedianHoursToIssue(from: Date): Promise<Array<{ week: Date; hours: number }>> {
    return this.prisma.$queryRaw<Array<{ week: Date; hours: number }>>`
      WITH first_issue AS (
        SELECT r.id, r.created_at AS submitted, min(c.created_at) AS issued
        FROM onboarding_request r JOIN credential c ON c.onboarding_request_id = r.id GROUP BY r.id, r.created_at)
      SELECT (date_trunc('week', issued AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS week,
        (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM issued - submitted)) / 3600)::float8 AS hours
      FROM first_issue WHERE issued >= ${from} GROUP BY 1 ORDER BY 1`;
  }
}
