import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service.js';
import { systemContext, type RequestContext } from '../src/common/request-context.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';

let t: TestApp;
let audit: AuditService;

beforeAll(async () => {
  t = await startTestApp();
  audit = t.app.get(AuditService);
});
afterAll(() => t.close());

const ctx = (over: Partial<RequestContext> = {}): RequestContext => ({ ...systemContext(), ...over });

describe('audit trail', () => {
  it('records inside the caller transaction and seals the row into the chain at commit', async () => {
    const c = ctx({ actor: { type: 'staff', id: randomUUID() }, clientIp: '203.0.113.7' });
    const id = await t.prisma.transaction((tx) =>
      audit.record(tx, c, { action: 'test.recorded', subjectType: 'thing', subjectId: 'x1', environment: 'acceptance', detail: { from: 'a', to: 'b' } }),
    );
    const row = await t.prisma.auditEvent.findUniqueOrThrow({ where: { id } });
    expect(row.seq).not.toBeNull();
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.correlationId).toBe(c.correlationId);
    expect(row.clientIp).toBe('203.0.113.7');
    expect(row.actorType).toBe('staff');
    expect((await audit.verify()).ok).toBe(true);
  });

  it('appends an event that is its own transaction, sealed and scrubbed like any other', async () => {
    const id = await audit.append(ctx(), { action: 'test.appended_alone', subjectType: 'thing', detail: { token: 'tok_live_123', kept: 1 } });
    await audit.sealPending();
    const row = await t.prisma.auditEvent.findUniqueOrThrow({ where: { id } });
    expect(row.seq).not.toBeNull();
    expect(JSON.stringify(row.detail)).not.toContain('tok_live_123');
    expect((await audit.verify()).ok).toBe(true);
  });

  it('rolls the business change back when the audit row cannot be written (fail-closed)', async () => {
    const admin = await t.db.admin();
    await admin.query(`CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.action = 'test.unwritable' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER a_fail_audit BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION fail_audit();`);
    const partnerId = randomUUID();
    await expect(
      t.prisma.transaction(async (tx) => {
        await tx.partner.create({ data: { id: partnerId, legalName: 'Rollback BV', registrationNumber: '123', country: 'NL' } });
        await audit.record(tx, ctx(), { action: 'test.unwritable', subjectType: 'partner', subjectId: partnerId });
      }),
    ).rejects.toThrow();
    expect(await t.prisma.partner.findUnique({ where: { id: partnerId } })).toBeNull();
    await admin.query('DROP TRIGGER a_fail_audit ON audit_event; DROP FUNCTION fail_audit();');
    await admin.end();
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

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const admin = await t.db.admin();
    await expect(admin.query(`UPDATE audit_event SET action = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(admin.query(`DELETE FROM audit_event WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(admin.query(`TRUNCATE audit_event`)).rejects.toThrow(/append-only/);
    await expect(
      admin.query(`INSERT INTO audit_event (id, actor_type, action, subject_type, hash) VALUES (gen_random_uuid(), 'system', 'x', 'y', repeat('a', 64))`),
    ).rejects.toThrow(/sealed by the database/);
    await expect(admin.query(`DELETE FROM audit_chain_head`)).rejects.toThrow(/forward/);
    await admin.end();
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

  it('detects a row edited by a superuser with the triggers disabled', async () => {
    const before = await audit.verify();
    expect(before.ok, JSON.stringify(before)).toBe(true);
    const admin = await t.db.admin();
    const original = (await admin.query(`SELECT detail::text AS detail FROM audit_event WHERE seq = 1`)).rows[0].detail as string;
    await admin.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
    await admin.query(`UPDATE audit_event SET detail = '{"from":"a","to":"forged"}' WHERE seq = 1`);
    await admin.query(`ALTER TABLE audit_event ENABLE TRIGGER USER`);
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: '1', reason: expect.stringMatching(/content/) });
    // Undo the forgery so later tests see a valid chain again.
    await admin.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
    await admin.query(`UPDATE audit_event SET detail = $1::jsonb WHERE seq = 1`, [original]);
    await admin.query(`ALTER TABLE audit_event ENABLE TRIGGER USER`);
    expect((await audit.verify()).ok).toBe(true);
    // Removing the newest row is caught through the chain head.
    await admin.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`);
    await admin.query(`DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)`);
    await admin.query(`ALTER TABLE audit_event ENABLE TRIGGER USER`);
    expect((await audit.verify()).ok).toBe(false);
    await admin.end();
  });
});

describe('audit query API', () => {
  it('needs a staff session and filters by subject, action and correlation id, newest first, with a cursor', async () => {
    const anonymous = await t.inject({ method: 'GET', url: '/api/audit-events' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'auth/signin_required', correlationId: expect.any(String) });

    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    const subjectId = randomUUID();
    const c = ctx();
    for (let i = 0; i < 5; i++) {
      await t.prisma.transaction((tx) => audit.record(tx, c, { action: 'test.paged', subjectType: 'paged', subjectId, detail: { i } }));
    }
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
    const byCorrelation = await t.inject({ method: 'GET', url: `/api/audit-events?correlationId=${c.correlationId}`, headers: viewer.headers });
    expect(byCorrelation.json().events).toHaveLength(5);

    const bad = await t.inject({ method: 'GET', url: '/api/audit-events?limit=5000&from=yesterday&bogus=1', headers: viewer.headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'request/validation_failed',
      details: { fields: expect.objectContaining({ limit: expect.any(Array), from: expect.any(Array), bogus: expect.any(Array) }) },
    });

    // ISO 8601 forms that JavaScript's Date cannot read (week and ordinal dates, the basic format) are bad input too.
    for (const from of ['2026-W01', '2026-W01-1', '2026-123', '20260101']) {
      const odd = await t.inject({ method: 'GET', url: `/api/audit-events?from=${from}&to=${from}`, headers: viewer.headers });
      expect(odd.statusCode, `${from}: ${odd.body}`).toBe(400);
      expect(odd.json()).toMatchObject({
        code: 'request/validation_failed',
        details: { fields: expect.objectContaining({ from: expect.any(Array), to: expect.any(Array) }) },
      });
    }

    const verifyAsViewer = await t.inject({ method: 'GET', url: '/api/audit-events/verify', headers: viewer.headers });
    expect(verifyAsViewer.statusCode).toBe(403);
  });
});
