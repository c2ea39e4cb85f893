import { Injectable } from '@nestjs/common';
import type { Environment, SecretState } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { LeakIncident, LeakReportRow, LeakReporter } from './leak.types.js';

export interface SecretByHash {
  hash: string;
  secretId: string;
  credentialId: string;
}

@Injectable()
export class LeakReportsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One statement for a whole batch of presented secrets (their hashes under every key in use). */
  async secretsByHash(hashes: string[]): Promise<SecretByHash[]> {
    if (!hashes.length) return [];
    const rows = await this.prisma.$queryRaw<Array<{ secret_hash: string; id: string; credential_id: string }>>`
      SELECT secret_hash::text, id::text, credential_id::text FROM credential_secret WHERE secret_hash = ANY(${hashes}::text[])`;
    return rows.map((r) => ({ hash: r.secret_hash, secretId: r.id, credentialId: r.credential_id }));
  }

  /** Records a signed alert as handled; false when it was handled before (a replay). */
  async takeReceipt(tx: Tx, digest: string, now: Date, keepSince: Date): Promise<boolean> {
    await tx.$executeRaw`DELETE FROM secret_scanning_receipt WHERE received_at < ${keepSince}`;
    const n = await tx.$executeRaw`INSERT INTO secret_scanning_receipt (digest, received_at) VALUES (${digest}, ${now}) ON CONFLICT (digest) DO NOTHING`;
    return n === 1;
  }

  /** Ends a leaked secret at once, in one conditional statement; false when it no longer worked anyway. */
  async revokeSecret(tx: Tx, secretId: string, now: Date): Promise<boolean> {
    const n = await tx.$executeRaw`UPDATE credential_secret SET state = 'revoked', slot = NULL, ended_at = ${now}
      WHERE id = ${secretId}::uuid AND (state = 'pending_delivery' OR (state = 'active' AND (retires_at IS NULL OR retires_at > ${now})))`;
    return n === 1;
  }

  async insert(
    tx: Tx,
    row: {
      id: string;
      credentialId: string;
      secretId: string;
      fingerprint: string;
      reporter: LeakReporter;
      reportedById: string | null;
      source: string | null;
      url: string | null;
      secretStateBefore: SecretState;
      outcome: 'revoked' | 'already_inactive';
      rotationId: string | null;
      reportedAt: Date;
    },
  ): Promise<void> {
    await tx.secretLeakReport.create({ data: row });
  }

  async list(filter: { credentialId?: string; limit: number }): Promise<LeakReportRow[]> {
    const rows = await this.prisma.$queryRaw<Array<Record<string, unknown>>>`
      SELECT r.id::text, r.credential_id::text, c.client_id, c.environment::text AS environment, pa.legal_name AS partner_name, p.name AS api_name,
             r.secret_id::text, s.hint, r.fingerprint, r.reporter, r.reported_by_id::text, st.name AS reported_by_name, r.source, r.url,
             r.secret_state_before, r.outcome, r.rotation_id::text, ro.state::text AS rotation_state, r.reported_at
      FROM secret_leak_report r JOIN credential c ON c.id = r.credential_id JOIN credential_secret s ON s.id = r.secret_id
        JOIN api_environment e ON e.id = c.api_environment_id JOIN api_product p ON p.id = e.api_id JOIN partner pa ON pa.id = c.partner_id
        LEFT JOIN credential_rotation ro ON ro.id = r.rotation_id LEFT JOIN staff_account st ON st.id = r.reported_by_id
      WHERE (${filter.credentialId ?? null}::uuid IS NULL OR r.credential_id = ${filter.credentialId ?? null}::uuid)
      ORDER BY r.reported_at DESC LIMIT ${filter.limit}`;
    return rows.map((r) => ({
      id: r.id as string,
      credentialId: r.credential_id as string,
      clientId: r.client_id as string,
      environment: r.environment as Environment,
      partnerName: r.partner_name as string,
      apiName: r.api_name as string,
      secretId: r.secret_id as string,
      secretHint: r.hint as string,
      fingerprint: r.fingerprint as string,
      reporter: r.reporter as LeakReporter,
      reportedById: (r.reported_by_id as string | null) ?? null,
      reportedByName: (r.reported_by_name as string | null) ?? null,
      source: (r.source as string | null) ?? null,
      url: (r.url as string | null) ?? null,
      secretStateBefore: r.secret_state_before as SecretState,
      outcome: r.outcome as LeakReportRow['outcome'],
      rotationId: (r.rotation_id as string | null) ?? null,
      rotationState: (r.rotation_state as string | null) ?? null,
      reportedAt: r.reported_at as Date,
    }));
  }

  /**
   * Leaks that still need someone: a revoked secret whose emergency rotation has not completed, on a
   * credential that is not revoked, and with no rotation of that credential completed since the report.
   */
  async openIncidents(): Promise<LeakIncident[]> {
    const rows = await this.prisma.$queryRaw<
      Array<{ id: string; credential_id: string; client_id: string; partner_name: string; rotation_id: string; rotation_state: string; reported_at: Date }>
    >`
      SELECT r.id::text, r.credential_id::text, c.client_id, pa.legal_name AS partner_name, r.rotation_id::text, ro.state::text AS rotation_state, r.reported_at
      FROM secret_leak_report r JOIN credential c ON c.id = r.credential_id JOIN partner pa ON pa.id = c.partner_id
        JOIN credential_rotation ro ON ro.id = r.rotation_id
      WHERE r.outcome = 'revoked' AND c.state <> 'revoked' AND ro.state <> 'completed'
        AND NOT EXISTS (SELECT 1 FROM credential_rotation x WHERE x.credential_id = r.credential_id AND x.state = 'completed' AND x.updated_at >= r.reported_at)
      ORDER BY r.reported_at`;
    return rows.map((r) => ({
      reportId: r.id,
      credentialId: r.credential_id,
      clientId: r.client_id,
      partnerName: r.partner_name,
      rotationId: r.rotation_id,
      rotationState: r.rotation_state,
      reportedAt: r.reported_at,
    }));
  }

  /**
   * The public report form's fixed-window counter per client IP. It shares the intake's counter table
   * (a bucket is an HMAC of a purpose-prefixed key, so the two never count each other).
   */
  async hitRateLimit(bucket: string, windowStart: Date): Promise<number> {
    const rows = await this.prisma.$queryRaw<Array<{ count: number }>>`
      INSERT INTO intake_rate_limit (bucket, window_start, count) VALUES (${bucket}, ${windowStart}, 1)
      ON CONFLICT (bucket, window_start) DO UPDATE SET count = intake_rate_limit.count + 1
      RETURNING count`;
    return rows[0].count;
  }
}
