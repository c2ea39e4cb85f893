import { describe, expect, it, onTestFinished } from 'vitest';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { chainMac, GENESIS } from '../src/audit/audit-chain.js';
import { AuditSealer } from '../src/audit/audit.sealer.js';
import { AuditService } from '../src/audit/audit.service.js';
import { systemContext, type RequestContext } from '../src/common/request-context.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';

const staff = (id: string): RequestContext => ({ ...systemContext(), actor: { type: 'staff', id } });

/** An app on a database of its own, closed after the test; the login roles made for it are dropped with it. */
async function tamperApp() {
  const t = await startTestApp();
  const roles: string[] = [];
  onTestFinished(async () => {
    await t.close();
    const server = new URL(t.db.url);
    server.pathname = '/postgres';
    for (const name of roles) {
      const c = new pg.Client({ connectionString: server.toString() });
      await c.connect();
      await c.query(`DROP ROLE IF EXISTS "${name}"`);
      await c.end();
    }
  });
  return { t, roles, audit: t.app.get(AuditService) };
}

/** An app with a short history: a request approved by `approver`, then more events after it. */
async function appWithHistory() {
  const sandbox = await tamperApp();
  const { t, audit } = sandbox;
  const approver = randomUUID();
  const requestId = randomUUID();
  const record = (ctx: RequestContext, action: string, detail: Record<string, unknown> = {}) =>
    t.prisma.transaction((tx) => audit.record(tx, ctx, { action, subjectType: 'onboarding_request', subjectId: requestId, environment: 'production', detail }));
  await record(staff(randomUUID()), 'onboarding.submitted');
  await record(staff(approver), 'onboarding.approved', { environment: 'production' });
  for (let i = 0; i < 6; i++) await record(systemContext(), 'test.later', { i });
  const approvedSeq = (await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'onboarding.approved', subjectId: requestId } })).seq!;
  return { ...sandbox, approver, requestId, approvedSeq, record };
}

/** A role that can log in (trust auth), dropped after the test with the app. */
async function loginRole(sandbox: { t: TestApp; roles: string[] }, name: string, extra = ''): Promise<pg.Client> {
  const { t } = sandbox;
  const admin = await t.db.admin();
  await admin.query(`CREATE ROLE "${name}" LOGIN NOSUPERUSER ${extra}`);
  await admin.end();
  sandbox.roles.push(name);
  const u = new URL(t.db.url);
  u.username = name;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  return c;
}

/**
 * The rewrite of the security review: change who approved the request, then recompute every link from that
 * row on with `link` and move the head onto the new last link.
 */
async function rewriteApproval(
  c: pg.Client,
  requestId: string,
  forgedApprover: string,
  link: (prev: string, row: { seq: string; canonical: string; body: string }) => string,
) {
  await c.query(`UPDATE audit_event SET actor_id = $1 WHERE action = 'onboarding.approved' AND subject_id = $2`, [forgedApprover, requestId]);
  const from = (await c.query(`SELECT seq::text AS seq FROM audit_event WHERE action = 'onboarding.approved' AND subject_id = $1`, [requestId])).rows[0]
    .seq as string;
  const rows = (
    await c.query(
      `
    SELECT e.seq::text AS seq, e.id::text AS id, audit_event_canonical(e, e.seq) AS canonical,
      jsonb_build_array(e.id::text, (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text, e.actor_type::text, e.actor_id,
        e.action, e.subject_type, e.subject_id, e.environment::text, e.correlation_id, e.client_ip, e.detail)::text AS body
    FROM audit_event e WHERE e.seq >= $1 ORDER BY e.seq`,
      [from],
    )
  ).rows as Array<{ seq: string; id: string; canonical: string; body: string }>;
  let prev = ((await c.query(`SELECT hash FROM audit_event WHERE seq = $1::bigint - 1`, [from])).rows[0]?.hash as string | undefined) ?? GENESIS;
  for (const row of rows) {
    const hash = link(prev, row);
    await c.query(`UPDATE audit_event SET prev_hash = $1, hash = $2 WHERE id = $3`, [prev, hash, row.id]);
    prev = hash;
  }
  await c.query(`UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1`, [rows[rows.length - 1].seq, prev]);
}

const unkeyed = (prev: string, row: { canonical: string }) =>
  createHash('sha256')
    .update(prev + row.canonical, 'utf8')
    .digest('hex');

describe('the audit trail against an insider', () => {
  it("detects the rewrite (edit the approver, recompute every hash, move the head) by the tables' non-superuser owner", async () => {
    const sandbox = await appWithHistory();
    const { t, audit, requestId, approvedSeq } = sandbox;
    expect((await audit.verify()).ok).toBe(true);
    const ownerName = `audit_owner_${randomBytes(4).toString('hex')}`;
    const owner = await loginRole(sandbox, ownerName);
    const admin = await t.db.admin();
    await admin.query(`ALTER TABLE audit_event OWNER TO "${ownerName}"; ALTER TABLE audit_chain_head OWNER TO "${ownerName}"`);
    await admin.end();

    await owner.query(`ALTER TABLE audit_event DISABLE TRIGGER USER; ALTER TABLE audit_chain_head DISABLE TRIGGER USER`);
    await rewriteApproval(owner, requestId, randomUUID(), unkeyed);
    await owner.query(`ALTER TABLE audit_event ENABLE TRIGGER USER; ALTER TABLE audit_chain_head ENABLE TRIGGER USER`);
    await owner.end();

    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: String(approvedSeq), reason: expect.stringMatching(/MAC/) });
    const admin2 = await createStaffWithSession(t, { role: 'admin' });
    const api = await t.inject({ method: 'GET', url: '/api/audit-events/verify', headers: admin2.headers });
    expect(api.json()).toMatchObject({ ok: false, firstBroken: { seq: String(approvedSeq) } });
  });

  it('detects the same rewrite by a superuser with the triggers off', async () => {
    const { t, audit, requestId, approvedSeq, record } = await appWithHistory();
    await audit.checkpoint();
    await record(systemContext(), 'test.after_checkpoint');
    const admin = await t.db.admin();
    await admin.query(`SET session_replication_role = replica`);
    await rewriteApproval(admin, requestId, randomUUID(), unkeyed);
    await admin.end();
    const guessed = await audit.verify();
    expect(guessed).toMatchObject({ ok: false, firstBroken: { seq: String(approvedSeq), reason: expect.stringMatching(/MAC/) } });
  });

  it('catches the rewrite through the signed checkpoint when the chain key itself leaked', async () => {
    const { t, audit, requestId, record } = await appWithHistory();
    const checkpoint = await audit.checkpoint();
    await record(systemContext(), 'test.after_checkpoint');
    const admin = await t.db.admin();
    await admin.query(`SET session_replication_role = replica`);
    // A copy of the configuration leaked: the recomputed MACs verify, the checkpoint does not.
    await rewriteApproval(admin, requestId, randomUUID(), (prev, row) => chainMac(t.config.audit.chainKey, prev, BigInt(row.seq), row.body));
    await admin.end();
    expect((await audit.verify({ checkpointPaths: [] })).ok).toBe(true);
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({
      seq: checkpoint.seq,
      reason: expect.stringMatching(new RegExp(`checkpoint signed at ${checkpoint.signedAt}.*after seq 0`)),
    });
  });

  it('catches, through the signed checkpoint, a rewrite that moves keyed_from past the head and relinks every row with the unkeyed hash', async () => {
    const { t, audit, requestId } = await appWithHistory();
    const checkpoint = await audit.checkpoint();
    const admin = await t.db.admin();
    await admin.query(`SET session_replication_role = replica`);
    await admin.query(`UPDATE audit_event SET actor_id = $1 WHERE action = 'onboarding.approved' AND subject_id = $2`, [randomUUID(), requestId]);
    const rows = (
      await admin.query(
        `SELECT e.id::text AS id, e.seq::text AS seq, audit_event_canonical(e, e.seq) AS canonical FROM audit_event e WHERE e.seq IS NOT NULL ORDER BY e.seq`,
      )
    ).rows as Array<{ id: string; seq: string; canonical: string }>;
    let prev = GENESIS;
    for (const row of rows) {
      const hash = unkeyed(prev, row);
      await admin.query(`UPDATE audit_event SET prev_hash = $1, hash = $2 WHERE id = $3`, [prev, hash, row.id]);
      prev = hash;
    }
    const last = rows[rows.length - 1].seq;
    await admin.query(`UPDATE audit_chain_head SET seq = $1, hash = $2, keyed_from = $1::bigint + 1 WHERE id = 1`, [last, prev]);
    await admin.end();

    // The chain alone cannot tell this from a trail sealed before the chain was keyed: only a checkpoint can.
    expect(await audit.verify({ checkpointPaths: [] })).toMatchObject({ ok: true, keyedFrom: String(BigInt(last) + 1n) });
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken?.reason).toMatch(
      new RegExp(`keyed_from \\(${BigInt(last) + 1n}\\) differs from the checkpoint signed at ${checkpoint.signedAt} \\(${checkpoint.keyedFrom}\\)`),
    );
  });

  it("refuses the rewrite to the app's role outright: it may insert, read and seal, nothing else", async () => {
    const sandbox = await appWithHistory();
    const { t, audit, requestId } = sandbox;
    const app = await loginRole(sandbox, `audit_app_${randomBytes(4).toString('hex')}`, 'IN ROLE credentials_app');
    await expect(app.query(`ALTER TABLE audit_event DISABLE TRIGGER USER`)).rejects.toThrow(/must be owner/);
    await expect(app.query(`UPDATE audit_event SET actor_id = 'x' WHERE subject_id = $1`, [requestId])).rejects.toThrow(/permission denied/);
    await expect(app.query(`UPDATE audit_chain_head SET seq = 1`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`DELETE FROM audit_event`)).rejects.toThrow(/permission denied/);
    const head = (await app.query(`SELECT seq::text, hash FROM audit_chain_head`)).rows[0];
    const sealedId = (await app.query(`SELECT id::text FROM audit_event WHERE seq = 1`)).rows[0].id;
    await expect(app.query(`SELECT audit_seal($1::bigint, $2, ARRAY[$3::uuid], ARRAY[$4])`, [head.seq, head.hash, sealedId, 'f'.repeat(64)])).rejects.toThrow(
      /not unsealed/,
    );
    // What the service does with that role works: insert, then seal with the MAC.
    const id = randomUUID();
    await app.query(`INSERT INTO audit_event (id, actor_type, action, subject_type) VALUES ($1, 'system', 'test.as_app', 'thing')`, [id]);
    await audit.sealPending();
    await app.end();
    expect((await t.prisma.auditEvent.findUniqueOrThrow({ where: { id } })).seq).not.toBeNull();
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('detects rows cut off after a checkpoint, which the chain alone cannot see', async () => {
    const { t, audit } = await appWithHistory();
    const checkpoint = await audit.checkpoint();
    const keep = BigInt(checkpoint.seq) - 3n;
    const admin = await t.db.admin();
    await admin.query(`SET session_replication_role = replica`);
    await admin.query(`DELETE FROM audit_event WHERE seq > $1`, [keep]);
    await admin.query(`UPDATE audit_chain_head SET seq = $1, hash = (SELECT hash FROM audit_event WHERE seq = $1) WHERE id = 1`, [keep]);
    await admin.end();

    expect((await audit.verify({ checkpointPaths: [] })).ok).toBe(true);
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({
      seq: String(keep + 1n),
      reason: `truncated: the checkpoint signed at ${checkpoint.signedAt} covers seq ${checkpoint.seq}, the chain ends at seq ${keep}`,
    });
  });

  /** Sealing has stopped: a row committed six minutes ago and one just now are both still unsealed. */
  async function sealingStopped() {
    const sandbox = await appWithHistory();
    const { t } = sandbox;
    await t.app.get(AuditSealer).onModuleDestroy(); // no sweep: sealing has stopped
    const admin = await t.db.admin();
    await admin.query(`SET session_replication_role = replica`);
    await admin.query(
      `INSERT INTO audit_event (id, actor_type, action, subject_type, occurred_at) VALUES (gen_random_uuid(), 'system', 'test.never_sealed', 'thing', ` +
        `now() - interval '6 minutes')`,
    );
    await admin.query(`INSERT INTO audit_event (id, actor_type, action, subject_type) VALUES (gen_random_uuid(), 'system', 'test.just_committed', 'thing')`);
    await admin.end();
    return sandbox;
  }

  it('is not ok while a row committed minutes ago is still unsealed (sealing failing)', async () => {
    const { audit } = await sealingStopped();
    const result = await audit.verify();
    expect(result).toMatchObject({
      ok: false,
      unsealed: { count: 2, stale: 1 },
      firstBroken: { reason: expect.stringMatching(/1 committed rows are still unsealed after 5 minutes/) },
    });
  });

  it('is ok again once the unsealed rows are sealed', async () => {
    const { audit } = await sealingStopped();
    await audit.sealPending();
    expect(await audit.verify()).toMatchObject({ ok: true, unsealed: { count: 0, stale: 0 } });
  });

  it('names a checkpoint file that does not carry a valid signature', async () => {
    const { t, audit } = await appWithHistory();
    const c = await audit.checkpoint();
    const dir = t.config.audit.checkpointDir;
    const forged = { ...JSON.parse(readFileSync(join(dir, c.file), 'utf8')), seq: '1' };
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.checkpoints.rejected).toEqual([{ file: join(dir, 'forged.json'), reason: 'the signature does not verify' }]);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it("keeps the head and occurred_at out of writers' hands even with the triggers on", async () => {
    const { t } = await appWithHistory();
    const admin = await t.db.admin();
    await expect(admin.query(`UPDATE audit_chain_head SET seq = seq - 1`)).rejects.toThrow(/only move forward through the seal/);
    await expect(admin.query(`UPDATE audit_chain_head SET hash = repeat('a', 64)`)).rejects.toThrow(/only move forward through the seal/);
    await expect(
      admin.query(
        `INSERT INTO audit_event (id, actor_type, action, subject_type, occurred_at) VALUES (gen_random_uuid(), 'system', 'x', 'y', now() - interval '1 day')`,
      ),
    ).rejects.toThrow(/database clock/);
    await admin.end();
  });
});

describe('an audit trail sealed before the chain was keyed', () => {
  it('verifies the unkeyed rows as they were sealed, links the first keyed row to them, and still catches an edit', async () => {
    const { t, audit } = await tamperApp();
    const admin = await t.db.admin();
    // The trail as the previous version left it: three rows sealed by its trigger, keyed_from after them.
    await admin.query(`SET session_replication_role = replica`);
    await admin.query(`DELETE FROM audit_event; UPDATE audit_chain_head SET seq = 0, hash = repeat('0', 64)`);
    await admin.query(`
      DO $$ DECLARE prev CHAR(64) := repeat('0', 64); r audit_event; h CHAR(64); BEGIN
        FOR i IN 1..3 LOOP
          INSERT INTO audit_event (id, actor_type, action, subject_type, detail)
            VALUES (gen_random_uuid(), 'system', 'legacy.event', 'thing', jsonb_build_object('i', i)) RETURNING * INTO r;
          h := encode(sha256(convert_to(prev || audit_event_canonical(r, i), 'UTF8')), 'hex');
          UPDATE audit_event SET seq = i, prev_hash = prev, hash = h WHERE id = r.id;
          prev := h;
        END LOOP;
        UPDATE audit_chain_head SET seq = 3, hash = prev, keyed_from = 4 WHERE id = 1;
      END $$`);
    await admin.query(`SET session_replication_role = DEFAULT`);
    for (let i = 0; i < 3; i++) await t.prisma.transaction((tx) => audit.record(tx, systemContext(), { action: 'test.keyed', subjectType: 'thing' }));
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 6, keyedFrom: '4' });
    await admin.query(`SET session_replication_role = replica`);
    await admin.query(`UPDATE audit_event SET detail = '{"i":99}' WHERE seq = 2`);
    await admin.end();
    expect(await audit.verify()).toMatchObject({ ok: false, firstBroken: { seq: '2', reason: expect.stringMatching(/content/) } });
  });
});

describe('audit verification while writers append', () => {
  it('raises no false alarm with 16 writers appending during every verification', async () => {
    const { t, audit } = await tamperApp();
    let stop = false;
    let appended = 0;
    const writers = Array.from({ length: 16 }, (_, w) =>
      (async () => {
        while (!stop) {
          await t.prisma.transaction((tx) =>
            audit.record(tx, systemContext(), { action: 'test.appended', subjectType: 'writer', subjectId: String(w), detail: { n: appended } }),
          );
          appended++;
        }
      })(),
    );
    const results = [];
    let overlapped = 0;
    try {
      // Until enough verifications ran while the chain grew under them (counted, not timed).
      for (let i = 0; i < 200 && (i < 12 || overlapped < 10 || appended < 300); i++) {
        if (i === 4) await audit.checkpoint();
        const before = appended;
        results.push(await audit.verify());
        if (appended > before) overlapped++;
      }
    } finally {
      stop = true;
    }
    await Promise.all(writers);
    expect(overlapped).toBeGreaterThanOrEqual(10);
    expect(
      results.filter((r) => !r.ok),
      JSON.stringify(results.find((r) => !r.ok)),
    ).toEqual([]);
    expect(results[results.length - 1].checkpoints.matched).toBe(1);
    await audit.sealPending();
    expect(await audit.verify()).toMatchObject({ ok: true, checked: await t.prisma.auditEvent.count() });
  });
});
