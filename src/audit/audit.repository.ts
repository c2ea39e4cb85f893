import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { RequestContext } from '../common/request-context.js';
import { Prisma } from '../generated/prisma/client.js';
import type { AuditEventInput, AuditEventView, AuditQuery } from './audit.types.js';

export interface ChainRow {
  seq: string;
  id: string;
  prev_hash: string | null;
  hash: string | null;
  /** The keyed body, or the legacy canonical text (seq included) for rows before `keyedFrom`. */
  canonical: string;
}

export interface ChainHead {
  seq: bigint;
  hash: string;
  keyedFrom: bigint;
}

export interface UnsealedRow {
  id: string;
  body: string;
}

export interface UnsealedBatch {
  headSeq: bigint;
  headHash: string;
  rows: UnsealedRow[];
}

/**
 * The canonical body of a row, rendered by the database from its columns (jsonb's text form is normalised).
 * Sealing and verifying both read it through this one expression; the MAC itself is computed by the service.
 */
const BODY_SQL = `jsonb_build_array(e.id::text, (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text,
  e.actor_type::text, e.actor_id, e.action, e.subject_type, e.subject_id, e.environment::text, e.correlation_id, e.client_ip, e.detail)::text`;
const BODY = Prisma.raw(BODY_SQL);

const INSERT_ALONE = `
  INSERT INTO audit_event AS e (id, actor_type, actor_id, action, subject_type, subject_id, environment, correlation_id, client_ip, detail)
  VALUES ($1::uuid, $2::"ActorType", $3, $4, $5, $6, $7::"Environment", $8, $9, $10::jsonb)
  RETURNING ${BODY_SQL} AS body`;

const UNSEALED = `
  SELECT h.seq::text AS head_seq, h.hash AS head_hash, u.id, u.body
  FROM audit_chain_head h
  LEFT JOIN LATERAL (
    SELECT e.id::text AS id, ${BODY_SQL} AS body FROM audit_event e
    WHERE e.seq IS NULL ORDER BY e.occurred_at, e.id LIMIT $1
  ) u ON true
  WHERE h.id = 1`;

/** The canonical text of rows sealed before the chain was keyed (seq first), as the original trigger hashed it. */
const LEGACY = Prisma.raw(`jsonb_build_array(e.seq, e.id::text, (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text,
  e.actor_type::text, e.actor_id, e.action, e.subject_type, e.subject_id, e.environment::text, e.correlation_id, e.client_ip, e.detail)::text`);

/**
 * Business transactions write their audit rows through Prisma (`insert`, on the caller's transaction). Events
 * that are their own transaction (`insertAlone`) and the sealer's statements go through a small `pg` pool: one
 * round trip each, without the ORM's per-query overhead on the hottest path.
 */
@Injectable()
export class AuditRepository implements OnModuleDestroy {
  private readonly pool: pg.Pool;
  private readonly sealPool: pg.Pool;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.pool = new pg.Pool({ connectionString: config.databaseUrl, max: 16, idleTimeoutMillis: 10_000, application_name: 'credential-service-audit' });
    // The seal's own commit does not wait for its WAL flush (one fsync, ~3 ms here, on every writer's path).
    // Losing it in a database crash loses no event: the rows it sealed are committed, unsealed again after
    // recovery, and sealed anew by the sweep. A checkpoint forces the flush before it signs (durableHead).
    this.sealPool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: 2,
      idleTimeoutMillis: 10_000,
      application_name: 'credential-service-audit-seal',
      options: '-c synchronous_commit=off',
    });
    // An idle connection the server ends (restart, failover, dropped database) must not crash the process:
    // the pool discards it and the next query opens a new one.
    // Name and message only: pg hangs the whole client (its backend cancel key included) on this error.
    const closed = (err: Error) => logger.warn({ err: { type: err.name, message: err.message } }, 'audit connection closed by the server; it will be reopened');
    this.pool.on('error', closed);
    this.sealPool.on('error', closed);
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
    await this.sealPool.end();
  }

  /** One event as its own transaction (a single autocommit INSERT). */
  async insertAlone(ctx: RequestContext, event: AuditEventInput): Promise<UnsealedRow> {
    const id = randomUUID();
    const { rows } = await this.pool.query<{ body: string }>(INSERT_ALONE, [
      id,
      ctx.actor.type,
      ctx.actor.id,
      event.action,
      event.subjectType,
      event.subjectId ?? null,
      event.environment ?? null,
      ctx.correlationId,
      ctx.clientIp,
      JSON.stringify(event.detail ?? {}),
    ]);
    return { id, body: rows[0].body };
  }

  /** Inserts the row unsealed and returns its canonical body (rendered by the database), for the sealer. */
  async insert(tx: Tx, ctx: RequestContext, event: AuditEventInput): Promise<{ id: string; body: string }> {
    const id = randomUUID();
    // Raw insert: the audit row is on every write path, and this skips the query compiler's overhead.
    const rows = await tx.$queryRaw<Array<{ body: string }>>`
      INSERT INTO audit_event AS e (id, actor_type, actor_id, action, subject_type, subject_id, environment, correlation_id, client_ip, detail)
      VALUES (${id}::uuid, ${ctx.actor.type}::"ActorType", ${ctx.actor.id}, ${event.action}, ${event.subjectType}, ${event.subjectId ?? null},
        ${event.environment ?? null}::"Environment", ${ctx.correlationId}, ${ctx.clientIp}, ${JSON.stringify(event.detail ?? {})}::jsonb)
      RETURNING ${BODY} AS body`;
    return { id, body: rows[0].body };
  }

  async find(q: AuditQuery): Promise<AuditEventView[]> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        subjectType: q.subjectType,
        subjectId: q.subjectId,
        actorId: q.actorId,
        actorType: q.actorType as never,
        action: q.action ?? (q.actions ? { in: q.actions } : undefined),
        correlationId: q.correlationId,
        occurredAt: q.from || q.to ? { gte: q.from, lt: q.to } : undefined,
        seq: q.before !== undefined ? { lt: q.before, not: null } : { not: null },
      },
      orderBy: { seq: 'desc' },
      take: q.limit,
    });
    return rows.map((r) => ({
      id: r.id,
      seq: r.seq?.toString() ?? null,
      occurredAt: r.occurredAt.toISOString(),
      actorType: r.actorType,
      actorId: r.actorId,
      action: r.action,
      subjectType: r.subjectType,
      subjectId: r.subjectId,
      environment: r.environment,
      correlationId: r.correlationId,
      clientIp: r.clientIp,
      detail: r.detail,
      hash: r.hash,
    }));
  }

  /** Sealed rows after `afterSeq` up to `uptoSeq` (the head the verifier read), in seq order. */
  async chainRows(afterSeq: bigint, uptoSeq: bigint, keyedFrom: bigint, limit: number): Promise<ChainRow[]> {
    return this.prisma.$queryRaw<ChainRow[]>`
      SELECT e.seq::text AS seq, e.id::text AS id, e.prev_hash, e.hash,
        CASE WHEN e.seq < ${keyedFrom} THEN ${LEGACY} ELSE ${BODY} END AS canonical
      FROM audit_event e WHERE e.seq > ${afterSeq} AND e.seq <= ${uptoSeq} ORDER BY e.seq LIMIT ${limit}`;
  }

  async head(): Promise<ChainHead> {
    const head = await this.prisma.auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
    return { seq: head.seq, hash: head.hash, keyedFrom: head.keyedFrom };
  }

  /**
   * The head, once every seal up to it is on disk: seals commit without waiting for their WAL flush, so a
   * signed checkpoint must not name a head a database crash could take back. The commit of a transaction
   * that took a transaction id waits for the flush of all WAL before it, the seals' included.
   */
  async durableHead(): Promise<ChainHead> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ seq: string; hash: string; keyed_from: string }>(
        'SELECT seq::text, hash, keyed_from::text FROM audit_chain_head WHERE id = 1',
      );
      await client.query('SELECT pg_current_xact_id()');
      await client.query('COMMIT');
      return { seq: BigInt(rows[0].seq), hash: rows[0].hash, keyedFrom: BigInt(rows[0].keyed_from) };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Committed rows still waiting for their seal, and how many of them were committed over `staleMinutes` ago. */
  async unsealedSummary(staleMinutes: number): Promise<{ count: number; stale: number }> {
    const rows = await this.prisma.$queryRaw<Array<{ count: number; stale: number }>>`
      SELECT count(*)::int AS count, (count(*) FILTER (WHERE e.occurred_at < now() - make_interval(mins => ${staleMinutes})))::int AS stale
      FROM audit_event e WHERE e.seq IS NULL`;
    return rows[0];
  }

  /** The head and the oldest unsealed rows, in one statement. */
  async unsealed(limit: number): Promise<UnsealedBatch> {
    const { rows } = await this.pool.query<{ head_seq: string; head_hash: string; id: string | null; body: string | null }>(UNSEALED, [limit]);
    return {
      headSeq: BigInt(rows[0].head_seq),
      headHash: rows[0].head_hash,
      rows: rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, body: r.body! })),
    };
  }

  /** Seals `ids` in order after the expected head; null when another sealer moved the head first. */
  async seal(expectedSeq: bigint, expectedHash: string, ids: string[], hashes: string[]): Promise<bigint | null> {
    const { rows } = await this.sealPool.query<{ seq: string }>('SELECT audit_seal($1::bigint, $2::text, $3::uuid[], $4::text[])::text AS seq', [
      expectedSeq.toString(),
      expectedHash,
      ids,
      hashes,
    ]);
    const seq = BigInt(rows[0].seq);
    return seq < 0n ? null : seq;
  }
}
