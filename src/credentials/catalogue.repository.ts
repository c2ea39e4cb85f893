import { Injectable } from '@nestjs/common';
import type { Environment } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { CatalogueEntry } from './credentials.types.js';

type Db = Tx | PrismaService;

/** The catalogue: API products x environments, with the base URL and audience each credential is issued for. */
@Injectable()
export class CatalogueRepository {
  constructor(private readonly prisma: PrismaService) {}

  async catalogue(db: Db = this.prisma): Promise<CatalogueEntry[]> {
    const rows = await db.$queryRaw<
      Array<{
        api_environment_id: string;
        api_id: string;
        api_key: string;
        api_name: string;
        environment: Environment;
        base_url: string;
        audience: string;
        docs_url: string | null;
        updated_at: Date;
      }>
    >`
      SELECT e.id::text AS api_environment_id, p.id::text AS api_id, p.key AS api_key, p.name AS api_name, e.environment::text AS environment,
             e.base_url, e.audience, e.docs_url, e.updated_at
      FROM api_environment e JOIN api_product p ON p.id = e.api_id
      ORDER BY p.name, e.environment`;
    return rows.map((r) => ({
      apiEnvironmentId: r.api_environment_id,
      apiId: r.api_id,
      apiKey: r.api_key,
      apiName: r.api_name,
      environment: r.environment,
      baseUrl: r.base_url,
      audience: r.audience,
      docsUrl: r.docs_url,
      updatedAt: r.updated_at,
    }));
  }

  async catalogueEntry(db: Db, apiEnvironmentId: string): Promise<CatalogueEntry | null> {
    return (await this.catalogue(db)).find((e) => e.apiEnvironmentId === apiEnvironmentId) ?? null;
  }

  async updateCatalogueEntry(tx: Tx, apiEnvironmentId: string, data: { baseUrl: string; audience: string }): Promise<void> {
    await tx.apiEnvironment.update({ where: { id: apiEnvironmentId }, data: { baseUrl: data.baseUrl, audience: data.audience } });
  }
}
