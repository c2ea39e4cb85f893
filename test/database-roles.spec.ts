import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { chainMac } from '../src/audit/audit-chain.js';
import { migrateJobQueueSchema } from '../src/database/job-queue-schema.js';
import { migrationsDir } from '../src/database/resolve-database.js';
import { assertRuntimeDatabase } from '../src/database/runtime-checks.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

/**
 * What the service's group role `credentials_app` may do, table by table. A new table fails the first test
 * until someone decides (and grants, in its migration) what the service needs on it.
 */
const S = 'SELECT';
const SI = 'SELECT, INSERT';
const SIU = 'SELECT, INSERT, UPDATE';
const SIUD = 'SELECT, INSERT, UPDATE, DELETE';
const EXPECTED: Record<string, string> = {
  _prisma_migrations: S,
  audit_event: SI,
  audit_chain_head: S,
  api_product: SIU,
  api_environment: SIU,
  staff_account: SIU,
  staff_session: SIU,
  staff_recovery_code: SIUD,
  staff_pending_login: SIUD,
  staff_login_throttle: SIUD,
  partner: SIU,
  technical_contact: SIU,
  onboarding_request: SIU,
  onboarding_request_item: SIUD,
  onboarding_approval: SIUD,
  intake_rate_limit: SIUD,
  intake_form_token: 'SELECT, INSERT, DELETE',
  credential: SIU,
  credential_secret: SIU,
  credential_rotation: SIU,
  oauth_signing_key: SIU,
  oauth_revoked_token: SIUD,
  oauth_failure_counter: SIUD,
  oauth_token_failure: 'SELECT, INSERT, DELETE',
  token_explain_rate_limit: SIUD,
  notification: SIU,
  delivery: SIU,
  delivery_ip_limit: SIU,
  contact_line_override: SIU,
  delivery_sim_swap_block: SIU,
  secret_leak_report: 'SELECT, INSERT',
  secret_scanning_receipt: 'SELECT, INSERT, DELETE',
  token_request_daily: SIU,
  reviewer_digest: SIU,
};
const PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

let db: TestDatabase;
let admin: pg.Client;
const role = `cos_rt_${randomBytes(4).toString('hex')}`;
let serviceUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await db.admin();
  await admin.query(`CREATE ROLE "${role}" LOGIN IN ROLE credentials_app`);
  const u = new URL(db.url);
  u.username = role;
  serviceUrl = u.toString();
  await migrateJobQueueSchema(db.url);
});

afterAll(async () => {
  await admin?.end();
  await db?.drop();
  const u = new URL(db.url);
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  await c.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
  await c.end();
});

async function asService<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serviceUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('grants of the service role (credentials_app)', () => {
  it('has a decision for every table in public, and exactly those privileges', async () => {
    const tables = (await admin.query<{ name: string }>(`SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map(
      (r) => r.name,
    );
    const undecided = tables.filter((t) => !(t in EXPECTED));
    expect(undecided, 'tables without a grant decision for credentials_app: grant in their migration and add them to EXPECTED').toEqual([]);
    const actual: Record<string, string> = {};
    for (const t of tables) {
      const held = [];
      for (const p of PRIVILEGES)
        if ((await admin.query<{ ok: boolean }>(`SELECT has_table_privilege('credentials_app', $1, $2) AS ok`, [`public."${t}"`, p])).rows[0].ok) held.push(p);
      actual[t] = held.join(', ');
    }
    expect(actual).toEqual(Object.fromEntries(tables.map((t) => [t, EXPECTED[t]])));
  });

  it('can read and write the job queue but owns none of it', async () => {
    const rows = (
      await admin.query<{ name: string; owner: string; dml: boolean }>(`
      SELECT c.relname::text AS name, pg_get_userbyid(c.relowner)::text AS owner,
             has_table_privilege('credentials_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE') AS dml
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'pgboss' AND c.relkind IN ('r', 'p')`)
    ).rows;
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.filter((r) => !r.dml).map((r) => r.name)).toEqual([]);
    expect(rows.filter((r) => r.owner === role)).toEqual([]);
  });

  it('appends audit events and seals them through audit_seal(), and cannot change, remove or unprotect them', async () => {
    const id = randomUUID();
    await asService((c) =>
      c.query(`INSERT INTO audit_event (id, actor_type, action, subject_type) VALUES ($1, 'system', 'test.least_privilege', 'test')`, [id]),
    );
    // The service computes the MAC with a key the database never holds and seals through the function.
    const head = (await asService((c) => c.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_chain_head'))).rows[0];
    const mac = chainMac(randomBytes(32), head.hash, BigInt(head.seq) + 1n, 'body');
    await asService((c) => c.query('SELECT audit_seal($1::bigint, $2, ARRAY[$3::uuid], ARRAY[$4])', [head.seq, head.hash, id, mac]));
    const sealed = (await admin.query<{ hash: string | null }>('SELECT hash FROM audit_event WHERE id = $1', [id])).rows[0];
    expect(sealed.hash).toBe(mac);
    for (const sql of [
      `UPDATE audit_event SET action = 'forged' WHERE id = '${id}'`,
      `DELETE FROM audit_event WHERE id = '${id}'`,
      'TRUNCATE audit_event',
      'ALTER TABLE audit_event DISABLE TRIGGER ALL',
      'DROP TRIGGER audit_event_no_delete ON audit_event',
      `UPDATE audit_chain_head SET seq = seq + 1`,
      `INSERT INTO audit_chain_head (id, seq, hash) VALUES (2, 0, repeat('0', 64))`,
    ]) {
      await expect(
        asService((c) => c.query(sql)),
        sql,
      ).rejects.toThrow(/permission denied|must be owner/);
    }
  });
});

describe('the production start-up check (assertRuntimeDatabase)', () => {
  it('accepts the service role on a migrated database', async () => {
    await expect(assertRuntimeDatabase(serviceUrl, migrationsDir())).resolves.toBeUndefined();
  });

  it('refuses a superuser', async () => {
    await expect(assertRuntimeDatabase(db.url, migrationsDir())).rejects.toThrow(
      /a superuser, which could switch off the audit trail's protection: run the service as a login role that is a member of credentials_app/,
    );
  });

  it('refuses the owner of the audit table', async () => {
    await admin.query(`ALTER TABLE audit_event OWNER TO "${role}"`);
    try {
      await expect(assertRuntimeDatabase(serviceUrl, migrationsDir())).rejects.toThrow(/owns the audit table \(or may act as its owner\)/);
    } finally {
      await admin.query(`ALTER TABLE audit_event OWNER TO CURRENT_USER`);
    }
    await expect(assertRuntimeDatabase(serviceUrl, migrationsDir())).resolves.toBeUndefined();
  });

  it("refuses a role with CREATEROLE, which could make itself a member of the audit table's owner", async () => {
    await admin.query(`ALTER ROLE "${role}" CREATEROLE`);
    try {
      await expect(assertRuntimeDatabase(serviceUrl, migrationsDir())).rejects.toThrow(
        /has CREATEROLE and so could make itself a member of the audit table's owner/,
      );
    } finally {
      await admin.query(`ALTER ROLE "${role}" NOCREATEROLE`);
    }
    await expect(assertRuntimeDatabase(serviceUrl, migrationsDir())).resolves.toBeUndefined();
  });

  it('refuses a role that may update audit rows', async () => {
    await admin.query(`GRANT UPDATE ON audit_event TO "${role}"`);
    try {
      await expect(assertRuntimeDatabase(serviceUrl, migrationsDir())).rejects.toThrow(/may update, delete or truncate audit rows/);
    } finally {
      await admin.query(`REVOKE UPDATE ON audit_event FROM "${role}"`);
    }
  });

  it('refuses while a migration is pending, naming it and the command to run', async () => {
    const last = (await admin.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1')).rows[0]
      .migration_name;
    await admin.query(`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1`, [last]);
    try {
      await expect(assertRuntimeDatabase(serviceUrl, migrationsDir())).rejects.toThrow(
        new RegExp(`1 migration\\(s\\) not applied \\(${last}\\): apply them with the owner role first: node dist/cli.js migrate`),
      );
    } finally {
      await admin.query(`UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE migration_name = $1`, [last]);
    }
  });
});
