import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { migrate } from '../../src/prisma/migrator.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { sparePort } from './net.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
    templateDb: string;
  }
}

const LOCAL_SERVER = 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * Finds a real PostgreSQL (TEST_DATABASE_URL, else the machine's on 5432, else an embedded one on a
 * spare port), migrates a template database once, and hands its name to every test file.
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedDatabase | undefined;
  let serverUrl = process.env.TEST_DATABASE_URL ?? LOCAL_SERVER;
  if (!(await answers(serverUrl))) {
    const port = await sparePort();
    const dir = resolve(process.cwd(), '.data/test-postgres');
    mkdirSync(dir, { recursive: true });
    process.stdout.write(`[test] no PostgreSQL at ${redactUrl(serverUrl)}: starting embedded PostgreSQL on port ${port}\n`);
    embedded = await startEmbeddedPostgres(dir, port, 'postgres');
    serverUrl = embedded.url;
  }
  const templateDb = `cos_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await dropStale(admin);
  await admin.query(`CREATE DATABASE "${templateDb}"`);
  await migrate(withDatabase(serverUrl, templateDb));
  await admin.query(`ALTER DATABASE "${templateDb}" WITH IS_TEMPLATE true`);
  await admin.end();
  project.provide('pgServerUrl', serverUrl);
  project.provide('templateDb', templateDb);

  return async () => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    const dbs = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`cos_%${process.pid}%`]);
    for (const { datname } of dbs.rows) {
      await c.query(`ALTER DATABASE "${datname}" WITH IS_TEMPLATE false`).catch(() => undefined);
      await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
    }
    await c.end();
    await embedded?.stop();
  };
}

/** Databases left by runs that were killed: older than a few hours, so a parallel run is never touched. */
async function dropStale(admin: pg.Client) {
  const rows = await admin
    .query<{ datname: string }>(
      `SELECT d.datname FROM pg_database d WHERE d.datname LIKE 'cos\\_%' AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - ` +
        `interval '3 hours'`,
    )
    .catch(() => ({ rows: [] as { datname: string }[] }));
  for (const { datname } of rows.rows) {
    await admin.query(`ALTER DATABASE "${datname}" WITH IS_TEMPLATE false`).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  }
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export function withDatabase(serverUrl: string, db: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
