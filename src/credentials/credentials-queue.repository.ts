import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service.js';

export interface WaitingRotationRow {
  id: string;
  credentialId: string;
  clientId: string;
  partnerName: string;
  requestedById: string | null;
  since: Date;
}

export interface ExpiringSecretRow {
  secretId: string;
  credentialId: string;
  clientId: string;
  partnerName: string;
  hint: string;
  expiresAt: Date;
  activatedAt: Date | null;
}

/** Read models for the staff home and the overview. */
@Injectable()
export class CredentialsQueueRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The credential of each secret: a held delivery's secret links to its credential's page. */
  async credentialIdsOfSecrets(secretIds: string[]): Promise<Map<string, string>> {
    const rows = await this.prisma.credentialSecret.findMany({ where: { id: { in: secretIds } }, select: { id: true, credentialId: true } });
    return new Map(rows.map((r) => [r.id, r.credentialId]));
  }

  /** Rotations waiting for a second reviewer; `since` is when the partner confirmed or staff asked. */
  rotationsAwaitingApproval(limit = 200): Promise<WaitingRotationRow[]> {
    return this.prisma.$queryRaw<WaitingRotationRow[]>`
      SELECT r.id::text AS id, c.id::text AS "credentialId", c.client_id AS "clientId", p.legal_name AS "partnerName",
        r.requested_by_id::text AS "requestedById", COALESCE(r.confirmed_at, r.created_at) AS since
      FROM credential_rotation r JOIN credential c ON c.id = r.credential_id JOIN partner p ON p.id = c.partner_id
      WHERE r.state = 'awaiting_approval'
      ORDER BY since ASC LIMIT ${limit}`;
  }

  /** Active secrets of active credentials (not already being replaced) that expire before `to`. */
  secretsExpiringBefore(now: Date, to: Date, limit = 500): Promise<ExpiringSecretRow[]> {
    return this.prisma.$queryRaw<ExpiringSecretRow[]>`
      SELECT s.id::text AS "secretId", c.id::text AS "credentialId", c.client_id AS "clientId", p.legal_name AS "partnerName",
        s.hint, s.expires_at AS "expiresAt", s.activated_at AS "activatedAt"
      FROM credential_secret s JOIN credential c ON c.id = s.credential_id JOIN partner p ON p.id = c.partner_id
      WHERE s.state = 'active' AND s.retires_at IS NULL AND c.state = 'active' AND s.expires_at >= ${now} AND s.expires_at < ${to}
      ORDER BY s.expires_at ASC LIMIT ${limit}`;
  }
}
