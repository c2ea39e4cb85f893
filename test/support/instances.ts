import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { sparePort } from './net.js';

const ROOT = resolve(import.meta.dirname, '../..');
/**
 * A private build of the current sources. `npm run build` (nest build) empties dist/ first, so in a tree
 * shared with other people (or test files) a process starting from dist/ can find it half-written; tsc
 * into a folder of our own, swapped in with one rename, avoids that. It is the same compiler and config.
 */
export const BUILD = join(ROOT, '.data/proof-dist');
export const MAIN = join(BUILD, 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const isFresh = () => existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'));
const LOCK = `${BUILD}.lock`;
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Builds when the build is missing or older than anything in `src/` (including the generated client).
 * Test files in parallel workers call this at the same moment: one builds, the others wait for it and
 * use its build (two builds would cost twice the CPU and race on the final swap).
 */
export function ensureBuilt(): void {
  if (isFresh()) return;
  // On a fresh clone .data/ does not exist yet.
  mkdirSync(dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed run is older than any build takes.
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 600_000) rmSync(LOCK, { recursive: true, force: true });
      sleepSync(250);
    }
  }
  try {
    if (!isFresh()) build();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function build(): void {
  const tmp = `${BUILD}-${process.pid}-${Date.now()}`;
  const run = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', tmp], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (!existsSync(join(tmp, 'main.js'))) {
    throw new Error(`building the service failed:\n${`${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')}`);
  }
  // Type errors in a colleague's half-written file still emit JavaScript; say so rather than stop.
  if (run.status !== 0)
    process.stdout.write(`[instances] tsc reported errors (JavaScript emitted anyway):\n${(run.stdout ?? '').split('\n').slice(0, 8).join('\n')}\n`);
  // The same assets nest-cli.json copies: templates and the public folder.
  cpSync(join(ROOT, 'src'), tmp, {
    recursive: true,
    filter: (src) => statSync(src).isDirectory() || src.endsWith('.eta') || src.includes(`${join('web', 'public')}`),
  });
  rmSync(BUILD, { recursive: true, force: true });
  renameSync(tmp, BUILD);
}

export interface Instance {
  name: string;
  port: number;
  baseUrl: string;
  proc: ChildProcess;
  /** stdout + stderr lines (pino JSON and the start-up banner). */
  logs: string[];
  exited: Promise<number | null>;
  /** SIGTERM to the process group; SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL to the process group at once (a crash). */
  kill(): Promise<void>;
}

/** The keys every instance of one deployment shares (sessions, CSRF tokens and sealed data must agree). */
export function sharedKeys(): Record<string, string> {
  return {
    SECRET_HASH_KEY: randomBytes(32).toString('base64'),
    MASTER_KEY: randomBytes(32).toString('base64'),
    AUDIT_CHAIN_KEY: randomBytes(32).toString('base64'),
    AUDIT_CHECKPOINT_KEY: randomBytes(32).toString('base64'),
  };
}

/** Starts the built service (`node main.js`) as a real process (its own process group) and waits for /health. */
export async function startInstance(
  name: string,
  env: Record<string, string>,
  opts: { port?: number; waitHealthy?: boolean; /** Another bundle (folder with dist/main.js), e.g. a production install. */ cwd?: string } = {},
): Promise<Instance> {
  const port = opts.port ?? (await sparePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const proc = spawn(process.execPath, [opts.cwd ? join(opts.cwd, 'dist/main.js') : MAIN], {
    cwd: opts.cwd ?? ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      LOG_LEVEL: 'info',
      NOTIFICATION_WORKERS: 'true',
      ...env,
    },
  });
  let buffer = '';
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    logs.push(...lines);
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  const instance: Instance = {
    name,
    port,
    baseUrl,
    proc,
    logs,
    exited,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      signalGroup('SIGKILL');
      await exited;
    },
  };
  if (opts.waitHealthy !== false) await waitHealthy(instance);
  return instance;
}

export async function waitHealthy(instance: Instance, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (instance.proc.exitCode !== null) throw new Error(`${instance.name} exited with ${instance.proc.exitCode}:\n${instance.logs.slice(-20).join('\n')}`);
    try {
      const res = await fetch(`${instance.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${instance.name} not healthy within ${timeoutMs} ms:\n${instance.logs.slice(-20).join('\n')}`);
}

/** Parsed pino lines of an instance. */
export function jsonLogs(instance: Instance): Array<Record<string, unknown>> {
  return instance.logs.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
