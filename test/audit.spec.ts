import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { auditContext as ctx, asSuperuserWithoutTriggers, newestRow, pagedSubject, recordedEvent, restoreRow } from './support/audit.factories.js';
import { createStaffWithSession } from './support/factories.js';

let t: TestApp;
let audit: AuditService;

beforeAll(async () => {
  t = await startTestApp();
  audit = t.app.get(AuditService);
});
afterAll(() => t.close());

/** An event recorded inside a business transaction by a staff member from a known address. */
async function recordedByStaff() {
  const c = ctx({ actor: { type: 'staff', id: randomUUID() }, clientIp: '203.0.113.7' });
  const id = await t.prisma.transaction((tx) =>
    audit.record(tx, c, { action: 'test.recorded', subjectType: 'thing', subjectId: 'x1', environment: 'acceptance', detail: { from: 'a', to: 'b' } }),
  );
  return { c, row: await t.prisma.auditEvent.findUniqueOrThrow({ where: { id } }) };
}

describe('audit trail', () => {
  it('records who acted, from where and under which correlation id', async () => {
    const { c, row } = await recordedByStaff();
    expect(row.correlationId).toBe(c.correlationId);
    expect(row.clientIp).toBe('203.0.113.7');
    expect(row.actorType).toBe('staff');
  });

  it('seals a row recorded in the caller transaction into the chain at commit', async () => {
    const { row } = await recordedByStaff();
    expect(row.seq).not.toBeNull();
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('seals an event appended as its own transaction', async () => {
    const id = await audit.append(ctx(), { action: 'test.appended_alone', subjectType: 'thing', detail: { kept: 1 } });
    await audit.sealPending();
    const row = await t.prisma.auditEvent.findUniqueOrThrow({ where: { id } });
    expect(row.seq).not.toBeNull();
    expect((await audit.verify()).ok).toBe(true);
  });

  it('scrubs an appended event like any other', async () => {
    const id = await audit.append(ctx(), { action: 'test.appended_alone', subjectType: 'thing', detail: { token: 'tok_live_123', kept: 1 } });
    const row = await t.prisma.auditEvent.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(row.detail)).not.toContain('tok_live_123');
  });

  it('rolls the business change back when the audit row cannot be written (fail-closed)', async () => {
    const admin = await t.db.admin();
    await admin.query(`CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.action = 'test.unwritable' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER a_fail_audit BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION fail_audit();`);
    onTestFinished(async () => {
      await admin.query('DROP TRIGGER a_fail_audit ON audit_event; DROP FUNCTION fail_audit();');
      await admin.end();
    });
    const partnerId = randomUUID();
    await expect(
      t.prisma.transaction(async (tx) => {
        await tx.partner.create({ data: { id: partnerId, legalName: 'Rollback BV', registrationNumber: '123', country: 'NL' } });
        await audit.record(tx, ctx(), { action: 'test.unwritable', subjectType: 'partner', subjectId: partnerId });
      }),
    ).rejects.toThrow();
    expect(await t.prisma.partner.findUnique({ where: { id: partnerId } })).toBeNull();
  });

  it('keeps one linear, verifiable chain under 16 concurrent writers', async () => {
    const before = await t.prisma.auditEvent.count();
    await Promise.all(
      Array.from({ length: 16 }, (_, w) =>
        (async () => {
          for (let i = 0; i < 25; i++) {
            await t.prisma.transaction(async (tx) => {
              await audit.record(tx, ctx(), { action: 'test.concurrent', subjectType: 'writer', subjectId: String(w), detail: { i } });
              await audit.record(tx, ctx(), { action: 'test.concurrent_second', subjectType: 'writer', subjectId: String(w), detail: { i } });
            });
          }
        })(),
      ),
    );
    expect(await t.prisma.auditEvent.count()).toBe(before + 16 * 25 * 2);
    const result = await audit.verify();
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true, checked: before + 800 });
    const seqs = (await t.prisma.auditEvent.findMany({ select: { seq: true }, orderBy: { seq: 'asc' } })).map((r) => Number(r.seq));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("seals each business transaction's rows before transaction() returns while two instances seal at once", async () => {
    const second = await startTestApp({
      db: t.db,
      clock: t.clock,
      env: { SECRET_HASH_KEY: t.config.secretHashKey.toString('base64'), MASTER_KEY: t.config.masterKey.toString('base64') },
    });
    try {
      const instances = [t, second];
      const unsealedOnReturn: string[] = [];
      await Promise.all(
        Array.from({ length: 16 }, (_, w) =>
          (async () => {
            const app = instances[w % 2];
            const a = app.app.get(AuditService);
            for (let i = 0; i < 15; i++) {
              const id = await app.prisma.transaction((tx) =>
                a.record(tx, ctx(), { action: 'test.two_instances', subjectType: 'writer', subjectId: String(w), detail: { i } }),
              );
              const row = await app.prisma.auditEvent.findUniqueOrThrow({ where: { id } });
              if (row.seq === null) unsealedOnReturn.push(id);
            }
          })(),
        ),
      );
      expect(unsealedOnReturn).toEqual([]);
      expect(await t.prisma.auditEvent.count({ where: { action: 'test.two_instances', seq: { not: null } } })).toBe(16 * 15);
      for (const a of [audit, second.app.get(AuditService)]) expect(await a.verify()).toMatchObject({ ok: true });
    } finally {
      await second.close();
    }
  });

  it('never stores secret-looking detail fields', async () => {
    const id = await t.prisma.transaction((tx) =>
      audit.record(tx, ctx(), {
        action: 'test.scrubbed',
        subjectType: 'thing',
        detail: { clientSecret: 'cs_live_abc', nested: { password: 'hunter2', otp: '1234567' }, kept: 'yes' },
      }),
    );
    const row = await t.prisma.auditEvent.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(row.detail)).not.toMatch(/cs_live_abc|hunter2|1234567/);
    expect(row.detail).toMatchObject({ kept: 'yes' });
  });
});

describe('the audit table is append-only', () => {
  /** Runs `sql` as the superuser, on a table with at least one sealed row. */
  async function asSuperuser(sql: string) {
    await recordedEvent(t);
    const admin = await t.db.admin();
    onTestFinished(() => admin.end());
    return admin.query(sql);
  }

  it('refuses UPDATE, even to the superuser', async () => {
    await expect(asSuperuser(`UPDATE audit_event SET action = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only/);
  });

  it('refuses DELETE, even to the superuser', async () => {
    await expect(asSuperuser(`DELETE FROM audit_event WHERE seq = 1`)).rejects.toThrow(/append-only/);
  });

  it('refuses TRUNCATE, even to the superuser', async () => {
    await expect(asSuperuser(`TRUNCATE audit_event`)).rejects.toThrow(/append-only/);
  });

  it('refuses a row inserted already sealed: only the database seals', async () => {
    await expect(
      asSuperuser(`INSERT INTO audit_event (id, actor_type, action, subject_type, hash) VALUES (gen_random_uuid(), 'system', 'x', 'y', repeat('a', 64))`),
    ).rejects.toThrow(/sealed by the database/);
  });

  it('refuses deleting the chain head, which only moves forward', async () => {
    await expect(asSuperuser(`DELETE FROM audit_chain_head`)).rejects.toThrow(/forward/);
  });
});

describe('audit verification after tampering', () => {
  it('detects a row edited by a superuser with the triggers disabled', async () => {
    await recordedEvent(t);
    const before = await audit.verify();
    expect(before.ok, JSON.stringify(before)).toBe(true);
    const admin = await t.db.admin();
    const original = (await admin.query(`SELECT detail::text AS detail FROM audit_event WHERE seq = 1`)).rows[0].detail as string;
    onTestFinished(async () => {
      // Undo the forgery so the chain is valid again for the other tests of this file.
      await admin.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
      await admin.query(`UPDATE audit_event SET detail = $1::jsonb WHERE seq = 1`, [original]);
      await admin.query(`ALTER TABLE audit_event ENABLE TRIGGER USER`);
      await admin.end();
    });
    await admin.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
    await admin.query(`UPDATE audit_event SET detail = '{"from":"a","to":"forged"}' WHERE seq = 1`);
    await admin.query(`ALTER TABLE audit_event ENABLE TRIGGER USER`);
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: '1', reason: expect.stringMatching(/content/) });
  });

  it('detects the newest row removed, through the chain head', async () => {
    await recordedEvent(t);
    const newest = await newestRow(t);
    onTestFinished(() => restoreRow(t, newest));
    await asSuperuserWithoutTriggers(t, `DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)`);
    expect((await audit.verify()).ok).toBe(false);
  });

  it('verifies again once a tampered row is put back as it was', async () => {
    await recordedEvent(t);
    const newest = await newestRow(t);
    await asSuperuserWithoutTriggers(t, `DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)`);
    await restoreRow(t, newest);
    expect((await audit.verify()).ok).toBe(true);
  });
});

describe('audit query API', () => {
  it('needs a staff session', async () => {
    const anonymous = await t.inject({ method: 'GET', url: '/api/audit-events' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'auth/signin_required', correlationId: expect.any(String) });
  });

  it("pages one subject's events newest first with a cursor", async () => {
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const { subjectId } = await pagedSubject(t);
    const page1 = await t.inject({ method: 'GET', url: `/api/audit-events?subjectType=paged&subjectId=${subjectId}&limit=3`, headers: viewer.headers });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json();
    expect(body1.events.map((e: { detail: { i: number } }) => e.detail.i)).toEqual([4, 3, 2]);
    const page2 = await t.inject({
      method: 'GET',
      url: `/api/audit-events?subjectType=paged&subjectId=${subjectId}&limit=3&before=${body1.nextBefore}`,
      headers: viewer.headers,
    });
    expect(page2.json().events.map((e: { detail: { i: number } }) => e.detail.i)).toEqual([1, 0]);
  });

  it('filters by correlation id', async () => {
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const { correlationId } = await pagedSubject(t);
    const byCorrelation = await t.inject({ method: 'GET', url: `/api/audit-events?correlationId=${correlationId}`, headers: viewer.headers });
    expect(byCorrelation.json().events).toHaveLength(5);
  });

  it('names every bad query field', async () => {
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const bad = await t.inject({ method: 'GET', url: '/api/audit-events?limit=5000&from=yesterday&bogus=1', headers: viewer.headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'request/validation_failed',
      details: { fields: expect.objectContaining({ limit: expect.any(Array), from: expect.any(Array), bogus: expect.any(Array) }) },
    });
  });

  // ISO 8601 forms that JavaScript's Date cannot read (week and ordinal dates, the basic format) are bad input too.
  it.each(['2026-W01', '2026-W01-1', '2026-123', '20260101'])('refuses the date %s that Date cannot read', async (from) => {
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const odd = await t.inject({ method: 'GET', url: `/api/audit-events?from=${from}&to=${from}`, headers: viewer.headers });
    expect(odd.statusCode, `${from}: ${odd.body}`).toBe(400);
    expect(odd.json()).toMatchObject({
      code: 'request/validation_failed',
      details: { fields: expect.objectContaining({ from: expect.any(Array), to: expect.any(Array) }) },
    });
  });

  it('keeps verification from viewers', async () => {
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const verifyAsViewer = await t.inject({ method: 'GET', url: '/api/audit-events/verify', headers: viewer.headers });
    expect(verifyAsViewer.statusCode).toBe(403);
  });
});
