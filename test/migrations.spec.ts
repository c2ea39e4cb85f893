import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { getDMMF } from '@prisma/get-dmmf';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../src/generated/prisma/client.js';
import { migrate } from '../src/prisma/migrator.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

const root = process.cwd();
const migrationsDir = join(root, 'prisma/migrations');
let db: TestDatabase;

async function loadDmmf() {
  const result = getDMMF({ datamodel: readFileSync(join(root, 'prisma/schema.prisma'), 'utf8') });
  if (!('datamodel' in result)) throw new Error(`schema.prisma does not parse: ${JSON.stringify(result)}`);
  return result;
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function emptyDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = new URL(db.url);
  const name = `${db.name}_empty`;
  server.pathname = '/postgres';
  const c = new pg.Client({ connectionString: server.toString() });
  await c.connect();
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  const url = new URL(db.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: server.toString() });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await d.end();
    },
  };
}

describe('migrations', () => {
  it('apply once with Prisma-compatible bookkeeping, even when instances start together', async () => {
    const empty = await emptyDatabase();
    const results = await Promise.all([migrate(empty.url), migrate(empty.url), migrate(empty.url)]);
    const folders = readdirSync(migrationsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(results.flatMap((r) => r.applied).sort()).toEqual(folders);
    const c = new pg.Client({ connectionString: empty.url });
    await c.connect();
    const rows = (
      await c.query('SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name')
    ).rows;
    await c.end();
    expect(rows.map((r) => r.migration_name)).toEqual(folders);
    for (const r of rows) {
      const sql = readFileSync(join(migrationsDir, r.migration_name, 'migration.sql'));
      expect(r.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.applied_steps_count).toBe(1);
      expect(r.rolled_back_at).toBeNull();
    }
    expect((await migrate(empty.url)).applied).toEqual([]);
    await empty.drop();
  });

  it('produce the schema the generated client expects (columns, types, nullability, enums, keys)', async () => {
    const dmmf = await loadDmmf();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const cols = (
      await c.query<{ table_name: string; column_name: string; is_nullable: string; udt_name: string }>(
        `SELECT table_name, column_name, is_nullable, udt_name FROM information_schema.columns WHERE table_schema = 'public'`,
      )
    ).rows;
    const enums = (
      await c.query<{ typname: string; labels: string[] }>(
        `SELECT t.typname::text AS typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels FROM pg_type t JOIN pg_enum e ON ` +
          `e.enumtypid = t.oid GROUP BY t.typname`,
      )
    ).rows;
    const uniques = (
      await c.query<{ table: string; cols: string[] }>(
        `SELECT tc.relname::text AS table, array_agg(a.attname::text ORDER BY k.ord) AS cols
       FROM pg_index i JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace n ON n.oid = tc.relnamespace
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = k.attnum
       WHERE n.nspname = 'public' AND i.indisunique GROUP BY tc.relname, i.indexrelid`,
      )
    ).rows;
    const fks = (
      await c.query<{ table: string; ref: string }>(
        `SELECT conrelid::regclass::text AS table, confrelid::regclass::text AS ref FROM pg_constraint WHERE contype = 'f'`,
      )
    ).rows;
    await c.end();

    for (const e of dmmf.datamodel.enums) {
      expect(enums.find((x) => x.typname === (e.dbName ?? e.name))?.labels, `enum ${e.name}`).toEqual(e.values.map((v) => v.dbName ?? v.name));
    }
    const scalarType: Record<string, string[]> = {
      String: ['text', 'varchar', 'bpchar', 'uuid'],
      Int: ['int4'],
      BigInt: ['int8'],
      Boolean: ['bool'],
      DateTime: ['timestamptz', 'timestamp'],
      Json: ['jsonb', 'json'],
      Bytes: ['bytea'],
      Float: ['float8'],
      Decimal: ['numeric'],
    };
    for (const model of dmmf.datamodel.models) {
      const table = model.dbName ?? model.name;
      const tableCols = cols.filter((col) => col.table_name === table);
      expect(tableCols.length, `table ${table} exists`).toBeGreaterThan(0);
      const fields = model.fields.filter((f) => f.kind !== 'object');
      expect(tableCols.map((col) => col.column_name).sort(), `columns of ${table}`).toEqual(fields.map((f) => f.dbName ?? f.name).sort());
      for (const f of fields) {
        const col = tableCols.find((x) => x.column_name === (f.dbName ?? f.name))!;
        expect(col.is_nullable === 'YES', `${table}.${f.name} nullability`).toBe(!f.isRequired);
        // PostgreSQL names an array type after its element type with a leading underscore.
        const udt = f.isList ? col.udt_name.replace(/^_/, '') : col.udt_name;
        if (f.isList) expect(col.udt_name, `${table}.${f.name} is an array`).toMatch(/^_/);
        if (f.kind === 'enum') expect(udt, `${table}.${f.name} enum`).toBe(f.type);
        else expect(scalarType[f.type], `${table}.${f.name} type ${col.udt_name}`).toContain(udt);
      }
      for (const u of model.uniqueFields) {
        const names = u.map((n) => model.fields.find((f) => f.name === n)!.dbName ?? n);
        expect(
          uniques.some((x) => x.table === table && x.cols.join() === names.join()),
          `unique ${table}(${names.join()})`,
        ).toBe(true);
      }
      for (const f of model.fields.filter((x) => x.isUnique || x.isId)) {
        expect(
          uniques.some((x) => x.table === table && x.cols.join() === (f.dbName ?? f.name)),
          `unique ${table}.${f.name}`,
        ).toBe(true);
      }
      for (const rel of model.fields.filter((x) => x.kind === 'object' && x.relationFromFields?.length)) {
        const target = dmmf.datamodel.models.find((m) => m.name === rel.type)!;
        expect(
          fks.some((fk) => fk.table === table && fk.ref === (target.dbName ?? target.name)),
          `FK ${table} -> ${rel.type}`,
        ).toBe(true);
      }
    }
  });

  it('lets every model round-trip through the generated client', async () => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    const dmmf = await loadDmmf();
    for (const model of dmmf.datamodel.models) {
      const delegate = (prisma as unknown as Record<string, { findMany: (a: unknown) => Promise<unknown[]> }>)[
        model.name[0].toLowerCase() + model.name.slice(1)
      ];
      await expect(delegate.findMany({ take: 1 }), model.name).resolves.toBeInstanceOf(Array);
    }
    await prisma.$disconnect();
  });
});
