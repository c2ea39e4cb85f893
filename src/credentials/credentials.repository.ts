import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client.js';
import type { CredentialState, Environment, SecretState } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { ClientRecord, CredentialDetail, CredentialFilter, CredentialListItem, SecretView } from './credentials.types.js';

export const CREDENTIAL_CHANNEL = 'credential_changed';

type Db = Tx | PrismaService;

@Injectable()
export class CredentialsRepository {
  constructor(private readonly prisma: PrismaService) {}

  // ---------------------------------------------------------------- credentials
  async createCredential(
    tx: Tx,
    data: {
      id: string;
      clientId: string;
      partnerId: string;
      contactId: string;
      onboardingRequestId: string | null;
      apiEnvironmentId: string;
      environment: Environment;
      issuedById: string | null;
    },
  ): Promise<void> {
    await tx.credential.create({ data: { ...data, state: 'pending_delivery' } });
  }

  async createSecret(
    tx: Tx,
    data: { id: string; credentialId: string; secretHash: string; secretHashKid: string; hint: string; expiresAt: Date },
  ): Promise<void> {
    await tx.credentialSecret.create({ data: { ...data, state: 'pending_delivery' } });
  }

  /** After a hash key rotation: the hash under the current key replaces the old one (if it is still that). */
  async rehashSecret(tx: Tx, secretId: string, oldHash: string, newHash: string, kid: string): Promise<boolean> {
    const r = await tx.credentialSecret.updateMany({ where: { id: secretId, secretHash: oldHash }, data: { secretHash: newHash, secretHashKid: kid } });
    return r.count === 1;
  }

  async renewPendingSecret(tx: Tx, secretId: string, data: { secretHash: string; secretHashKid: string; hint: string }): Promise<boolean> {
    const r = await tx.credentialSecret.updateMany({ where: { id: secretId, state: 'pending_delivery' }, data });
    return r.count === 1;
  }

  async setSecretDelivery(tx: Tx, secretId: string, deliveryId: string): Promise<void> {
    await tx.credentialSecret.update({ where: { id: secretId }, data: { deliveryId } });
  }

  /** Serialises changes to one credential's secrets (activation, rotation, revocation). */
  async lockCredential(
    tx: Tx,
    credentialId: string,
  ): Promise<{ id: string; clientId: string; state: CredentialState; environment: Environment; partnerId: string } | null> {
    const rows = await tx.$queryRaw<Array<{ id: string; client_id: string; state: CredentialState; environment: Environment; partner_id: string }>>`
      SELECT id::text, client_id, state::text AS state, environment::text AS environment, partner_id::text FROM credential WHERE id = ${credentialId}::uuid FOR UPDATE`;
    const r = rows[0];
    return r ? { id: r.id, clientId: r.client_id, state: r.state, environment: r.environment, partnerId: r.partner_id } : null;
  }

  async secretById(
    db: Db,
    secretId: string,
  ): Promise<{
    id: string;
    credentialId: string;
    state: SecretState;
    deliveryId: string | null;
    expiresAt: Date;
    retiresAt: Date | null;
    lastUsedAt: Date | null;
    activatedAt: Date | null;
  } | null> {
    return db.credentialSecret.findUnique({
      where: { id: secretId },
      select: { id: true, credentialId: true, state: true, deliveryId: true, expiresAt: true, retiresAt: true, lastUsedAt: true, activatedAt: true },
    });
  }

  /** Ends active secrets whose overlap window has passed, freeing their slot. */
  async retireLapsedSecrets(tx: Tx, credentialId: string, now: Date): Promise<number> {
    return tx.$executeRaw`
      UPDATE credential_secret SET state = 'retired', slot = NULL, ended_at = retires_at
      WHERE credential_id = ${credentialId}::uuid AND state = 'active' AND retires_at IS NOT NULL AND retires_at <= ${now}`;
  }

  /**
   * Activates a pending secret in one conditional statement. It takes the free slot (1 or 2); the partial
   * unique index on (credential_id, slot) refuses a third active secret even under a race.
   */
  async activateSecret(tx: Tx, secretId: string, now: Date, expiresAt: Date): Promise<boolean> {
    const n = await tx.$executeRaw`
      UPDATE credential_secret s SET state = 'active', activated_at = ${now}, expires_at = ${expiresAt},
        slot = (SELECT min(x) FROM (VALUES (1), (2)) v(x)
                WHERE x NOT IN (SELECT o.slot FROM credential_secret o WHERE o.credential_id = s.credential_id AND o.state = 'active'))
      WHERE s.id = ${secretId}::uuid AND s.state = 'pending_delivery'
        AND (SELECT count(*) FROM credential_secret o WHERE o.credential_id = s.credential_id AND o.state = 'active') < 2`;
    return n === 1;
  }

  /** Starts the overlap window of every other active secret of the credential. */
  async scheduleRetirementOfOthers(tx: Tx, credentialId: string, keepSecretId: string, retiresAt: Date): Promise<string[]> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      UPDATE credential_secret SET retires_at = ${retiresAt}
      WHERE credential_id = ${credentialId}::uuid AND state = 'active' AND id <> ${keepSecretId}::uuid
      RETURNING id::text`;
    return rows.map((r) => r.id);
  }

  async activateCredential(tx: Tx, credentialId: string, now: Date): Promise<void> {
    await tx.$executeRaw`UPDATE credential SET state = 'active', activated_at = COALESCE(activated_at, ${now}), updated_at = ${now}
      WHERE id = ${credentialId}::uuid AND state = 'pending_delivery'`;
  }

  async revokeCredential(tx: Tx, credentialId: string, now: Date, byId: string | null, reason: string): Promise<boolean> {
    const n =
      await tx.$executeRaw`UPDATE credential SET state = 'revoked', revoked_at = ${now}, revoked_by_id = ${byId}::uuid, revoke_reason = ${reason}, updated_at = ${now}
      WHERE id = ${credentialId}::uuid AND state <> 'revoked'`;
    if (n !== 1) return false;
    await tx.$executeRaw`UPDATE credential_secret SET state = 'revoked', slot = NULL, ended_at = ${now}
      WHERE credential_id = ${credentialId}::uuid AND state IN ('pending_delivery', 'active')`;
    return true;
  }

  async openCredentialIdsOfPartner(tx: Tx, partnerId: string): Promise<string[]> {
    const rows = await tx.credential.findMany({ where: { partnerId, state: { not: 'revoked' } }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  /** Cancels a secret that has not been revealed yet (re-delivery, rotation cancelled). */
  async cancelPendingSecret(tx: Tx, secretId: string, now: Date): Promise<boolean> {
    const n =
      await tx.$executeRaw`UPDATE credential_secret SET state = 'cancelled', ended_at = ${now} WHERE id = ${secretId}::uuid AND state = 'pending_delivery'`;
    return n === 1;
  }

  /** Ends the overlap now: the older active secrets stop working at once. */
  async endOverlap(tx: Tx, credentialId: string, keepSecretId: string, now: Date): Promise<string[]> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      UPDATE credential_secret SET state = 'retired', slot = NULL, retires_at = ${now}, ended_at = ${now}
      WHERE credential_id = ${credentialId}::uuid AND state = 'active' AND id <> ${keepSecretId}::uuid
      RETURNING id::text`;
    return rows.map((r) => r.id);
  }

  /** Makes every instance drop its cached record of this client at commit (NOTIFY is transactional). */
  async notifyChanged(tx: Tx, clientId: string): Promise<void> {
    await tx.$queryRaw`SELECT pg_notify(${CREDENTIAL_CHANNEL}, ${clientId})::text`;
  }

  /** A NOTIFY through the pool (the credential cache's heartbeat). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.prisma.$queryRaw`SELECT pg_notify(${channel}, ${payload})::text`;
  }

  async loadClient(clientId: string): Promise<ClientRecord | null> {
    const rows = await this.prisma.$queryRaw<
      Array<{
        id: string;
        client_id: string;
        environment: Environment;
        state: CredentialState;
        partner_id: string;
        api_key: string;
        api_name: string;
        audience: string;
        base_url: string;
        revoked_at: Date | null;
      }>
    >`
      SELECT c.id::text, c.client_id, c.environment::text AS environment, c.state::text AS state, c.partner_id::text, p.key AS api_key, p.name AS api_name, e.audience, e.base_url, c.revoked_at
      FROM credential c JOIN api_environment e ON e.id = c.api_environment_id JOIN api_product p ON p.id = e.api_id
      WHERE c.client_id = ${clientId}`;
    const c = rows[0];
    if (!c) return null;
    const secrets = await this.prisma.credentialSecret.findMany({
      where: { credentialId: c.id, state: { not: 'cancelled' } },
      orderBy: { createdAt: 'desc' },
      take: 10,
      select: { id: true, secretHash: true, state: true, activatedAt: true, expiresAt: true, retiresAt: true, endedAt: true },
    });
    return {
      credentialId: c.id,
      clientId: c.client_id,
      environment: c.environment,
      state: c.state,
      partnerId: c.partner_id,
      apiKey: c.api_key,
      apiName: c.api_name,
      audience: c.audience,
      baseUrl: c.base_url,
      revokedAt: c.revoked_at,
      scopes: [c.api_key],
      secrets: secrets.map((s) => ({
        id: s.id,
        hash: s.secretHash,
        state: s.state,
        activatedAt: s.activatedAt,
        expiresAt: s.expiresAt,
        retiresAt: s.retiresAt,
        endedAt: s.endedAt,
      })),
    };
  }

  /** One statement for a whole batch of last-used times. */
  async recordLastUsed(batch: Array<{ secretId: string; at: Date }>): Promise<void> {
    if (!batch.length) return;
    await this.prisma.$executeRaw`
      UPDATE credential_secret s SET last_used_at = GREATEST(COALESCE(s.last_used_at, v.at), v.at)
      FROM unnest(${batch.map((b) => b.secretId)}::uuid[], ${batch.map((b) => b.at)}::timestamptz[]) AS v(id, at)
      WHERE s.id = v.id`;
  }

  async list(filter: CredentialFilter): Promise<CredentialListItem[]> {
    const where: Prisma.Sql[] = [Prisma.sql`TRUE`];
    if (filter.partnerId) where.push(Prisma.sql`c.partner_id = ${filter.partnerId}::uuid`);
    if (filter.environment) where.push(Prisma.sql`c.environment = ${filter.environment}::"Environment"`);
    if (filter.state) where.push(Prisma.sql`c.state = ${filter.state}::"CredentialState"`);
    if (filter.apiKey) where.push(Prisma.sql`p.key = ${filter.apiKey}`);
    if (filter.q) where.push(Prisma.sql`(c.client_id ILIKE ${'%' + filter.q + '%'} OR pa.legal_name ILIKE ${'%' + filter.q + '%'})`);
    const rows = await this.prisma.$queryRaw<Array<Record<string, unknown>>>`
      SELECT c.id::text, c.client_id, c.environment::text AS environment, c.state::text AS state, p.name AS api_name, p.key AS api_key,
             c.partner_id::text, pa.legal_name AS partner_name, c.created_at, c.activated_at, c.revoked_at
      FROM credential c JOIN api_environment e ON e.id = c.api_environment_id JOIN api_product p ON p.id = e.api_id JOIN partner pa ON pa.id = c.partner_id
      WHERE ${Prisma.join(where, ' AND ')}
      ORDER BY ${filter.sort === 'oldest' ? Prisma.sql`c.created_at ASC` : Prisma.sql`c.created_at DESC`} LIMIT ${filter.limit}`;
    return rows.map(listItem);
  }

  async detail(credentialId: string, db: Db = this.prisma): Promise<CredentialDetail | null> {
    const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
      SELECT c.id::text, c.client_id, c.environment::text AS environment, c.state::text AS state, p.name AS api_name, p.key AS api_key,
             c.partner_id::text, pa.legal_name AS partner_name, c.created_at, c.activated_at, c.revoked_at, c.revoke_reason,
             c.api_environment_id::text, e.base_url, e.audience, c.onboarding_request_id::text,
             tc.id::text AS contact_id, tc.name AS contact_name, tc.email AS contact_email, tc.mobile AS contact_mobile, tc.language::text AS contact_language
      FROM credential c JOIN api_environment e ON e.id = c.api_environment_id JOIN api_product p ON p.id = e.api_id
        JOIN partner pa ON pa.id = c.partner_id JOIN technical_contact tc ON tc.id = c.contact_id
      WHERE c.id = ${credentialId}::uuid`;
    const r = rows[0];
    if (!r) return null;
    const secrets = await db.credentialSecret.findMany({ where: { credentialId }, orderBy: { createdAt: 'desc' } });
    return {
      ...listItem(r),
      apiEnvironmentId: r.api_environment_id as string,
      baseUrl: r.base_url as string,
      audience: r.audience as string,
      onboardingRequestId: (r.onboarding_request_id as string | null) ?? null,
      revokeReason: (r.revoke_reason as string | null) ?? null,
      contact: {
        id: r.contact_id as string,
        name: r.contact_name as string,
        email: r.contact_email as string,
        mobile: r.contact_mobile as string,
        language: r.contact_language as 'nl' | 'en',
      },
      secrets: secrets.map((s): SecretView => ({
        id: s.id,
        hint: s.hint,
        state: s.state,
        deliveryId: s.deliveryId,
        createdAt: s.createdAt,
        activatedAt: s.activatedAt,
        expiresAt: s.expiresAt,
        retiresAt: s.retiresAt,
        endedAt: s.endedAt,
        lastUsedAt: s.lastUsedAt,
      })),
    };
  }

  /** Marks active secrets past their expiry as ended, each once (the caller audits what this returns). */
  async endExpiredSecrets(
    tx: Tx,
    now: Date,
  ): Promise<Array<{ secretId: string; credentialId: string; clientId: string; environment: Environment; expiresAt: Date }>> {
    const rows = await tx.$queryRaw<Array<{ id: string; credential_id: string; client_id: string; environment: Environment; expires_at: Date }>>`
      UPDATE credential_secret s SET ended_at = s.expires_at FROM credential c
      WHERE c.id = s.credential_id AND s.state = 'active' AND s.ended_at IS NULL AND s.expires_at <= ${now}
      RETURNING s.id::text, s.credential_id::text, c.client_id, c.environment::text AS environment, s.expires_at`;
    return rows.map((r) => ({ secretId: r.id, credentialId: r.credential_id, clientId: r.client_id, environment: r.environment, expiresAt: r.expires_at }));
  }

  /** Active secrets whose expiry falls inside [from, to): for reminders. */
  async activeSecretsExpiringBetween(from: Date, to: Date): Promise<Array<{ secretId: string; credentialId: string; expiresAt: Date }>> {
    const rows = await this.prisma.credentialSecret.findMany({
      where: { state: 'active', retiresAt: null, expiresAt: { gte: from, lt: to } },
      select: { id: true, credentialId: true, expiresAt: true },
    });
    return rows.map((r) => ({ secretId: r.id, credentialId: r.credentialId, expiresAt: r.expiresAt }));
  }
}

function listItem(r: Record<string, unknown>): CredentialListItem {
  return {
    id: r.id as string,
    clientId: r.client_id as string,
    environment: r.environment as Environment,
    state: r.state as CredentialState,
    apiName: r.api_name as string,
    apiKey: r.api_key as string,
    partnerId: r.partner_id as string,
    partnerName: r.partner_name as string,
    createdAt: r.created_at as Date,
    activatedAt: (r.activated_at as Date | null) ?? null,
    revokedAt: (r.revoked_at as Date | null) ?? null,
  };
}
