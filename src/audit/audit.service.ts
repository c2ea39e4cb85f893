import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Tx } from '../prisma/prisma.service.js';
import type { RequestContext } from '../common/request-context.js';
import type { AuditQueryDto } from './audit.dto.js';
import { AuditRepository } from './audit.repository.js';
import type { AuditEventInput, AuditEventView, AuditQuery, ChainVerification } from './audit.types.js';

/** Keys whose values must never reach the trail; a defect elsewhere must not turn into a leak here. */
const FORBIDDEN_DETAIL_KEY =
  /^(password|passwd|secret|client_?secret|token|access_?token|link_?token|code|otp|sms_?code|totp_?secret|recovery_?codes?|authorization|cookie)$/i;

const GENESIS = '0'.repeat(64);

@Injectable()
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  /**
   * Writes the event inside the caller's transaction: if it cannot be written the caller's change
   * rolls back too (fail-closed). The database seals it into the hash chain at commit.
   */
  async record(tx: Tx, ctx: RequestContext, event: AuditEventInput): Promise<string> {
    return this.repo.insert(tx, ctx, { ...event, detail: scrub(event.detail ?? {}) as Record<string, unknown> });
  }

  find(query: AuditQuery): Promise<AuditEventView[]> {
    return this.repo.find(query);
  }

  /** The validated filters of the API and the console page, one page of events and the cursor to the next. */
  async search(q: AuditQueryDto, limit = q.limit ?? 50): Promise<{ events: AuditEventView[]; nextBefore: string | null }> {
    const events = await this.repo.find({
      subjectType: q.subjectType,
      subjectId: q.subjectId,
      actorId: q.actorId,
      action: q.action,
      correlationId: q.correlationId,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      before: q.before ? BigInt(q.before) : undefined,
      limit,
    });
    return { events, nextBefore: events.length === limit ? events[events.length - 1].seq : null };
  }

  /** Walks the whole chain in seq order and reports the first row that does not verify. */
  async verify(batch = 5000): Promise<ChainVerification> {
    const head = await this.repo.head();
    let prevHash = GENESIS;
    let expectedSeq = 1n;
    let checked = 0;
    for (;;) {
      const rows = await this.repo.chainRows(expectedSeq - 1n, batch);
      for (const row of rows) {
        const broken = (reason: string): ChainVerification => ({
          ok: false,
          checked,
          headSeq: head.seq.toString(),
          headHash: head.hash,
          firstBroken: { seq: row.seq, id: row.id, reason },
        });
        if (BigInt(row.seq) !== expectedSeq) return broken(`sequence gap: expected ${expectedSeq}`);
        if (row.prev_hash !== prevHash) return broken('prev_hash does not match the previous row');
        const hash = createHash('sha256').update(prevHash + row.canonical, 'utf8').digest('hex');
        if (row.hash !== hash) return broken('content does not match its hash');
        prevHash = hash;
        expectedSeq += 1n;
        checked += 1;
      }
      if (rows.length < batch) break;
    }
    const result: ChainVerification = { ok: true, checked, headSeq: head.seq.toString(), headHash: head.hash };
    if (BigInt(checked) !== head.seq || prevHash !== head.hash) {
      return { ...result, ok: false, firstBroken: { seq: String(checked), id: '', reason: 'the chain head does not match the last row (rows removed at the end?)' } };
    }
    return result;
  }
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, FORBIDDEN_DETAIL_KEY.test(k) ? '[redacted]' : scrub(v)]),
    );
  }
  return value;
}
