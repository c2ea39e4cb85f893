import { randomUUID } from 'node:crypto';
import { AuditService } from '../../src/audit/audit.service.js';
import { systemContext, type RequestContext } from '../../src/common/request-context.js';
import type { TestApp } from './app.js';

export const auditContext = (over: Partial<RequestContext> = {}): RequestContext => ({ ...systemContext(), ...over });

/** One audit event recorded in a business transaction of its own; returns its id. */
export function recordedEvent(t: TestApp, action = 'test.recorded', ctx: RequestContext = auditContext()): Promise<string> {
  const audit = t.app.get(AuditService);
  return t.prisma.transaction((tx) => audit.record(tx, ctx, { action, subjectType: 'thing', subjectId: randomUUID() }));
}

/** `count` events about one new subject, recorded one transaction each under one correlation id, `detail.i` counting up. */
export async function pagedSubject(t: TestApp, count = 5) {
  const audit = t.app.get(AuditService);
  const subjectId = randomUUID();
  const ctx = auditContext();
  for (let i = 0; i < count; i++) {
    await t.prisma.transaction((tx) => audit.record(tx, ctx, { action: 'test.paged', subjectType: 'paged', subjectId, detail: { i } }));
  }
  return { subjectId, correlationId: ctx.correlationId };
}

/** The sealed row at the end of the chain, as JSON that `restoreRow` puts back. */
export async function newestRow(t: TestApp): Promise<unknown> {
  const admin = await t.db.admin();
  try {
    return (await admin.query(`SELECT row_to_json(e) AS r FROM audit_event e WHERE seq = (SELECT max(seq) FROM audit_event)`)).rows[0].r;
  } finally {
    await admin.end();
  }
}

/** Statements run by the superuser with the audit triggers off: what an insider with the database password can do. */
export async function asSuperuserWithoutTriggers(t: TestApp, sql: string, params: unknown[] = []): Promise<void> {
  const admin = await t.db.admin();
  try {
    await admin.query(`SET session_replication_role = replica`);
    await admin.query(sql, params);
  } finally {
    await admin.end();
  }
}

/** Puts a row that `newestRow` read back in place, exactly as it was. */
export function restoreRow(t: TestApp, row: unknown): Promise<void> {
  return asSuperuserWithoutTriggers(t, `INSERT INTO audit_event SELECT * FROM json_populate_record(NULL::audit_event, $1::json)`, [JSON.stringify(row)]);
}
