import { resolve } from 'node:path';
import pg from 'pg';
import { findProjectRoot, type AppConfig } from '../config/config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { migrate } from '../prisma/migrator.js';
import { assertRuntimeDatabase } from './runtime-checks.js';

export const migrationsDir = (): string => resolve(findProjectRoot(), 'prisma/migrations');

export interface ResolvedDatabase {
  config: AppConfig;
  embedded?: EmbeddedDatabase;
  /** Migrations this start applied; production never migrates (the `migrate` command does, as the owner role). */
  applied: string[];
  alreadyApplied: number;
}

/**
 * The database the process should use: DATABASE_URL, or the embedded one. Outside production the process
 * migrates it (one role, zero setup); in production it only checks that the schema is current and that its
 * role cannot rewrite the audit trail.
 */
export async function resolveDatabase(config: AppConfig): Promise<ResolvedDatabase> {
  const { url, embedded } = await locateDatabase(config);
  if (config.nodeEnv === 'production') {
    await assertRuntimeDatabase(url, migrationsDir());
    return { config: { ...config, databaseUrl: url }, embedded, applied: [], alreadyApplied: 0 };
  }
  const result = await migrate(url);
  return { config: { ...config, databaseUrl: url }, embedded, applied: result.applied, alreadyApplied: result.alreadyApplied.length };
}

/** The given URL, else the embedded database: joined if a running service already started it, started here otherwise. */
export async function locateDatabase(
  settings: Pick<AppConfig, 'databaseUrl' | 'embeddedPgDir' | 'embeddedPgPort'>,
): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  if (settings.databaseUrl) return { url: settings.databaseUrl };
  const running = `postgresql://postgres:postgres@127.0.0.1:${settings.embeddedPgPort}/credentials`;
  if (await answers(running)) return { url: running };
  const embedded = await startEmbeddedPostgres(settings.embeddedPgDir, settings.embeddedPgPort);
  return { url: embedded.url, embedded };
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}
