import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { RequestContext } from '../common/request-context.js';
import type { AuditEventInput, AuditEventView, AuditQuery } from './audit.types.js';

export interface ChainRow {
  seq: string;
  id: string;
  prev_hash: string | null;
  hash: string | null;
  canonical: string;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  async insert(tx: Tx, ctx: RequestContext, event: AuditEventInput): Promise<string> {
    const id = randomUUID();
    // Raw insert: the audit row is on every write path, and this skips the query compiler's overhead.
    await tx.$executeRaw`
      INSERT INTO audit_event (id, actor_type, actor_id, action, subject_type, subject_id, environment, correlation_id, client_ip, detail)
      VALUES (${id}::uuid, ${ctx.actor.type}::"ActorType", ${ctx.actor.id}, ${event.action}, ${event.subjectType}, ${event.subjectId ?? null},
        ${event.environment ?? null}::"Environment", ${ctx.correlationId}, ${ctx.clientIp}, ${JSON.stringify(event.detail ?? {})}::jsonb)`;
    return id;
  }

  async find(q: AuditQuery): Promise<AuditEventView[]> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        subjectType: q.subjectType,
        subjectId: q.subjectId,
        actorId: q.actorId,
        action: q.action,
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

  /**
   * The canonical text is recomputed here with its own expression (not the database function
   * the sealing trigger uses), so replacing that function cannot make a tampered row verify.
   */
  async chainRows(afterSeq: bigint, limit: number): Promise<ChainRow[]> {
    return this.prisma.$queryRaw<ChainRow[]>`
      SELECT seq::text AS seq, id::text AS id, prev_hash, hash,
        jsonb_build_array(seq, id::text, (extract(epoch FROM occurred_at) * 1000000)::bigint::text,
          actor_type::text, actor_id, action, subject_type, subject_id, environment::text,
          correlation_id, client_ip, detail)::text AS canonical
      FROM audit_event e WHERE e.seq > ${afterSeq} ORDER BY e.seq LIMIT ${limit}`;
  }

  async head(): Promise<{ seq: bigint; hash: string }> {
    const head = await this.prisma.auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
    return { seq: head.seq, hash: head.hash };
  }

  async unsealedCount(): Promise<number> {
    return this.prisma.auditEvent.count({ where: { seq: null } });
  }
}
