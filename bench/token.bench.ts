// npm run bench: the token and introspection endpoints of the built service (node dist/main.js, LOG_LEVEL=info
// with its access log, as users run it) side by side with oidc-provider configured like it (bench/peer.mjs)
// and a bare node:http floor (bench/floor.mjs). Rounds are interleaved and every server is a fresh process
// per round; the medians and the ratios to the peer are what count (the machine is shared and noisy).
// The credential is made through the service's own issuing and activation code; at the end a revocation
// must be refused by a running service within a second.
//   BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), BENCH_CONNECTIONS (32),
//   BENCH_LOG_LEVEL (info), BENCH_CPU_PROF=<dir> (profile the service with --cpu-prof),
//   BENCH_ONLY=service (skip the floor and the peer; for profiling), BENCH_PHASES=token (skip introspection),
//   BENCH_KEEP_LOGS=1 (keep the servers' stdout logs)
import 'reflect-metadata';
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as AppFactory from '../src/app.factory.js';
import type * as Logging from '../src/common/logger.js';
import type * as Context from '../src/common/request-context.js';
import type * as Config from '../src/config/config.js';
import type * as Catalogue from '../src/credentials/catalogue.service.js';
import type * as Credentials from '../src/credentials/credentials.service.js';
import type * as Prisma from '../src/prisma/prisma.service.js';
import { benchDatabase } from './support.js';
import { sparePort } from '../test/support/net.js';

// The built service's own modules (tsx does not emit the decorator metadata Nest's injection needs).
const dist = (p: string) => import(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', p));
const { createApp } = (await dist('app.factory.js')) as typeof AppFactory;
const { createLogger } = (await dist('common/logger.js')) as typeof Logging;
const { systemContext } = (await dist('common/request-context.js')) as typeof Context;
const { loadConfig } = (await dist('config/config.js')) as typeof Config;
const { CatalogueService } = (await dist('credentials/catalogue.service.js')) as typeof Catalogue;
const { CredentialsService } = (await dist('credentials/credentials.service.js')) as typeof Credentials;
const { PrismaService } = (await dist('prisma/prisma.service.js')) as typeof Prisma;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const CLK_TCK = 100;
const FORM = 'application/x-www-form-urlencoded';

interface Target {
  name: 'floor' | 'peer' | 'service' | 'svc-warn';
  start(): Promise<ChildProcess>;
  token: { url: string; headers: Record<string, string>; body: string };
  /** Mints the token the introspection phase asks about, and says where and how to ask. */
  introspect?: () => Promise<{ url: string; headers: Record<string, string>; body: string }>;
}

interface Row {
  name: string;
  phase: 'token' | 'introspect';
  round: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuPer1k: number;
}

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function cannon(opts: { url: string; headers: Record<string, string>; body: string }, duration: number): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    autocannon({ ...opts, method: 'POST', connections: CONNECTIONS, duration }, (err, result) => (err ? rej(err) : res(result)));
  });
}

async function measure(
  name: string,
  phase: Row['phase'],
  round: number,
  pid: number,
  req: { url: string; headers: Record<string, string>; body: string },
): Promise<Row> {
  const check = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
  if (check.status !== 200) throw new Error(`${name} ${phase} answered ${check.status}: ${(await check.text()).slice(0, 300)}`);
  if (WARMUP_S > 0) await cannon(req, WARMUP_S);
  const cpu0 = cpuSeconds(pid);
  const r = await cannon(req, DURATION_S);
  const cpu = cpuSeconds(pid) - cpu0;
  const ok = r.requests.total - r.non2xx;
  const row = {
    name,
    phase,
    round,
    rps: ok / DURATION_S,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    cpuPer1k: (cpu / Math.max(ok, 1)) * 1000,
  };
  console.log(
    `round ${round}  ${name.padEnd(8)} ${phase.padEnd(10)} ${row.rps.toFixed(0).padStart(7)} req/s   p50 ${String(row.p50).padStart(3)} ms   p99 ${String(row.p99).padStart(3)} ms   errors ${row.errors}   CPU ${row.cpuPer1k.toFixed(3)} s/1k`,
  );
  return row;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  const db = await benchDatabase('bench_token');
  const running = new Set<ChildProcess>();
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  const logDir = mkdtempSync(join(tmpdir(), 'bench-token-'));
  try {
    const [port, peerPort, floorPort] = [await sparePort(), await sparePort(), await sparePort()];
    const base = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: base,
      LOG_LEVEL,
      NOTIFICATION_WORKERS: 'false',
      SECRET_HASH_KEY: randomBytes(32).toString('base64'),
      MASTER_KEY: randomBytes(32).toString('base64'),
    };

    // The credential, through the service's own code: issue (pending delivery), then the activation that
    // delivery's reveal transaction runs.
    app = await createApp(loadConfig(env), { logger: createLogger('warn') });
    const prisma = app.get(PrismaService);
    const creds = app.get(CredentialsService);
    const partnerId = randomUUID();
    const contactId = randomUUID();
    await prisma.partner.create({ data: { id: partnerId, legalName: 'Bench B.V.', registrationNumber: '99999999', country: 'NL' } });
    await prisma.technicalContact.create({ data: { id: contactId, partnerId, name: 'Bench', email: 'bench@example.com', mobile: '+31612345678' } });
    const apiEnv = (await app.get(CatalogueService).catalogue()).find((e) => e.apiKey === 'business' && e.environment === 'acceptance')!;
    const pending = await prisma.transaction((tx) =>
      creds.createPendingCredential(tx, systemContext(), {
        partnerId,
        contactId,
        onboardingRequestId: null,
        apiEnvironmentId: apiEnv.apiEnvironmentId,
        environment: 'acceptance',
      }),
    );
    const secret = await prisma.transaction((tx) => creds.renewPendingSecret(tx, pending.secretId));
    await prisma.transaction((tx) => creds.activateOnReveal(tx, systemContext(), pending.secretId));
    const audience = apiEnv.audience;

    const launch = (name: string, args: string[], extraEnv: NodeJS.ProcessEnv, readyUrl: string) => async () => {
      // The access log goes to a real file, as it would to a collector, not to /dev/null.
      const out = openSync(join(logDir, `${name}.log`), 'w');
      const child = spawn(process.execPath, args, { cwd: ROOT, env: extraEnv, stdio: ['ignore', out, 'inherit'] });
      closeSync(out);
      running.add(child);
      child.once('exit', () => running.delete(child));
      await waitFor(readyUrl, child);
      return child;
    };
    const serviceAuth = { 'content-type': FORM, authorization: basic(pending.clientId, secret) };
    const peerSecret = randomBytes(32).toString('base64url');
    const peerAuth = { 'content-type': FORM, authorization: basic('peer-client', peerSecret) };
    const peerEnv = { ...process.env, PEER_PORT: String(peerPort), PEER_CLIENT_SECRET: peerSecret, PEER_JWT_RESOURCE: audience };
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

    const targets: Target[] = [
      {
        name: 'floor',
        start: launch('floor', ['bench/floor.mjs'], { ...process.env, FLOOR_PORT: String(floorPort) }, `http://127.0.0.1:${floorPort}/`),
        token: { url: `http://127.0.0.1:${floorPort}/token`, headers: serviceAuth, body: 'grant_type=client_credentials' },
      },
      {
        name: 'peer',
        start: launch('peer', ['bench/peer.mjs'], peerEnv, `http://127.0.0.1:${peerPort}/jwks`),
        token: { url: `http://127.0.0.1:${peerPort}/token`, headers: peerAuth, body: `grant_type=client_credentials&resource=${encodeURIComponent(audience)}` },
        introspect: async () => {
          const minted = await fetch(`http://127.0.0.1:${peerPort}/token`, {
            method: 'POST',
            headers: peerAuth,
            body: `grant_type=client_credentials&resource=${encodeURIComponent('https://opaque-api.acceptance.example')}`,
          });
          const token = ((await minted.json()) as { access_token: string }).access_token;
          return {
            url: `http://127.0.0.1:${peerPort}/token/introspection`,
            headers: peerAuth,
            body: `token=${encodeURIComponent(token)}&token_type_hint=access_token`,
          };
        },
      },
      {
        name: 'service',
        start: launch('service', ['--disable-warning=FSTWRN004', ...profile, 'dist/main.js'], env, `${base}/health`),
        token: { url: `${base}/oauth/acceptance/token`, headers: serviceAuth, body: `grant_type=client_credentials&resource=${encodeURIComponent(audience)}` },
        introspect: async () => {
          const minted = await fetch(`${base}/oauth/acceptance/token`, { method: 'POST', headers: serviceAuth, body: 'grant_type=client_credentials' });
          const token = ((await minted.json()) as { access_token: string }).access_token;
          return { url: `${base}/oauth/acceptance/introspect`, headers: serviceAuth, body: `token=${encodeURIComponent(token)}&token_type_hint=access_token` };
        },
      },
      {
        // The same service without its access log, to show what the log costs in the same session.
        name: 'svc-warn',
        start: launch('svc-warn', ['--disable-warning=FSTWRN004', 'dist/main.js'], { ...env, LOG_LEVEL: 'warn' }, `${base}/health`),
        token: { url: `${base}/oauth/acceptance/token`, headers: serviceAuth, body: `grant_type=client_credentials&resource=${encodeURIComponent(audience)}` },
      },
    ];

    console.log(
      `\nToken endpoint bench: ${ROUNDS} interleaved rounds (fresh processes), ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per phase, service LOG_LEVEL=${LOG_LEVEL}\n`,
    );
    const rows: Row[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of targets) {
        if (process.env.BENCH_ONLY && t.name !== process.env.BENCH_ONLY) continue;
        const child = await t.start();
        try {
          rows.push(await measure(t.name, 'token', round, child.pid!, t.token));
          if (t.introspect && process.env.BENCH_PHASES !== 'token') rows.push(await measure(t.name, 'introspect', round, child.pid!, await t.introspect()));
        } finally {
          await stop(child);
        }
        // Warnings and errors the server logged during the round explain odd figures (e.g. a lost cache listener).
        const complaints = readFileSync(join(logDir, `${t.name}.log`), 'utf8')
          .split('\n')
          .filter((l) => /"level":"(warn|error|fatal)"/.test(l));
        if (complaints.length) console.log(`round ${round}  ${t.name}: ${complaints.length} warning/error lines, first: ${complaints[0].slice(0, 300)}`);
      }
    }

    // Revocation must still be immediate for a running service (its client cache is invalidated by NOTIFY).
    const service = await targets[2].start();
    let refusedAfterMs = -1;
    try {
      await creds.revoke({ ...systemContext(), actor: { type: 'system', id: null } }, pending.credentialId, 'benchmark revocation check');
      const started = Date.now();
      while (Date.now() - started < 1000) {
        const res = await fetch(targets[2].token.url, { method: 'POST', headers: serviceAuth, body: 'grant_type=client_credentials' });
        if (res.status === 401) {
          refusedAfterMs = Date.now() - started;
          break;
        }
      }
    } finally {
      await stop(service);
    }

    const med = (name: string, phase: Row['phase']) => {
      const rs = rows.filter((r) => r.name === name && r.phase === phase);
      return rs.length
        ? {
            rps: median(rs.map((r) => r.rps)),
            p50: median(rs.map((r) => r.p50)),
            p99: median(rs.map((r) => r.p99)),
            cpu: median(rs.map((r) => r.cpuPer1k)),
            errors: rs.reduce((a, r) => a + r.errors, 0),
            all: rs.map((r) => r.rps.toFixed(0)).join(', '),
          }
        : null;
    };
    if (process.env.BENCH_ONLY || process.env.BENCH_PHASES) return;
    const floor = med('floor', 'token')!;
    const peer = med('peer', 'token')!;
    const svc = med('service', 'token')!;
    const quiet = med('svc-warn', 'token')!;
    const peerI = med('peer', 'introspect')!;
    const svcI = med('service', 'introspect')!;
    console.log(`\nmedians over ${ROUNDS} rounds            req/s (each round)              p50   p99  errors  CPU s/1k  vs peer  vs floor`);
    for (const [label, m, ref] of [
      ['floor    token', floor, peer],
      ['peer     token', peer, peer],
      ['service  token', svc, peer],
      ['  (LOG_LEVEL=warn)', quiet, peer],
      ['peer     introspect', peerI, peerI],
      ['service  introspect', svcI, peerI],
    ] as const) {
      console.log(
        `${label.padEnd(22)} ${m.rps.toFixed(0).padStart(7)} (${m.all})`.padEnd(62) +
          ` ${String(m.p50).padStart(4)} ${String(m.p99).padStart(5)} ${String(m.errors).padStart(7)} ${m.cpu.toFixed(3).padStart(9)} ${(m.rps / ref.rps).toFixed(2).padStart(7)}x ${(m.rps / floor.rps).toFixed(3).padStart(8)}`,
      );
    }
    const met = (b: boolean) => (b ? 'met' : 'NOT met');
    // Ratios within each round (the two servers ran back to back) are steadier than ratios of medians.
    const perRound = (phase: Row['phase'], a: string, b: string, f: (r: Row) => number) =>
      Array.from({ length: ROUNDS }, (_, i) => {
        const x = rows.find((r) => r.round === i + 1 && r.name === a && r.phase === phase);
        const y = rows.find((r) => r.round === i + 1 && r.name === b && r.phase === phase);
        return x && y ? f(x) / f(y) : NaN;
      });
    const fmt = (v: number[]) => `${median(v).toFixed(2)}x (rounds: ${v.map((x) => x.toFixed(2)).join(', ')})`;
    const tokenRatios = perRound('token', 'service', 'peer', (r) => r.rps);
    const tokenRatio = median(tokenRatios);
    const cpuRatios = perRound('token', 'peer', 'service', (r) => r.cpuPer1k);
    console.log(`\ntoken endpoint   ${fmt(tokenRatios)} the peer's tokens/s   (goal >= 2x: ${met(tokenRatio >= 2)})`);
    console.log(`                 ${fmt(cpuRatios)} less CPU per token than the peer`);
    console.log(`token p99        ${svc.p99} ms vs the peer's ${peer.p99} ms   (goal: no worse: ${met(svc.p99 <= peer.p99)})`);
    const logCost = median(perRound('token', 'service', 'svc-warn', (r) => r.cpuPer1k)) - 1;
    console.log(
      `access log       ${(logCost * 100).toFixed(1)}% more CPU per token than at LOG_LEVEL=warn (median of rounds; goal < 5%: ${met(logCost < 0.05)}); tokens/s ${((svc.rps / quiet.rps - 1) * 100).toFixed(1)}%`,
    );
    const introRatios = perRound('introspect', 'service', 'peer', (r) => r.rps);
    console.log(`introspection    ${fmt(introRatios)} the peer's rate   (goal >= 1x: ${met(median(introRatios) >= 1)})`);
    console.log(`errors           ${svc.errors + svcI.errors}   (goal 0: ${met(svc.errors + svcI.errors === 0)})`);
    console.log(`revocation       ${refusedAfterMs >= 0 ? `refused ${refusedAfterMs} ms after commit` : 'STILL ACCEPTED after 1 s'}\n`);
    if (svc.errors + svcI.errors > 0 || refusedAfterMs < 0) process.exitCode = 1;
  } finally {
    for (const c of running) await stop(c);
    await app?.close();
    await db.drop();
    if (process.env.BENCH_KEEP_LOGS) console.log(`server logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
