import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { BUILD } from './instances.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** The Dockerfile's last stage: what it copies from the source tree and how it installs. */
export function runtimeStage(): { copies: string[]; install: string[] } {
  const stages = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split(/^FROM /m);
  const runtime = stages[stages.length - 1];
  const copies = [...runtime.matchAll(/^COPY (?!--)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
  const run = runtime.match(/^RUN (npm ci[^&\n]*)/m);
  if (!run) throw new Error('the Dockerfile runtime stage has no `RUN npm ci …`');
  return { copies, install: run[1].trim().split(/\s+/).slice(1) };
}

/**
 * The production bundle, built the way the Dockerfile's runtime stage builds it: the same files copied, the
 * same `npm ci` flags (from the local npm cache), and the compiled service as dist/.
 */
export function buildProductionBundle(): { dir: string; installMs: number; installLog: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cos-prod-bundle-'));
  const { copies, install } = runtimeStage();
  for (const c of copies) cpSync(join(ROOT, c), join(dir, c), { recursive: true });
  cpSync(BUILD, join(dir, 'dist'), { recursive: true });
  const started = Date.now();
  const run = spawnSync('npm', [...install, '--prefer-offline'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const installLog = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.status !== 0) throw new Error(`npm ${install.join(' ')} failed in the bundle:\n${installLog.split('\n').slice(-30).join('\n')}`);
  return { dir, installMs: Date.now() - started, installLog };
}

export function duMegabytes(path: string): number {
  const du = spawnSync('du', ['-sm', path], { encoding: 'utf8' });
  return Number(du.stdout.split(/\s+/)[0]);
}

type ComposeService = {
  environment?: Record<string, string | number>;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
};

export function composeServices(): Record<string, ComposeService> {
  return (parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> }).services;
}

/**
 * A compose service's environment as `docker compose` would pass it: `${VAR}` from `values`, else the
 * `${VAR:-default}`, and `${VAR:?message}` refused when `values` lacks it (as compose refuses to start).
 */
export function composeEnvironment(service: string, values: Record<string, string>): Record<string, string> {
  const env = composeServices()[service]?.environment ?? {};
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(env)) {
    out[name] = String(raw).replace(/\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (_m, v: string, op: string | undefined, arg: string | undefined) => {
      if (values[v] !== undefined && values[v] !== '') return values[v];
      if (op?.endsWith('?')) throw new Error(`compose refuses to start without ${v}: ${arg}`);
      return op?.endsWith('-') ? (arg ?? '') : '';
    });
  }
  return out;
}
