import { inject } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';

export interface TestDatabase {
  url: string;
  name: string;
  /** A superuser connection to this database, for what the app may not do (disable triggers, read raw rows). */
  admin(): Promise<pg.Client>;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, db: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * A fresh clone of the migrated template: each test file gets its own database. `empty` makes one with no
 * migrations applied instead (for tests of start-up on a new database); both are dropped at the end of the run.
 */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('pgServerUrl');
  const template = inject('templateDb');
  const name = `${template.replace('cos_tpl_', 'cos_t_')}_${opts.empty ? 'empty_' : ''}${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(opts.empty ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        break;
      } catch (err) {
        // Two clones starting at the same instant can briefly see each other on the template.
        if (attempt > 20 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await c.end();
  }
  const url = withDatabase(serverUrl, name);
  return {
    url,
    name,
    async admin() {
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      return a;
    },
    async drop() {
      const d = new pg.Client({ connectionString: serverUrl });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await d.end();
    },
  };
}
