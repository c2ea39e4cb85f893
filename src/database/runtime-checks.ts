import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/** The database role or schema is not fit to serve production; the message says how to fix it. */
export class DatabaseRoleError extends Error {
  constructor(readonly problems: string[]) {
    super(`The database is not ready for this service:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DatabaseRoleError';
  }
}

const FIX_ROLE =
  'run the service as a login role that is a member of credentials_app and owns nothing ' +
  "(CREATE ROLE credentials_service LOGIN PASSWORD '…' IN ROLE credentials_app), and migrations as the owner role (MIGRATION_DATABASE_URL)";

/**
 * In production the service does not migrate and must not be able to rewrite its own audit trail:
 * refuse a superuser, a role that owns (or may act as the owner of) the audit table or can change its rows,
 * a role with CREATEROLE (on PostgreSQL 15 it may grant itself the owner's role), and a schema with
 * migrations still to apply.
 */
export async function assertRuntimeDatabase(databaseUrl: string, migrationsDir: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const problems: string[] = [];
  try {
    const role = (
      await client.query<{ name: string; superuser: boolean; createrole: boolean; owns_audit: boolean | null; can_change_audit: boolean | null }>(`
        SELECT current_user::text AS name, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
               (SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c WHERE c.oid = to_regclass('public.audit_event')) AS owns_audit,
               (SELECT has_table_privilege(current_user, 'public.audit_event', 'UPDATE, DELETE, TRUNCATE, TRIGGER')
                  FROM pg_class c WHERE c.oid = to_regclass('public.audit_event')) AS can_change_audit
          FROM pg_roles r WHERE r.rolname = current_user`)
    ).rows[0];
    if (role.superuser) problems.push(`the service connects as "${role.name}", a superuser, which could switch off the audit trail's protection: ${FIX_ROLE}`);
    else if (role.owns_audit)
      problems.push(
        `the service connects as "${role.name}", which owns the audit table (or may act as its owner) and so could alter or disable its triggers: ${FIX_ROLE}`,
      );
    else if (role.createrole)
      problems.push(
        `the service connects as "${role.name}", which has CREATEROLE and so could make itself a member of the audit table's owner: ALTER ROLE "${role.name}" NOCREATEROLE, or ${FIX_ROLE}`,
      );
    else if (role.can_change_audit)
      problems.push(
        `the service connects as "${role.name}", which may update, delete or truncate audit rows: grant credentials_app only SELECT, INSERT on audit_event`,
      );
    problems.push(...(await pendingMigrations(client, migrationsDir)));
  } finally {
    await client.end();
  }
  if (problems.length) throw new DatabaseRoleError(problems);
}

async function pendingMigrations(client: pg.Client, migrationsDir: string): Promise<string[]> {
  const fix = 'apply them with the owner role first: node dist/cli.js migrate (MIGRATION_DATABASE_URL)';
  const tables = (
    await client.query<{ migrations: string | null; jobs: string | null }>(
      `SELECT to_regclass('public._prisma_migrations')::text AS migrations, to_regclass('pgboss.version')::text AS jobs`,
    )
  ).rows[0];
  if (!tables.migrations) return [`the database has no migrations applied: ${fix}`];
  let done: Set<string>;
  try {
    const rows = (
      await client.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
    ).rows;
    done = new Set(rows.map((r) => r.migration_name));
  } catch (err) {
    return [`the service cannot read _prisma_migrations (${(err as Error).message}): grant credentials_app SELECT on it, or ${fix}`];
  }
  const folders = readdirSync(migrationsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(migrationsDir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort();
  const pending = folders.filter((f) => !done.has(f));
  const problems: string[] = [];
  if (pending.length) problems.push(`${pending.length} migration(s) not applied (${pending.join(', ')}): ${fix}`);
  if (!tables.jobs) problems.push(`the job queue schema (pgboss) is missing: ${fix}`);
  return problems;
}
