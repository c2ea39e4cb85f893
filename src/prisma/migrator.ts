import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { findProjectRoot } from '../config/config.js';

/** Prisma's own lock key, so this and `prisma migrate deploy` never run at once either. */
const PRISMA_MIGRATE_LOCK = 72707369;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies prisma/migrations the way `prisma migrate deploy` does (same `_prisma_migrations`
 * bookkeeping, same advisory lock), for machines where Prisma's schema engine is unavailable.
 */
export async function migrate(databaseUrl: string, migrationsDir = resolve(findProjectRoot(), 'prisma/migrations')): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const rows = (
      await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      )
    ).rows;
    const failed = rows.filter((r) => !r.finished_at && !r.rolled_back_at);
    if (failed.length) {
      throw new Error(
        `Migration ${failed.map((f) => f.migration_name).join(', ')} started but did not finish. ` +
          'Resolve it (prisma migrate resolve) before the service can start.',
      );
    }
    const done = new Set(rows.filter((r) => r.finished_at).map((r) => r.migration_name));
    const folders = readdirSync(migrationsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(migrationsDir, d.name, 'migration.sql')))
      .map((d) => d.name)
      .sort();
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const name of folders) {
      if (done.has(name)) {
        result.alreadyApplied.push(name);
        continue;
      }
      const script = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(script).digest('hex');
      const id = randomUUID();
      await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())', [id, checksum, name]);
      try {
        // One simple-protocol query: PostgreSQL runs the whole script as one implicit transaction.
        await client.query(script);
      } catch (err) {
        await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, String((err as Error).message)]);
        throw new Error(`Migration ${name} failed: ${(err as Error).message}`, { cause: err });
      }
      await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = applied_steps_count + 1 WHERE id = $1', [id]);
      result.applied.push(name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => undefined);
    await client.end();
  }
}
