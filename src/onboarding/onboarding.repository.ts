import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Prisma } from '../generated/prisma/client.js';
import type { Environment, Language, OnboardingState } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { CatalogueEntry, IssuableApproval, OnboardingListFilter, OnboardingListRow } from './onboarding.types.js';

export interface RequestCore {
  id: string;
  reference: string;
  partnerId: string;
  contactId: string;
  state: OnboardingState;
  version: number;
  language: Language;
  purpose: string;
  createdByStaffId: string | null;
  lastEditedById: string | null;
  applicantLegalName: string;
  applicantContactName: string;
  contactVouchedById: string | null;
}

export interface ApprovalRow {
  environment: Environment;
  approvedById: string;
  approvedAt: Date;
  expiresAt: Date;
  issuedAt: Date | null;
}

export interface StateChange {
  id: string;
  from: OnboardingState;
  to: OnboardingState;
  version: number;
  set?: {
    decisionReason?: string | null;
    reviewStartedById?: string | null;
    lastEditedById?: string | null;
    withdrawnReason?: string | null;
    purpose?: string;
    contactVouchedById?: string | null;
  };
  now: Date;
}

const CORE_SELECT = {
  id: true,
  reference: true,
  partnerId: true,
  contactId: true,
  state: true,
  version: true,
  language: true,
  purpose: true,
  createdByStaffId: true,
  lastEditedById: true,
  applicantLegalName: true,
  applicantContactName: true,
  contactVouchedById: true,
} as const;

@Injectable()
export class OnboardingRepository {
  constructor(private readonly prisma: PrismaService) {}

  async catalogue(tx: Tx = this.prisma): Promise<CatalogueEntry[]> {
    const rows = await tx.apiEnvironment.findMany({ include: { api: true }, orderBy: [{ api: { name: 'asc' } }, { environment: 'asc' }] });
    return rows.map((r) => ({
      apiEnvironmentId: r.id,
      apiKey: r.api.key,
      apiName: r.api.name,
      environment: r.environment,
      baseUrl: r.baseUrl,
      audience: r.audience,
    }));
  }

  /** Inserts with a fresh reference; a collision (one in ~10^11) just draws again without aborting the transaction. */
  async insert(
    tx: Tx,
    row: {
      id: string;
      partnerId: string;
      contactId: string;
      purpose: string;
      language: Language;
      statusTokenHash: string;
      statusTokenEnc: string;
      createdByStaffId: string | null;
      applicantLegalName: string;
      applicantContactName: string;
      contactVouchedById: string | null;
      now: Date;
    },
    nextReference: () => string,
  ): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const reference = nextReference();
      const inserted = await tx.$queryRaw<Array<{ reference: string }>>`
        INSERT INTO onboarding_request (id, reference, partner_id, contact_id, purpose, language, state, version, created_by_staff_id, last_edited_by_id, status_token_hash, status_token_enc,
          applicant_legal_name, applicant_contact_name, contact_vouched_by_id, created_at, updated_at)
        VALUES (${row.id}::uuid, ${reference}, ${row.partnerId}::uuid, ${row.contactId}::uuid, ${row.purpose}, ${row.language}::"Language", 'submitted', 1,
          ${row.createdByStaffId}::uuid, ${row.createdByStaffId}::uuid, ${row.statusTokenHash}, ${row.statusTokenEnc}, ${row.applicantLegalName}, ${row.applicantContactName},
          ${row.contactVouchedById}::uuid, ${row.now}, ${row.now})
        ON CONFLICT (reference) DO NOTHING RETURNING reference`;
      if (inserted.length === 1) return reference;
    }
    throw new Error('could not draw an unused onboarding reference');
  }

  async replaceItems(tx: Tx, requestId: string, apiEnvironmentIds: string[]): Promise<void> {
    await tx.onboardingRequestItem.deleteMany({ where: { requestId } });
    await tx.onboardingRequestItem.createMany({ data: apiEnvironmentIds.map((apiEnvironmentId) => ({ id: randomUUID(), requestId, apiEnvironmentId })) });
  }

  core(id: string, tx: Tx = this.prisma): Promise<RequestCore | null> {
    return tx.onboardingRequest.findUnique({ where: { id }, select: CORE_SELECT });
  }

  /** The sealed status token (null for requests saved before it was kept). */
  async sealedStatusToken(tx: Tx, id: string): Promise<string | null> {
    return (await tx.onboardingRequest.findUnique({ where: { id }, select: { statusTokenEnc: true } }))?.statusTokenEnc ?? null;
  }

  async rehashStatusToken(id: string, oldHashes: string[], currentHash: string): Promise<void> {
    // Raw, so updated_at (the partner's "last changed") stays as it was: nothing about the request changed.
    await this.prisma
      .$executeRaw`UPDATE onboarding_request SET status_token_hash = ${currentHash} WHERE id = ${id}::uuid AND status_token_hash = ANY(${oldHashes}::text[])`;
  }

  /** One hash per configured hash key: a status link from before a SECRET_HASH_KEY rotation still opens. */
  coreByStatusTokenHash(hashes: string[], tx: Tx = this.prisma): Promise<RequestCore | null> {
    return tx.onboardingRequest.findFirst({ where: { statusTokenHash: { in: hashes } }, select: CORE_SELECT });
  }

  /**
   * The optimistic step: one conditional UPDATE on (id, version, state). Of any number of concurrent
   * callers holding the same version, exactly one gets a row back; the rest get null.
   */
  async changeState(tx: Tx, c: StateChange): Promise<number | null> {
    const s = c.set ?? {};
    const has = (k: keyof NonNullable<StateChange['set']>) => (k in s ? 1 : 0);
    const rows = await tx.$queryRaw<Array<{ version: number }>>`
      UPDATE onboarding_request SET
        state = ${c.to}::"OnboardingState",
        version = version + 1,
        updated_at = ${c.now},
        decision_reason = CASE WHEN ${has('decisionReason')} = 1 THEN ${s.decisionReason ?? null} ELSE decision_reason END,
        review_started_by_id = CASE WHEN ${has('reviewStartedById')} = 1 THEN ${s.reviewStartedById ?? null}::uuid ELSE review_started_by_id END,
        last_edited_by_id = CASE WHEN ${has('lastEditedById')} = 1 THEN ${s.lastEditedById ?? null}::uuid ELSE last_edited_by_id END,
        withdrawn_reason = CASE WHEN ${has('withdrawnReason')} = 1 THEN ${s.withdrawnReason ?? null} ELSE withdrawn_reason END,
        contact_vouched_by_id = CASE WHEN ${has('contactVouchedById')} = 1 THEN ${s.contactVouchedById ?? null}::uuid ELSE contact_vouched_by_id END,
        purpose = COALESCE(${s.purpose ?? null}, purpose)
      WHERE id = ${c.id}::uuid AND version = ${c.version} AND state = ${c.from}::"OnboardingState"
      RETURNING version`;
    return rows[0]?.version ?? null;
  }

  approvals(requestId: string, tx: Tx = this.prisma): Promise<ApprovalRow[]> {
    return tx.onboardingApproval.findMany({
      where: { requestId },
      select: { environment: true, approvedById: true, approvedAt: true, expiresAt: true, issuedAt: true },
      orderBy: { environment: 'asc' },
    });
  }

  /** Inserts the approval, or renews a lapsed unissued one (never one that was issued). */
  async putApproval(tx: Tx, a: { requestId: string; environment: Environment; approvedById: string; approvedAt: Date; expiresAt: Date }): Promise<boolean> {
    const n = await tx.$executeRaw`
      INSERT INTO onboarding_approval (id, request_id, environment, approved_by_id, approved_at, expires_at)
      VALUES (${randomUUID()}::uuid, ${a.requestId}::uuid, ${a.environment}::"Environment", ${a.approvedById}::uuid, ${a.approvedAt}, ${a.expiresAt})
      ON CONFLICT (request_id, environment) DO UPDATE SET approved_by_id = EXCLUDED.approved_by_id, approved_at = EXCLUDED.approved_at, expires_at = EXCLUDED.expires_at
        WHERE onboarding_approval.issued_at IS NULL AND onboarding_approval.expires_at <= ${a.approvedAt}`;
    return n === 1;
  }

  async deleteUnissuedApprovals(tx: Tx, requestId: string): Promise<number> {
    return (await tx.onboardingApproval.deleteMany({ where: { requestId, issuedAt: null } })).count;
  }

  /**
   * Consumes an approval for issuing in one statement: unissued, unexpired, on a live request, and for
   * Production not by the staff member who approved it (two different staff for production access).
   */
  async takeApproval(tx: Tx, requestId: string, environment: Environment, now: Date, issuerId: string | null): Promise<boolean> {
    const n = await tx.$executeRaw`
      UPDATE onboarding_approval a SET issued_at = ${now}
      FROM onboarding_request r
      WHERE a.request_id = ${requestId}::uuid AND a.environment = ${environment}::"Environment"
        AND a.issued_at IS NULL AND a.expires_at > ${now}
        AND (a.environment <> 'production' OR (${issuerId}::uuid IS NOT NULL AND a.approved_by_id <> ${issuerId}::uuid))
        AND r.id = a.request_id AND r.state IN ('in_review', 'approved')`;
    return n === 1;
  }

  async itemsOf(requestId: string, tx: Tx = this.prisma): Promise<CatalogueEntry[]> {
    const rows = await tx.$queryRaw<CatalogueEntry[]>`
      SELECT e.id::text AS "apiEnvironmentId", p.key AS "apiKey", p.name AS "apiName", e.environment::text AS environment, e.base_url AS "baseUrl", e.audience
      FROM onboarding_request_item i JOIN api_environment e ON e.id = i.api_environment_id JOIN api_product p ON p.id = e.api_id
      WHERE i.request_id = ${requestId}::uuid ORDER BY p.name, e.environment`;
    return rows;
  }

  full(id: string) {
    return this.prisma.onboardingRequest.findUnique({ where: { id }, include: { partner: true } });
  }

  async staffNames(ids: string[]): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows = await this.prisma.staffAccount.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  async list(f: OnboardingListFilter): Promise<{ rows: OnboardingListRow[]; total: number }> {
    const conditions: Prisma.Sql[] = [Prisma.sql`TRUE`];
    if (f.state) conditions.push(Prisma.sql`r.state = ${f.state}::"OnboardingState"`);
    if (f.q) {
      const like = `%${f.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
      conditions.push(Prisma.sql`(r.reference ILIKE ${like} OR p.legal_name ILIKE ${like} OR c.email ILIKE ${like})`);
    }
    if (f.api || f.environment) {
      conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM onboarding_request_item i JOIN api_environment e ON e.id = i.api_environment_id JOIN api_product ap ON ap.id = e.api_id
        WHERE i.request_id = r.id ${f.api ? Prisma.sql`AND ap.key = ${f.api}` : Prisma.empty} ${f.environment ? Prisma.sql`AND e.environment = ${f.environment}::"Environment"` : Prisma.empty})`);
    }
    const where = Prisma.join(conditions, ' AND ');
    const rows = await this.prisma.$queryRaw<Array<Omit<OnboardingListRow, 'createdAt' | 'updatedAt'> & { createdAt: Date; updatedAt: Date; total: bigint }>>`
      SELECT r.id::text AS id, r.reference, r.state::text AS state, p.legal_name AS "partnerName", c.email AS "contactEmail",
        r.created_at AS "createdAt", r.updated_at AS "updatedAt", count(*) OVER () AS total,
        COALESCE((SELECT json_agg(json_build_object('apiKey', ap.key, 'apiName', ap.name, 'environment', e.environment) ORDER BY ap.name, e.environment)
          FROM onboarding_request_item i JOIN api_environment e ON e.id = i.api_environment_id JOIN api_product ap ON ap.id = e.api_id WHERE i.request_id = r.id), '[]') AS items
      FROM onboarding_request r JOIN partner p ON p.id = r.partner_id JOIN technical_contact c ON c.id = r.contact_id
      WHERE ${where}
      ORDER BY ${f.sort === 'oldest' ? Prisma.sql`r.updated_at ASC` : Prisma.sql`r.updated_at DESC`}, r.id LIMIT ${f.limit} OFFSET ${f.offset}`;
    return {
      total: rows.length ? Number(rows[0].total) : 0,
      rows: rows.map(({ total: _total, ...r }) => ({ ...r, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() })),
    };
  }

  async countsByState(): Promise<Record<string, number>> {
    const rows = await this.prisma.onboardingRequest.groupBy({ by: ['state'], _count: { _all: true } });
    return Object.fromEntries(rows.map((r) => [r.state, r._count._all]));
  }

  async issuable(now: Date): Promise<IssuableApproval[]> {
    const rows = await this.prisma.$queryRaw<Array<Omit<IssuableApproval, 'approvedAt' | 'expiresAt'> & { approvedAt: Date; expiresAt: Date }>>`
      SELECT r.id::text AS "requestId", r.reference, p.legal_name AS "partnerName", a.environment::text AS environment,
        a.approved_by_id::text AS "approvedById", a.approved_at AS "approvedAt", a.expires_at AS "expiresAt",
        COALESCE((SELECT json_agg(json_build_object('apiEnvironmentId', e.id, 'apiKey', ap.key, 'apiName', ap.name) ORDER BY ap.name)
          FROM onboarding_request_item i JOIN api_environment e ON e.id = i.api_environment_id JOIN api_product ap ON ap.id = e.api_id
          WHERE i.request_id = r.id AND e.environment = a.environment), '[]') AS items
      FROM onboarding_approval a JOIN onboarding_request r ON r.id = a.request_id JOIN partner p ON p.id = r.partner_id
      WHERE a.issued_at IS NULL AND a.expires_at > ${now} AND r.state IN ('in_review', 'approved')
      ORDER BY a.expires_at ASC`;
    return rows.map((r) => ({ ...r, approvedAt: r.approvedAt.toISOString(), expiresAt: r.expiresAt.toISOString() }));
  }

  /** Fixed-window counter in one statement; old windows are swept when a new one opens. */
  async hitRateLimit(bucket: string, windowStart: Date, db: Tx = this.prisma): Promise<number> {
    const rows = await db.$queryRaw<Array<{ count: number }>>`
      INSERT INTO intake_rate_limit (bucket, window_start, count) VALUES (${bucket}, ${windowStart}, 1)
      ON CONFLICT (bucket, window_start) DO UPDATE SET count = intake_rate_limit.count + 1
      RETURNING count`;
    const count = rows[0].count;
    if (count === 1) {
      await db.$executeRaw`DELETE FROM intake_rate_limit WHERE window_start < ${new Date(windowStart.getTime() - 48 * 3600_000)}`;
    }
    return count;
  }

  /** Marks a signed intake form as used, in one statement: true for exactly one of any number of callers. */
  async useFormToken(tx: Tx, tokenHash: string, expiresAt: Date, now: Date): Promise<boolean> {
    await tx.$executeRaw`DELETE FROM intake_form_token WHERE expires_at < ${now}`;
    const n =
      await tx.$executeRaw`INSERT INTO intake_form_token (token_hash, expires_at) VALUES (${tokenHash}, ${expiresAt}) ON CONFLICT (token_hash) DO NOTHING`;
    return n === 1;
  }
}
