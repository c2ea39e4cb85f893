import { resolve } from 'node:path';
import { findProjectRoot } from './config.js';

export interface MigrationConfig {
  /** The owner role's URL: MIGRATION_DATABASE_URL, else DATABASE_URL (one-role setups); unset means the embedded database. */
  databaseUrl?: string;
  embeddedPgDir: string;
  embeddedPgPort: number;
}

/** What `migrate` needs, and nothing more: it runs before the service's keys and mail settings matter. */
export function loadMigrationConfig(env: NodeJS.ProcessEnv = process.env, projectRoot = findProjectRoot()): MigrationConfig {
  const databaseUrl = env.MIGRATION_DATABASE_URL?.trim() || env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('MIGRATION_DATABASE_URL (or DATABASE_URL) must be a postgresql:// URL');
  const port = Number(env.EMBEDDED_PG_PORT || 54329);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`EMBEDDED_PG_PORT must be a port number (got "${env.EMBEDDED_PG_PORT}")`);
  return { databaseUrl, embeddedPgDir: resolve(projectRoot, env.EMBEDDED_PG_DIR ?? '.data/postgres'), embeddedPgPort: port };
}
