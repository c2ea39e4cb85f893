import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { Clock } from '../common/clock.js';
import { PrismaService, afterCommit, type Tx } from '../prisma/prisma.service.js';
import type { RequestContext } from '../common/request-context.js';
import type { AuditQueryDto } from './audit.dto.js';
import { AuditRepository, type UnsealedRow } from './audit.repository.js';
import { AuditSealer } from './audit.sealer.js';
import type { AuditEventInput, AuditEventView, AuditQuery, ChainVerification } from './audit.types.js';
import { AuditVerifier } from './audit.verifier.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { CheckpointStore } from './checkpoint.store.js';

/** Rows each open transaction recorded, handed to the sealer once it commits. */
const recordedIn = new WeakMap<Tx, UnsealedRow[]>();

/** Keys whose values must never reach the trail; a defect elsewhere must not turn into a leak here. */
const FORBIDDEN_DETAIL_KEY =
  /^(password|passwd|secret|client_?secret|token|access_?token|link_?token|code|otp|sms_?code|totp_?secret|recovery_?codes?|authorization|cookie)$/i;

@Injectable()
export class AuditService {
  constructor(
    private readonly repo: AuditRepository,
    private readonly sealer: AuditSealer,
    private readonly verifier: AuditVerifier,
    private readonly checkpoints: CheckpointStore,
    private readonly prisma: PrismaService,
    private readonly clock: Clock,
  ) {}

  /**
   * Writes the event inside the caller's transaction: if it cannot be written the caller's change
   * rolls back too (fail-closed). Right after commit it is sealed into the keyed chain.
   */
  async record(tx: Tx, ctx: RequestContext, event: AuditEventInput): Promise<string> {
    const row = await this.repo.insert(tx, ctx, { ...event, detail: scrub(event.detail ?? {}) as Record<string, unknown> });
    let rows = recordedIn.get(tx);
    if (!rows) {
      recordedIn.set(tx, (rows = []));
      const committed = rows;
      afterCommit(tx, AuditSealer, () => {
        this.sealer.committedRows(committed);
        return this.sealer.seal();
      });
    }
    rows.push(row);
    return row.id;
  }

  /**
   * An event that is its own transaction (nothing else changes with it): one INSERT. Resolves once the event
   * is committed; it is sealed into the chain moments later, together with its neighbours (writers do not wait
   * for the seal, which lets many of them share one). For business changes use `record` inside their transaction.
   */
  async append(ctx: RequestContext, event: AuditEventInput): Promise<string> {
    const row = await this.repo.insertAlone(ctx, { ...event, detail: scrub(event.detail ?? {}) as Record<string, unknown> });
    this.sealer.committedRows([row]);
    void this.sealer.seal();
    return row.id;
  }

  /** Seals every event committed so far (the after-commit seal does this for transactions it saw). */
  sealPending(): Promise<void> {
    return this.sealer.seal(true);
  }

  /**
   * Signs the chain's current head and writes the checkpoint outside the database. `ctx` names who asked
   * (recorded first, so the checkpoint covers its own request).
   */
  async checkpoint(ctx?: RequestContext): Promise<SignedCheckpoint & { file: string }> {
    if (ctx) await this.prisma.transaction((tx) => this.record(tx, ctx, { action: 'audit.checkpoint_requested', subjectType: 'audit_chain' }));
    await this.sealer.seal(true);
    const head = await this.repo.durableHead();
    const signed = this.checkpoints.sign({
      seq: head.seq.toString(),
      headHash: head.hash,
      keyedFrom: head.keyedFrom.toString(),
      signedAt: this.clock.now().toISOString(),
    });
    return { ...signed, file: basename(await this.checkpoints.write(signed)) };
  }

  head(): Promise<{ seq: bigint; hash: string; keyedFrom: bigint }> {
    return this.repo.head();
  }

  /** The newest signed checkpoint in the checkpoint directory (whichever instance wrote it), or null. */
  latestCheckpoint(): Promise<SignedCheckpoint | null> {
    return this.checkpoints.latest();
  }

  /** The public key that verifies this service's checkpoints (PEM), and its id. */
  checkpointKey(): { keyId: string; publicKeyPem: string } {
    return { keyId: this.checkpoints.keyId, publicKeyPem: this.checkpoints.publicKeyPem };
  }

  find(query: AuditQuery): Promise<AuditEventView[]> {
    return this.repo.find(query);
  }

  /** The validated filters of the API and the console page, one page of events and the cursor to the next. */
  async search(
    q: AuditQueryDto,
    limit = q.limit ?? 50,
    narrower: Pick<AuditQuery, 'actions' | 'actorType'> = {},
  ): Promise<{ events: AuditEventView[]; nextBefore: string | null }> {
    const events = await this.repo.find({
      ...narrower,
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

  /**
   * Verifies the chain against signed checkpoints: the files or directories given (default: the configured
   * checkpoint directory), checked with `publicKey` (default: this service's own checkpoint key).
   */
  async verify(opts: { checkpointPaths?: string[]; publicKey?: KeyObject } = {}): Promise<ChainVerification> {
    return this.verifier.verify(await this.checkpoints.load(opts.checkpointPaths, opts.publicKey));
  }
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, FORBIDDEN_DETAIL_KEY.test(k) ? '[redacted]' : scrub(v)]));
  }
  return value;
}
