import { Injectable } from '@nestjs/common';
import type { DeliveryState } from '../generated/prisma/enums.js';
import type { Delivery, Prisma } from '../generated/prisma/client.js';
import { jsonObject, oneOf, stringField } from '../prisma/json-column.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { DeliveryDisplay, DeveloperInfo } from './delivery.types.js';
import { LIMITS } from './delivery.limits.js';

/**
 * A delivery as stored, with its display read back through a schema: the columns come from Prisma's generated
 * model, so a column added to schema.prisma shows up here without a cast. tokenHash is null until the link email
 * is being sent (see DeliveryService.armLink).
 */
export type DeliveryRow = Omit<Delivery, 'display'> & { display: DeliveryDisplay };

export type NewDelivery = Pick<
  DeliveryRow,
  | 'id'
  | 'subjectType'
  | 'subjectId'
  | 'contactId'
  | 'recipientName'
  | 'recipientEmail'
  | 'recipientMobile'
  | 'language'
  | 'display'
  | 'hotpSecretEnc'
  | 'expiresAt'
  | 'createdAt'
>;

const ms = (n: number) => `${n} milliseconds`;

/** Every counter and every one-time transition is one conditional statement (no read-modify-write here). */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  async insert(tx: Tx, d: NewDelivery): Promise<void> {
    await tx.delivery.create({ data: { ...d, display: { ...d.display } satisfies Prisma.InputJsonObject } });
  }

  /** One hash per configured hash key (current first): a link made before a key rotation still opens. */
  async findByTokenHash(tx: Tx | PrismaService, tokenHashes: string[]): Promise<DeliveryRow | null> {
    return toRowOrNull(await tx.delivery.findFirst({ where: { tokenHash: { in: tokenHashes } } }));
  }

  /** Gives a pending delivery a new link token (its hash) and the secret sealed under it; replaces an earlier one. */
  async arm(tx: Tx, id: string, tokenHash: string, secretEnc: string, now: Date): Promise<DeliveryRow | null> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      UPDATE delivery SET token_hash = ${tokenHash}, secret_enc = ${secretEnc}
       WHERE id = ${id}::uuid AND state = 'pending' AND expires_at > ${now}
      RETURNING id::text`;
    return rows.length ? this.findById(tx, id) : null;
  }

  /** Locks the delivery row; take it only after the subject's owner (DeliveryService.lockInOrder). */
  async lockForUpdate(tx: Tx, id: string): Promise<DeliveryRow | null> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM delivery WHERE id = ${id}::uuid FOR UPDATE`;
    return rows.length ? this.findById(tx, id) : null;
  }

  async findById(tx: Tx | PrismaService, id: string): Promise<DeliveryRow | null> {
    return toRowOrNull(await tx.delivery.findUnique({ where: { id } }));
  }

  async forSubjects(subjectType: string, subjectIds: string[]): Promise<DeliveryRow[]> {
    return (await this.prisma.delivery.findMany({ where: { subjectType, subjectId: { in: subjectIds } }, orderBy: { createdAt: 'desc' } })).map(toRow);
  }

  /** Starts a new code (the next HOTP counter) if the delivery may send one now; null otherwise. */
  async issueCode(tx: Tx, id: string, now: Date): Promise<{ hotpCounter: number; codesSent: number; codeExpiresAt: Date } | null> {
    const rows = await tx.$queryRaw<Array<{ hotp_counter: number; codes_sent: number; code_expires_at: Date }>>`
      UPDATE delivery
         SET hotp_counter = hotp_counter + 1, codes_sent = codes_sent + 1, code_wrong = 0,
             code_sent_at = ${now}, code_expires_at = ${now}::timestamptz + ${ms(LIMITS.codeValidityMs)}::interval
       WHERE id = ${id}::uuid AND state = 'pending' AND expires_at > ${now}
         AND codes_sent < ${LIMITS.codesPerDelivery}
         AND (code_sent_at IS NULL OR code_sent_at <= ${now}::timestamptz - ${ms(LIMITS.resendAfterMs)}::interval)
      RETURNING hotp_counter, codes_sent, code_expires_at`;
    const r = rows[0];
    return r ? { hotpCounter: r.hotp_counter, codesSent: r.codes_sent, codeExpiresAt: r.code_expires_at } : null;
  }

  /** A code that was issued but is not sent (a SIM change found at send time): voided, and it does not count. */
  async withdrawCode(tx: Tx, id: string, counter: number): Promise<boolean> {
    const n = await tx.$executeRaw`
      UPDATE delivery SET code_expires_at = NULL, code_sent_at = NULL, codes_sent = GREATEST(codes_sent - 1, 0)
       WHERE id = ${id}::uuid AND state = 'pending' AND hotp_counter = ${counter} AND code_expires_at IS NOT NULL`;
    return n === 1;
  }

  /** Counts a wrong code; the code is voided at the per-code limit. */
  async recordWrongCode(tx: Tx, id: string, counter: number): Promise<{ codeWrong: number; wrongTotal: number; codesSent: number; voided: boolean } | null> {
    const rows = await tx.$queryRaw<Array<{ code_wrong: number; wrong_total: number; codes_sent: number; code_expires_at: Date | null }>>`
      UPDATE delivery
         SET code_wrong = code_wrong + 1, wrong_total = wrong_total + 1,
             code_expires_at = CASE WHEN code_wrong + 1 >= ${LIMITS.wrongPerCode} THEN NULL ELSE code_expires_at END
       WHERE id = ${id}::uuid AND state = 'pending' AND hotp_counter = ${counter}
      RETURNING code_wrong, wrong_total, codes_sent, code_expires_at`;
    const r = rows[0];
    return r ? { codeWrong: r.code_wrong, wrongTotal: r.wrong_total, codesSent: r.codes_sent, voided: r.code_expires_at === null } : null;
  }

  /** The per-address tier: counts one event in the current window and blocks the address past its limit. */
  async countForAddress(
    tx: Tx,
    id: string,
    ip: string,
    now: Date,
    what: 'wrong' | 'code',
  ): Promise<{ wrongCodes: number; codeRequests: number; blockedUntil: Date | null }> {
    const wrong = what === 'wrong' ? 1 : 0;
    const code = what === 'code' ? 1 : 0;
    const windowStart = new Date(now.getTime() - LIMITS.ipWindowMs);
    const blockUntil = new Date(now.getTime() + LIMITS.ipBlockMs);
    const rows = await tx.$queryRaw<Array<{ wrong_codes: number; code_requests: number; blocked_until: Date | null }>>`
      INSERT INTO delivery_ip_limit AS l (delivery_id, ip, window_start, wrong_codes, code_requests, blocked_until)
      VALUES (${id}::uuid, ${ip}, ${now}, ${wrong}, ${code}, CASE WHEN ${wrong} >= ${LIMITS.ipWrongPerWindow} THEN ${blockUntil}::timestamptz END)
      ON CONFLICT (delivery_id, ip) DO UPDATE SET
        wrong_codes = CASE WHEN l.window_start <= ${windowStart} THEN ${wrong} ELSE l.wrong_codes + ${wrong} END,
        code_requests = CASE WHEN l.window_start <= ${windowStart} THEN ${code} ELSE l.code_requests + ${code} END,
        window_start = CASE WHEN l.window_start <= ${windowStart} THEN ${now}::timestamptz ELSE l.window_start END,
        blocked_until = CASE
          WHEN (CASE WHEN l.window_start <= ${windowStart} THEN ${wrong} ELSE l.wrong_codes + ${wrong} END) >= ${LIMITS.ipWrongPerWindow}
            THEN ${blockUntil}::timestamptz
          ELSE l.blocked_until END
      RETURNING wrong_codes, code_requests, blocked_until`;
    const r = rows[0];
    return { wrongCodes: r.wrong_codes, codeRequests: r.code_requests, blockedUntil: r.blocked_until };
  }

  async addressBlockedUntil(tx: Tx, id: string, ip: string, now: Date): Promise<Date | null> {
    const row = await tx.deliveryIpLimit.findUnique({ where: { deliveryId_ip: { deliveryId: id, ip } } });
    return row?.blockedUntil && row.blockedUntil > now ? row.blockedUntil : null;
  }

  /**
   * The reveal: one statement marks the delivery revealed for the code's own counter, wipes the ciphertext
   * and hands back the ciphertext it had. Of any number of concurrent callers exactly one gets a row, and
   * only while the link it came with is still the delivery's (a resend may have replaced it meanwhile).
   */
  async consume(tx: Tx, id: string, tokenHash: string, counter: number, now: Date, ip: string): Promise<string | null> {
    const rows = await tx.$queryRaw<Array<{ secret_enc: string }>>`
      UPDATE delivery d
         SET state = 'revealed', revealed_at = ${now}, revealed_ip = ${ip}, secret_enc = NULL, code_expires_at = NULL
        FROM (SELECT id, secret_enc FROM delivery WHERE id = ${id}::uuid FOR UPDATE) old
       WHERE d.id = old.id AND d.state = 'pending' AND d.expires_at > ${now} AND d.hotp_counter = ${counter} AND d.token_hash = ${tokenHash}
         AND d.code_expires_at > ${now} AND d.code_wrong < ${LIMITS.wrongPerCode} AND old.secret_enc IS NOT NULL
      RETURNING old.secret_enc`;
    return rows[0]?.secret_enc ?? null;
  }

  /** Moves a delivery out of `from` states into a closed state and wipes its ciphertext. */
  async close(tx: Tx, id: string, from: DeliveryState[], to: 'locked' | 'cancelled', now: Date, reason: string): Promise<DeliveryRow | null> {
    const r = await tx.delivery.updateMany({
      where: { id, state: { in: from } },
      data: { state: to, secretEnc: null, codeExpiresAt: null, closedAt: now, closedReason: reason },
    });
    return r.count === 1 ? this.findById(tx, id) : null;
  }

  async expireDue(tx: Tx, now: Date, limit: number): Promise<DeliveryRow[]> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      UPDATE delivery SET state = 'expired', secret_enc = NULL, code_expires_at = NULL, closed_at = ${now}, closed_reason = 'expired'
       WHERE id IN (SELECT id FROM delivery WHERE state = 'pending' AND expires_at <= ${now} ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id::text`;
    if (!rows.length) return [];
    return (await tx.delivery.findMany({ where: { id: { in: rows.map((r) => r.id) } } })).map(toRow);
  }
}

const ENVIRONMENTS = ['acceptance', 'production'] as const;
const REASONS = ['issued', 'rotated', 'redelivered'] as const;

/** A row as Prisma gives it, with its display read back through the schema. */
export function toRow(row: Delivery): DeliveryRow {
  const o = jsonObject(row.display, 'delivery.display');
  const s = (key: string) => stringField(o, key, 'delivery.display');
  const display: DeliveryDisplay = {
    partnerName: s('partnerName'),
    clientId: s('clientId'),
    apiName: s('apiName'),
    environment: oneOf(o, 'environment', ENVIRONMENTS, 'delivery.display'),
    issuer: s('issuer'),
    tokenEndpoint: s('tokenEndpoint'),
    baseUrl: s('baseUrl'),
    reason: oneOf(o, 'reason', REASONS, 'delivery.display'),
  };
  const developer = developerOf(o.developer);
  return { ...row, display: developer ? { ...display, developer } : display };
}

/** The developer's next steps, on deliveries made since they are shown (older rows have none). */
function developerOf(value: unknown): DeveloperInfo | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const d = value as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' ? d[k] : undefined);
  const [scope, audience, metadataUrl, jwksUrl, environmentsUrl] = ['scope', 'audience', 'metadataUrl', 'jwksUrl', 'environmentsUrl'].map(str);
  if (!scope || !audience || !metadataUrl || !jwksUrl || !environmentsUrl || typeof d.tokenTtlSeconds !== 'number') return undefined;
  return { scope, audience, tokenTtlSeconds: d.tokenTtlSeconds, metadataUrl, jwksUrl, environmentsUrl, docsUrl: str('docsUrl') ?? null };
}

function toRowOrNull(row: Delivery | null): DeliveryRow | null {
  return row ? toRow(row) : null;
}
