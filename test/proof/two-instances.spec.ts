import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditService } from '../../src/audit/audit.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import type { TestDatabase } from '../support/db.js';
import { createStaffWithSession } from '../support/factories.js';
import { createEmptyDatabase, ensureBuilt, jsonLogs, sharedKeys, startInstance, type Instance } from '../support/instances.js';

/**
 * Issue 6 item 4: two real processes (`node dist/main.js`) on one PostgreSQL, started at the same moment on
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
const keys = sharedKeys();

beforeAll(async () => {
  ensureBuilt();
  db = await createEmptyDatabase();
  const env = { DATABASE_URL: db.url, ...keys };
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
      const rows = (await admin.query<{ migration_name: string; finished_at: Date | null; n: number }>(
        `SELECT migration_name, max(finished_at) AS finished_at, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name ORDER BY migration_name`,
      )).rows;
      const appliedBy = [a, b].map((inst) => {
        const line = jsonLogs(inst).find((l) => l.msg === 'migrations up to date');
        return { name: inst.name, applied: (line?.applied as string[] | undefined)?.length ?? -1, alreadyApplied: line?.alreadyApplied };
      });
      const duplicates = rows.filter((r) => r.n !== 1).length;
      process.stdout.write(`[proof] two instances: ${migrationFolders.length} migration folders, ${rows.length} rows in _prisma_migrations, ${duplicates} applied twice; by instance ${JSON.stringify(appliedBy)}\n`);
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
});
