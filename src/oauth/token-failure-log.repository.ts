import { Injectable } from '@nestjs/common';
import type { Environment } from '../generated/prisma/enums.js';
import { PrismaService } from '../prisma/prisma.service.js';

export interface TokenFailureEntry {
  id: string;
  correlationId: string;
  occurredAt: Date;
  environment: Environment | null;
  clientId: string | null;
  ip: string | null;
  status: number;
  error: string;
  reason: string;
}

export interface TokenFailureRow extends TokenFailureEntry {
  apiKey: string | null;
  credentialId: string | null;
}

@Injectable()
export class TokenFailureLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** One statement per batch; the API and credential are filled in here, from the client_id, off the token path. */
  async insert(batch: TokenFailureEntry[]): Promise<number> {
    if (!batch.length) return 0;
    const col = <K extends keyof TokenFailureEntry>(k: K) => batch.map((e) => e[k]);
    return this.prisma.$executeRaw`
      INSERT INTO oauth_token_failure (id, correlation_id, occurred_at, environment, client_id, ip, status, error, reason, api_key, credential_id)
      SELECT f.id, f.correlation_id, f.occurred_at, f.environment::"Environment", f.client_id, f.ip, f.status, f.error, f.reason, p.key, c.id
      FROM unnest(${col('id')}::uuid[], ${col('correlationId')}::text[], ${batch.map((e) => e.occurredAt.toISOString())}::timestamptz[],
                  ${col('environment')}::text[], ${col('clientId')}::text[], ${col('ip')}::text[], ${col('status')}::int[], ${col('error')}::text[], ${col('reason')}::text[])
        AS f(id, correlation_id, occurred_at, environment, client_id, ip, status, error, reason)
      LEFT JOIN credential c ON c.client_id = f.client_id
      LEFT JOIN api_environment e ON e.id = c.api_environment_id
      LEFT JOIN api_product p ON p.id = e.api_id`;
  }

  async byCorrelationId(correlationId: string): Promise<TokenFailureRow[]> {
    return this.prisma.oauthTokenFailure.findMany({ where: { correlationId }, orderBy: { occurredAt: 'desc' }, take: 20 });
  }

  async recentForClient(clientId: string, limit: number): Promise<TokenFailureRow[]> {
    return this.prisma.oauthTokenFailure.findMany({ where: { clientId }, orderBy: { occurredAt: 'desc' }, take: limit });
  }

  async purge(before: Date): Promise<number> {
    return this.prisma.$executeRaw`DELETE FROM oauth_token_failure WHERE occurred_at < ${before}`;
  }
}
