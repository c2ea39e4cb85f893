// npm run bench: the token endpoint of the built service (node dist/main.js) under autocannon, against a
// bare node:http server returning fixed JSON as the floor, in the same run. The credential is made through
// the service's own issuing and activation code; at the end a revocation must be refused at once.
import 'reflect-metadata';
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as AppFactory from '../src/app.factory.js';
import type * as Logging from '../src/common/logger.js';
import type * as Context from '../src/common/request-context.js';
import type * as Config from '../src/config/config.js';
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
const { CredentialsService } = (await dist('credentials/credentials.service.js')) as typeof Credentials;
const { PrismaService } = (await dist('prisma/prisma.service.js')) as typeof Prisma;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = 32;
const WARMUP_S = 3;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
// At `info` the foundation writes one access-log line per request (a synchronous pino write that costs about
// a third of the token endpoint's throughput here); `warn` measures the token service itself.
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';


async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    autocannon(opts, (err, result) => (err ? rej(err) : res(result)));
  });
}

async function measure(name: string, base: autocannon.Options) {
  await run({ ...base, connections: CONNECTIONS, duration: WARMUP_S });
  const r = await run({ ...base, connections: CONNECTIONS, duration: DURATION_S });
  const errors = r.errors + r.timeouts + r.non2xx;
  console.log(`${name.padEnd(16)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   errors ${errors} (of ${r.requests.total})`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors, total: r.requests.total };
}

async function main(): Promise<void> {
  const db = await benchDatabase('bench_token');
  const children: ChildProcess[] = [];
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  try {
    const port = await sparePort();
    const floorPort = await sparePort();
    const keys = { SECRET_HASH_KEY: randomBytes(32).toString('base64'), MASTER_KEY: randomBytes(32).toString('base64') };
    const base = `http://127.0.0.1:${port}`;
    const env = { ...process.env, NODE_ENV: 'development', DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', PUBLIC_BASE_URL: base, LOG_LEVEL: LOG_LEVEL, NOTIFICATION_WORKERS: 'false', ...keys };

    // The credential, through the service's own code: issue (pending delivery), then the activation that
    // delivery's reveal transaction runs.
    app = await createApp(loadConfig(env), { logger: createLogger('warn') });
    const prisma = app.get(PrismaService);
    const creds = app.get(CredentialsService);
    const partnerId = randomUUID();
    const contactId = randomUUID();
    await prisma.partner.create({ data: { id: partnerId, legalName: 'Bench B.V.', registrationNumber: '99999999', country: 'NL' } });
    await prisma.technicalContact.create({ data: { id: contactId, partnerId, name: 'Bench', email: 'bench@example.com', mobile: '+31612345678' } });
    const apiEnv = (await creds.catalogue()).find((e) => e.apiKey === 'business' && e.environment === 'acceptance')!;
    const pending = await prisma.transaction((tx) =>
      creds.createPendingCredential(tx, systemContext(), { partnerId, contactId, onboardingRequestId: null, apiEnvironmentId: apiEnv.apiEnvironmentId, environment: 'acceptance' }),
    );
    const secret = await prisma.transaction((tx) => creds.renewPendingSecret(tx, pending.secretId));
    await prisma.transaction((tx) => creds.activateOnReveal(tx, systemContext(), pending.secretId));

    const service = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), 'dist/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(service);
    const floor = spawn(process.execPath, ['-e', `
      const body = JSON.stringify({ access_token: 'x'.repeat(400), token_type: 'Bearer', expires_in: 900 });
      require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }); res.end(body); }); }).listen(${floorPort}, '127.0.0.1');
    `], { stdio: 'inherit' });
    children.push(floor);
    await waitFor(`${base}/health`, service);
    await waitFor(`http://127.0.0.1:${floorPort}/`, floor);

    const auth = 'Basic ' + Buffer.from(`${pending.clientId}:${secret}`).toString('base64');
    const tokenRequest = { method: 'POST' as const, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: 'grant_type=client_credentials' };
    const check = await fetch(`${base}/oauth/acceptance/token`, tokenRequest);
    if (check.status !== 200) throw new Error(`token endpoint answered ${check.status}: ${await check.text()}`);

    console.log(`\nToken endpoint benchmark: ${CONNECTIONS} connections, ${WARMUP_S} s warm-up, ${DURATION_S} s measured, service LOG_LEVEL=${LOG_LEVEL}\n`);
    const floorResult = await measure('floor node:http', { url: `http://127.0.0.1:${floorPort}/`, ...tokenRequest });
    const tokenResult = await measure('token endpoint', { url: `${base}/oauth/acceptance/token`, ...tokenRequest });
    const ratio = tokenResult.rps / floorResult.rps;

    // Revocation must still be immediate for the running service (its cache is invalidated by NOTIFY).
    await creds.revoke({ ...systemContext(), actor: { type: 'system', id: null } }, pending.credentialId, 'benchmark revocation check');
    const started = Date.now();
    let refusedAfterMs = -1;
    while (Date.now() - started < 1000) {
      const res = await fetch(`${base}/oauth/acceptance/token`, tokenRequest);
      if (res.status === 401) {
        refusedAfterMs = Date.now() - started;
        break;
      }
    }

    const ok = (b: boolean) => (b ? 'met' : 'NOT met');
    console.log(`\ntokens/s        ${tokenResult.rps.toFixed(0)}`);
    console.log(`p50 / p99       ${tokenResult.p50} ms / ${tokenResult.p99} ms   (target p99 <= 20 ms: ${ok(tokenResult.p99 <= 20)})`);
    console.log(`errors          ${tokenResult.errors}   (target 0: ${ok(tokenResult.errors === 0)})`);
    console.log(`ratio to floor  ${(ratio * 100).toFixed(1)}%   (target >= 15%: ${ok(ratio >= 0.15)})`);
    console.log(`revocation      ${refusedAfterMs >= 0 ? `refused ${refusedAfterMs} ms after commit` : 'STILL ACCEPTED after 1 s'}\n`);
    if (tokenResult.errors > 0 || refusedAfterMs < 0) process.exitCode = 1;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await app?.close();
    await new Promise((r) => setTimeout(r, 500));
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
