import pg from 'pg';
import type { AppConfig } from '../config/config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { migrate } from '../prisma/migrator.js';

/**
 * The database the process should use: DATABASE_URL, or the embedded one (joined if a running
 * service already started it, started here otherwise). Migrations are applied either way.
 */
export async function resolveDatabase(config: AppConfig): Promise<{ config: AppConfig; embedded?: EmbeddedDatabase; applied: string[]; alreadyApplied: number }> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const running = `postgresql://postgres:postgres@127.0.0.1:${config.embeddedPgPort}/credentials`;
    if (await answers(running)) url = running;
    else {
      embedded = await startEmbeddedPostgres(config.embeddedPgDir, config.embeddedPgPort);
      url = embedded.url;
    }
  }
  const result = await migrate(url);
  return { config: { ...config, databaseUrl: url }, embedded, applied: result.applied, alreadyApplied: result.alreadyApplied.length };
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
