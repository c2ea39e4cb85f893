// npm run bench:load: the built service's token endpoint held at a fixed rate for 60 s (BENCH_SECONDS) with
// 0 errors while credentials are revoked and one is rotated end to end (staff start + approve, email link,
// SMS code, reveal through the service's own API); the service's RSS is sampled every second (< 300 MB).
import 'reflect-metadata';
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as AppFactory from '../src/app.factory.js';
import type * as Logging from '../src/common/logger.js';
import type * as Context from '../src/common/request-context.js';
import type * as Config from '../src/config/config.js';
import type * as Catalogue from '../src/credentials/catalogue.service.js';
import type * as Credentials from '../src/credentials/credentials.service.js';
import type * as Rotation from '../src/credentials/rotation.service.js';
import type * as Notifications from '../src/notifications/notifications.service.js';
import type * as Prisma from '../src/prisma/prisma.service.js';
import { FakeSmtp } from '../test/support/fake-smtp.js';
import { FakeTwilio } from '../test/support/fake-twilio.js';
import { benchDatabase } from './support.js';
import { sparePort } from '../test/support/net.js';

// The built service's own modules (tsx does not emit the decorator metadata Nest's injection needs).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p: string) => import(join(ROOT, 'dist', p));
const { createApp } = (await dist('app.factory.js')) as typeof AppFactory;
const { createLogger } = (await dist('common/logger.js')) as typeof Logging;
const { systemContext } = (await dist('common/request-context.js')) as typeof Context;
const { loadConfig } = (await dist('config/config.js')) as typeof Config;
const { CatalogueService } = (await dist('credentials/catalogue.service.js')) as typeof Catalogue;
const { CredentialsService } = (await dist('credentials/credentials.service.js')) as typeof Credentials;
const { RotationService } = (await dist('credentials/rotation.service.js')) as typeof Rotation;
const { NotificationsService } = (await dist('notifications/notifications.service.js')) as typeof Notifications;
const { PrismaService } = (await dist('prisma/prisma.service.js')) as typeof Prisma;

const RATE = Number(process.env.BENCH_RATE ?? 400);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CONNECTIONS = 16;
const RSS_LIMIT_MB = 300;
const LOAD_CREDENTIALS = 8;
const VICTIMS = 5;

interface Cred {
  credentialId: string;
  clientId: string;
  secret: string;
}

const basic = (clientId: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
const tokenRequest = (c: { clientId: string; secret: string }) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.secret) },
  body: 'grant_type=client_credentials',
});

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const db = await benchDatabase('bench_load');
  const smtp = await FakeSmtp.start();
  const twilio = await FakeTwilio.start();
  const children: ChildProcess[] = [];
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  try {
    const port = await sparePort();
    const base = `http://127.0.0.1:${port}`;
    const keys = { SECRET_HASH_KEY: randomBytes(32).toString('base64'), MASTER_KEY: randomBytes(32).toString('base64') };
    const env = {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: base,
      LOG_LEVEL: 'warn',
      NOTIFICATION_WORKERS: 'false',
      DEV_OUTBOX: 'false',
      SMTP_URL: smtp.url,
      ...twilio.env(),
      ...keys,
    };

    // The control side: the same code in this process, for setting up and for the staff actions during the run.
    app = await createApp(loadConfig(env), { logger: createLogger('warn') });
    const prisma = app.get(PrismaService);
    const creds = app.get(CredentialsService);
    const rotations = app.get(RotationService);
    const notifications = app.get(NotificationsService);
    const partnerId = randomUUID();
    const contactId = randomUUID();
    await prisma.partner.create({ data: { id: partnerId, legalName: 'Load B.V.', registrationNumber: '99999998', country: 'NL' } });
    await prisma.technicalContact.create({ data: { id: contactId, partnerId, name: 'Load Contact', email: 'load@partner.example', mobile: '+31612345678' } });
    const apiEnv = (await app.get(CatalogueService).catalogue()).find((e) => e.apiKey === 'business' && e.environment === 'acceptance')!;
    const make = async (): Promise<Cred> => {
      const p = await prisma.transaction((tx) =>
        creds.createPendingCredential(tx, systemContext(), {
          partnerId,
          contactId,
          onboardingRequestId: null,
          apiEnvironmentId: apiEnv.apiEnvironmentId,
          environment: 'acceptance',
        }),
      );
      const secret = await prisma.transaction((tx) => creds.renewPendingSecret(tx, p.secretId));
      await prisma.transaction((tx) => creds.activateOnReveal(tx, systemContext(), p.secretId));
      return { credentialId: p.credentialId, clientId: p.clientId, secret };
    };
    const load: Cred[] = [];
    for (let i = 0; i < LOAD_CREDENTIALS; i++) load.push(await make());
    const victims: Cred[] = [];
    for (let i = 0; i < VICTIMS; i++) victims.push(await make());

    const service = spawn(process.execPath, ['dist/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(service);
    process.once('exit', () => service.kill('SIGKILL'));
    await waitFor('the service', async () => ((await fetch(`${base}/health`).catch(() => null))?.ok ? true : undefined), 60_000);
    for (const c of [...load, ...victims]) {
      const res = await fetch(`${base}/oauth/acceptance/token`, tokenRequest(c));
      if (res.status !== 200) throw new Error(`token endpoint answered ${res.status} before the run: ${await res.text()}`);
    }

    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(rssMb(service.pid!)), 1000);
    const events: string[] = [];
    const revocationMs: number[] = [];
    let rotation = 'not run';
    const staffA = { ...systemContext(), actor: { type: 'staff' as const, id: randomUUID() } };
    const staffB = { ...systemContext(), actor: { type: 'staff' as const, id: randomUUID() } };

    const revokeOne = async (v: Cred, n: number) => {
      await creds.revoke(staffA, v.credentialId, `load benchmark revocation ${n}`);
      const started = Date.now();
      let ms = -1;
      while (Date.now() - started < 2000) {
        if ((await fetch(`${base}/oauth/acceptance/token`, tokenRequest(v))).status === 401) {
          ms = Date.now() - started;
          break;
        }
      }
      revocationMs.push(ms);
      events.push(`t+${((Date.now() - runStarted) / 1000).toFixed(0)}s revocation ${n}: ${ms >= 0 ? `refused after ${ms} ms` : 'STILL ACCEPTED after 2 s'}`);
    };

    const rotateOne = async (c: Cred) => {
      // The real rotation: started by one staff member, approved by another, delivered by email link + SMS code,
      // revealed through the service's own delivery API (which activates the new secret beside the old one).
      const started = await rotations.start(staffA, c.credentialId, 7);
      await rotations.approve(staffB, started.id);
      await notifications.drain();
      const mail = await waitFor('the rotation email', () =>
        smtp.to('load@partner.example').find((m) => m.text.includes('/delivery#') && m.text.includes(c.clientId)),
      );
      const token = /\/delivery#([A-Za-z0-9_-]{43})/.exec(mail.text)![1];
      const codeRes = await fetch(`${base}/api/deliveries/code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      if (codeRes.status !== 200) throw new Error(`code request: ${codeRes.status} ${await codeRes.text()}`);
      await notifications.drain();
      const sms = await waitFor('the SMS code', () => twilio.to('+31612345678').at(-1));
      const code = /\b(\d{8})\b/.exec(sms.body)![1];
      const revealed = await fetch(`${base}/api/deliveries/reveal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, code }),
      });
      const body = (await revealed.json()) as { clientSecret?: string };
      if (revealed.status !== 200 || !body.clientSecret) throw new Error(`reveal: ${revealed.status} ${JSON.stringify(body).slice(0, 200)}`);
      const oldOk = (await fetch(`${base}/oauth/acceptance/token`, tokenRequest(c))).status;
      const newOk = (await fetch(`${base}/oauth/acceptance/token`, tokenRequest({ clientId: c.clientId, secret: body.clientSecret }))).status;
      rotation = `old secret ${oldOk}, new secret ${newOk} during the overlap`;
      events.push(`t+${((Date.now() - runStarted) / 1000).toFixed(0)}s rotation of ${c.clientId}: ${rotation}`);
      if (oldOk !== 200 || newOk !== 200) throw new Error(`rotation: ${rotation}`);
    };

    console.log(
      `\nLoad benchmark: token endpoint at ${RATE} req/s for ${SECONDS} s over ${CONNECTIONS} connections and ${LOAD_CREDENTIALS} credentials; ${VICTIMS} revocations and 1 rotation during the run\n`,
    );
    const runStarted = Date.now();
    let staffError: unknown;
    const staffWork = (async () => {
      const step = (SECONDS * 1000) / (VICTIMS + 2);
      for (let i = 0; i < VICTIMS; i++) {
        await new Promise((r) => setTimeout(r, Math.max(0, runStarted + step * (i + 1) - Date.now())));
        await revokeOne(victims[i], i + 1);
        if (i === 1) await rotateOne(load[0]);
      }
    })().catch((err: unknown) => {
      staffError = err;
    });
    const options = {
      url: `${base}/oauth/acceptance/token`,
      connections: CONNECTIONS,
      duration: SECONDS,
      overallRate: RATE,
      requests: load.map((c) => tokenRequest(c)),
    };
    const result = await new Promise<autocannon.Result>((res, rej) => {
      autocannon(options, (err, r) => (err ? rej(err) : res(r)));
    });
    await staffWork;
    clearInterval(sampler);
    if (staffError) events.push(`staff actions FAILED: ${staffError instanceof Error ? staffError.message : JSON.stringify(staffError)}`);

    const errors = result.errors + result.timeouts + result.non2xx;
    const maxRss = Math.max(...rss);
    const ok = (b: boolean) => (b ? 'met' : 'NOT met');
    for (const e of events) console.log(`  ${e}`);
    console.log(`\nrequests        ${result.requests.total} in ${SECONDS} s (${result.requests.average.toFixed(0)} req/s, target ${RATE})`);
    console.log(`latency         p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
    console.log(`errors          ${errors} (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})   (target 0: ${ok(errors === 0)})`);
    console.log(`RSS             max ${maxRss.toFixed(0)} MB, last ${rss.at(-1)?.toFixed(0)} MB   (target < ${RSS_LIMIT_MB} MB: ${ok(maxRss < RSS_LIMIT_MB)})`);
    console.log(
      `revocations     ${revocationMs.filter((m) => m >= 0).length}/${VICTIMS} refused, slowest ${Math.max(...revocationMs)} ms   (target < 1000 ms: ${ok(revocationMs.every((m) => m >= 0 && m < 1000))})`,
    );
    console.log(`rotation        ${rotation}\n`);
    if (errors > 0 || maxRss >= RSS_LIMIT_MB || !revocationMs.every((m) => m >= 0 && m < 1000) || !/200.*200/.test(rotation) || staffError)
      process.exitCode = 1;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await app?.close();
    await smtp.stop();
    await twilio.stop();
    await new Promise((r) => setTimeout(r, 500));
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
