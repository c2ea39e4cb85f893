import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditService } from '../../src/audit/audit.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createStaffWithSession } from '../support/factories.js';
import { FakeSmtp } from '../support/fake-smtp.js';
import { NotificationsService } from '../../src/notifications/notifications.service.js';
import { basic, FORM_HEADERS, issueCredential } from '../support/credentials.helpers.js';
import { ensureBuilt, jsonLogs, sharedKeys, startInstance, type Instance } from '../support/instances.js';

/**
 * Two real processes of the built service (`node main.js`, see instances.ts) on one PostgreSQL, started at the same moment on
 * an EMPTY database, with the job workers on.
 */
const migrationFolders = readdirSync(resolve(import.meta.dirname, '../../prisma/migrations'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(resolve(import.meta.dirname, '../../prisma/migrations'), d.name, 'migration.sql')))
  .map((d) => d.name)
  .sort();

let db: TestDatabase;
let a: Instance;
let b: Instance;
let helper: TestApp | undefined;
let smtp: FakeSmtp;
const keys = sharedKeys();

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase({ empty: true });
  smtp = await FakeSmtp.start();
  const env = { DATABASE_URL: db.url, SMTP_URL: smtp.url, ...keys };
  [a, b] = await Promise.all([startInstance('instance-a', env), startInstance('instance-b', env)]);
}, 240_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  if (helper) {
    const verify = await helper.app.get(AuditService).verify();
    process.stdout.write(`[proof] two instances: audit chain after the suite: ${JSON.stringify({ ok: verify.ok, checked: verify.checked })}\n`);
    await helper.close();
    expect(verify.ok).toBe(true);
  }
  await db?.drop();
  await smtp?.stop();
}, 60_000);

/** An in-process app on the same database and keys: a third member of the deployment, used to make sessions. */
async function helperApp(): Promise<TestApp> {
  helper ??= await startTestApp({ db, env: keys });
  return helper;
}

describe('two instances on one PostgreSQL', () => {
  it('applies each migration exactly once when both start together on an empty database', async () => {
    const admin = await db.admin();
    try {
      const rows = (
        await admin.query<{ migration_name: string; finished_at: Date | null; n: number }>(
          `SELECT migration_name, max(finished_at) AS finished_at, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name ORDER BY migration_name`,
        )
      ).rows;
      const appliedBy = [a, b].map((inst) => {
        const line = jsonLogs(inst).find((l) => l.msg === 'migrations up to date');
        return { name: inst.name, applied: (line?.applied as string[] | undefined)?.length ?? -1, alreadyApplied: line?.alreadyApplied };
      });
      const duplicates = rows.filter((r) => r.n !== 1).length;
      process.stdout.write(
        `[proof] two instances: ${migrationFolders.length} migration folders, ${rows.length} rows in _prisma_migrations, ${duplicates} applied twice; ` +
          `by instance ${JSON.stringify(appliedBy)}\n`,
      );
      expect(rows.map((r) => r.migration_name)).toEqual(migrationFolders);
      expect(rows.every((r) => r.n === 1 && r.finished_at)).toBe(true);
      expect(appliedBy.reduce((s, x) => s + x.applied, 0)).toBe(migrationFolders.length);
      expect(appliedBy.map((x) => x.applied).sort((x, y) => x - y)).toEqual([0, migrationFolders.length]);
    } finally {
      await admin.end();
    }
  });

  it('accepts a staff session (and its CSRF token) on both instances', async () => {
    const h = await helperApp();
    const viewer = await createStaffWithSession(h, { role: 'viewer' });
    for (const inst of [a, b]) {
      const res = await fetch(`${inst.baseUrl}/api/audit-events?limit=1`, { headers: viewer.headers });
      expect(res.status, inst.name).toBe(200);
    }
    const anonymous = await fetch(`${b.baseUrl}/api/audit-events?limit=1`);
    expect(anonymous.status).toBe(401);
  });

  it('refuses a secret on instance B within 1 s of its revocation on instance A', async () => {
    const h = await helperApp();
    const cred = await issueCredential(h);
    const tokenAt = (inst: Instance) =>
      fetch(`${inst.baseUrl}/oauth/acceptance/token`, {
        method: 'POST',
        headers: { ...FORM_HEADERS, authorization: basic(cred.clientId, cred.secret) },
        body: 'grant_type=client_credentials',
      });
    // Both instances have seen (and cached) the client.
    for (const inst of [a, b]) expect((await tokenAt(inst)).status, inst.name).toBe(200);
    const reviewer = await createStaffWithSession(h, { role: 'reviewer' });
    const revoked = await fetch(`${a.baseUrl}/api/credentials/${cred.credentialId}/revoke`, {
      method: 'POST',
      headers: { ...reviewer.headers, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ reason: 'two-instance proof' }),
    });
    expect(revoked.status, await revoked.text()).toBeLessThan(300);
    const revokedAt = Date.now();
    let refusedAfterMs = -1;
    while (Date.now() - revokedAt < 5_000) {
      const res = await tokenAt(b);
      if (res.status === 401) {
        refusedAfterMs = Date.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    process.stdout.write(`[proof] two instances: secret revoked on instance A was refused by instance B after ${refusedAfterMs} ms (limit 1000 ms)\n`);
    expect(refusedAfterMs).toBeGreaterThanOrEqual(0);
    expect(refusedAfterMs).toBeLessThan(1000);
    expect((await tokenAt(a)).status).toBe(401);
  });

  it('sends each queued email exactly once with the workers of both instances running', async () => {
    const h = await helperApp();
    const notifications = h.app.get(NotificationsService);
    const count = 30;
    const before = smtp.messages.length;
    for (let i = 0; i < count; i++) {
      await h.prisma.transaction((tx) =>
        notifications.enqueueEmail(tx, {
          to: `once-${i}@partner.example`,
          template: 'onboarding-received',
          language: 'en',
          data: { reference: `OB-ONCE-${i}`, partnerName: 'Once B.V.', contactName: 'Jan', items: [], statusUrl: 'http://127.0.0.1/requests/x' },
          idempotencyKey: `proof:once:${i}`,
        }),
      );
    }
    const deadline = Date.now() + 45_000;
    while (smtp.messages.length - before < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (smtp.messages.length - before < count) {
      const notes = [a, b].flatMap((inst) =>
        inst.logs
          .filter((l) => /notification|email|boss|job/i.test(l))
          .slice(-5)
          .map((l) => `${inst.name}: ${l.slice(0, 300)}`),
      );
      process.stdout.write(
        `[proof] two instances: only ${smtp.messages.length - before} of ${count} emails arrived; last worker lines:\n  ${notes.join('\n  ')}\n`,
      );
    }
    await new Promise((r) => setTimeout(r, 2_000)); // room for a duplicate to show up
    const received = smtp.messages.slice(before).flatMap((m) => m.to);
    const perAddress = new Map<string, number>();
    for (const to of received) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    const duplicates = [...perAddress.values()].filter((n) => n > 1).length;
    const rows = await h.prisma.notification.groupBy({ by: ['status'], where: { idempotencyKey: { startsWith: 'proof:once:' } }, _count: true });
    process.stdout.write(
      `[proof] two instances: ${count} emails queued, ${perAddress.size} distinct delivered, ${received.length} deliveries, ${duplicates} duplicates, ` +
        `${count - perAddress.size} lost; notification rows by status ${JSON.stringify(rows.map((r) => [r.status, r._count]))}\n`,
    );
    expect(perAddress.size).toBe(count);
    expect(duplicates).toBe(0);
  }, 90_000);

  it('runs a minutely pg-boss schedule once per minute between them, not once per instance', async () => {
    const admin = await db.admin();
    const count = async () =>
      (
        await admin.query<{ jobs: number; done: number; slots: number }>(
          `SELECT (SELECT count(*) FROM pgboss.job WHERE name = $1)::int AS jobs,
                  (SELECT count(*) FROM pgboss.job WHERE name = $1 AND state = 'completed')::int AS done,
                  (SELECT count(DISTINCT data->>'slot') FROM pgboss.job
                    WHERE name = '__pgboss__send-it' AND data->>'name' = $1 AND state IN ('active', 'completed'))::int AS slots`,
          ['oauth-token-failure-summary'],
        )
      ).rows[0];
    try {
      const deadline = Date.now() + 150_000;
      let n = await count();
      while (n.done < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2000));
        n = await count();
      }
      // Both instances run the cron pass and a worker; each minute's occurrence must still become one job.
      process.stdout.write(`[proof] two instances: token failure summary ${JSON.stringify(n)} (jobs, completed, minute slots)\n`);
      expect(n.done).toBeGreaterThanOrEqual(2);
      expect(n.jobs).toBe(n.slots);
    } finally {
      await admin.end();
    }
  }, 180_000);
});
