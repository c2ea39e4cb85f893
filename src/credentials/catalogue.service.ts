import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { DeliveryDisplay } from '../delivery/delivery.types.js';
import type { Environment } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { CatalogueRepository } from './catalogue.repository.js';
import { CredentialsRepository } from './credentials.repository.js';
import type { CatalogueEntry } from './credentials.types.js';

/** The catalogue of API environments (base URL, audience) and the issuer and developer details derived from it. */
@Injectable()
export class CatalogueService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: CatalogueRepository,
    private readonly credentialsRepo: CredentialsRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  issuerUrl(environment: Environment): string {
    return `${this.config.publicBaseUrl}/oauth/${environment}`;
  }

  catalogue(): Promise<CatalogueEntry[]> {
    return this.repo.catalogue();
  }

  async updateCatalogueEntry(ctx: RequestContext, apiEnvironmentId: string, input: { baseUrl: string; audience: string }): Promise<CatalogueEntry> {
    const baseUrl = checkUrl('baseUrl', input.baseUrl);
    const audience = input.audience.trim();
    if (!audience || audience.length > 300)
      throw new InvalidInputError('catalogue/invalid_audience', 'Give an audience identifier (at most 300 characters).', {
        fields: { audience: ['Give an audience identifier.'] },
      });
    return this.prisma.transaction(async (tx) => {
      const before = await this.repo.catalogueEntry(tx, apiEnvironmentId);
      if (!before) throw new NotFoundError('catalogue/not_found', 'No such API environment.');
      const clash = (await this.repo.catalogue(tx)).find((e) => e.audience === audience && e.apiEnvironmentId !== apiEnvironmentId);
      if (clash)
        throw new ConflictError('catalogue/audience_taken', `The audience is already used by ${clash.apiName} (${clash.environment}).`, {
          fields: { audience: ['Already used by another API environment.'] },
        });
      await this.repo.updateCatalogueEntry(tx, apiEnvironmentId, { baseUrl, audience });
      await this.audit.record(tx, ctx, {
        action: 'catalogue.updated',
        subjectType: 'api_environment',
        subjectId: apiEnvironmentId,
        environment: before.environment,
        detail: { api: before.apiKey, from: { baseUrl: before.baseUrl, audience: before.audience }, to: { baseUrl, audience } },
      });
      // The audience is part of every cached client record.
      await this.credentialsRepo.notifyChanged(tx, '*');
      return (await this.repo.catalogueEntry(tx, apiEnvironmentId))!;
    });
  }

  /** What the partner is shown with the secret, the developer's next steps included (from the catalogue). */
  async display(tx: Tx, partnerName: string, clientId: string, apiEnvironmentId: string, reason: DeliveryDisplay['reason']): Promise<DeliveryDisplay> {
    const e = await this.repo.catalogueEntry(tx, apiEnvironmentId);
    if (!e) throw new NotFoundError('catalogue/not_found', 'No such API environment.');
    const issuer = this.issuerUrl(e.environment);
    const developer = {
      scope: e.apiKey,
      audience: e.audience,
      tokenTtlSeconds: this.config.credentials.tokenTtlSeconds,
      metadataUrl: `${this.config.publicBaseUrl}/.well-known/oauth-authorization-server/oauth/${e.environment}`,
      jwksUrl: `${issuer}/jwks`,
      docsUrl: e.docsUrl,
      environmentsUrl: `${this.config.publicBaseUrl}/environments`,
    };
    return {
      partnerName,
      clientId,
      apiName: e.apiName,
      environment: e.environment,
      issuer,
      tokenEndpoint: `${issuer}/token`,
      baseUrl: e.baseUrl,
      reason,
      developer,
    };
  }
}

function checkUrl(field: string, raw: string): string {
  const value = raw.trim().replace(/\/+$/, '');
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new InvalidInputError('catalogue/invalid_url', 'Give a full http(s) URL.', {
      fields: { [field]: ['Give a full http(s) URL, e.g. https://api.example.com.'] },
    });
  }
  return value;
}
