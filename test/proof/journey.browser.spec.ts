import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { execFileSync } from 'node:child_process';
import type { BrowserContext, Page } from 'playwright-core';
import { AuditService } from '../../src/audit/audit.service.js';
import { FakeClock } from '../../src/common/clock.js';
import { systemContext } from '../../src/common/request-context.js';
import { ClientRegistry } from '../../src/credentials/client-registry.js';
import { StaffService } from '../../src/staff/staff.service.js';
import type { TestApp } from '../support/app.js';
import { reportBrowserSkip, screenshotter, watchPage } from '../support/browser.js';
import { startBrowserApp, type BrowserApp } from '../support/browser-session.js';
import { FakeSmtp } from '../support/fake-smtp.js';
import { FakeTwilio } from '../support/fake-twilio.js';

/**
 * The whole journey in Debian's Chromium, then a search of the database dump, the
 * logs and the audit trail for every secret value the journey used.
 */
const skip = reportBrowserSkip('journey');

/** Real time that tests can move forward (form fill time, overlap windows) without sleeping. */
class LiveClock extends FakeClock {
  private offset = 0;
  override now(): Date {
    return new Date(Date.now() + this.offset);
  }
  override advance(ms: number): void {
    this.offset += ms;
  }
  override set(at: Date): void {
    this.offset = at.getTime() - Date.now();
  }
}

interface Staff {
  email: string;
  password: string;
  seed: string;
}

const secrets = new Map<string, string>(); // value -> what it is
const remember = (what: string, value: string | undefined | null) => {
  if (value && value.length >= 6) secrets.set(value, what);
};

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let app: BrowserApp;
let base: string;
const clock = new LiveClock();
const shots = screenshotter('journey');
/** Console errors and CSP violations of every page the journey opened, whether or not it was closed. */
const pageProblems: string[][] = [];

async function createStaff(name: string, role: 'reviewer' | 'admin'): Promise<Staff> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}@retailer.example`;
  const password = `Journey-${name.replace(/\W/g, '')}-pw-${Math.random().toString(36).slice(2, 10)}`;
  const created = await t.app.get(StaffService).create(systemContext(), { email, name, role }, { password, enrolNow: true });
  const seed = new URL(created.otpauthUri!).searchParams.get('secret')!;
  remember(`password of ${name}`, password);
  remember(`TOTP seed of ${name}`, seed);
  for (const c of created.recoveryCodes ?? []) remember(`recovery code of ${name}`, c);
  return { email, password, seed };
}

async function newPage(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  pageProblems.push(watchPage(page));
  return page;
}

async function signIn(page: Page, staff: Staff, label: string): Promise<void> {
  await page.goto(`${base}/console/sign-in`);
  await shots.shot(page, `${label}-sign-in`);
  await page.getByLabel('Email').fill(staff.email);
  await page.getByLabel('Password').fill(staff.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/second-factor/);
  const code = await generate({ secret: staff.seed, epoch: Math.floor(clock.now().getTime() / 1000), period: 30 });
  remember(`TOTP code of ${staff.email}`, code);
  await page.getByLabel(/code/i).first().fill(code);
  await shots.shot(page, `${label}-second-factor`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !/sign-in/.test(u.pathname));
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function token(env: string, clientId: string, secret: string) {
  const res = await fetch(`${base}/oauth/${env}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (body.access_token) remember('access token', body.access_token);
  return { status: res.status, body };
}

async function verifyAgainstJwks(env: string, accessToken: string) {
  const jwks = (await (await fetch(`${base}/oauth/${env}/jwks`)).json()) as JSONWebKeySet;
  const meta = (await (await fetch(`${base}/oauth/${env}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
  return jwtVerify(accessToken, createLocalJWKSet(jwks), { issuer: meta.issuer, currentDate: clock.now() });
}

describe.skipIf(skip)('the whole journey in a real browser', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    smtp = await FakeSmtp.start();
    twilio = await FakeTwilio.start();
    app = await startBrowserApp({ clock, env: { SMTP_URL: smtp.url, ...twilio.env(), NOTIFICATION_WORKERS: 'true', LOG_LEVEL: 'debug' } });
    ({ t, base } = app);
    remember('session/HMAC key', t.config.secretHashKey.toString('base64'));
    remember('master key', t.config.masterKey.toString('base64'));
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await smtp?.stop();
    await twilio?.stop();
    process.stdout.write(`[proof] journey: ${shots.taken.length} screenshots in ${shots.dir}\n`);
  });

  let a: Staff;
  let b: Staff;
  const state: {
    credentialId?: string;
    newSecret?: string;
    statusToken?: string;
    requestId?: string;
    reference?: string;
    clientId?: string;
    secret?: string;
    linkToken?: string;
    smsCode?: string;
  } = {};

  it('partner applies through /apply and gets a reference and a status link', async () => {
    const partner = await app.context({ bypassCSP: false });
    const page = await newPage(partner);
    await page.goto(`${base}/apply`);
    await shots.shot(page, 'partner-apply-form');
    await page.getByLabel('Legal name of the organisation').fill('Journey Koffie B.V.');
    await page.getByLabel(/registration number/i).fill('87654321');
    await page.locator('#country').selectOption('NL');
    await page.getByLabel('Full name').fill('Jana de Tester');
    await page.getByLabel('Email address').fill('jana@journey-koffie.example');
    await page.getByLabel('Mobile phone number').fill('+31 6 12345678');
    await page.locator('#language-en').check();
    const business = page.locator('input[name="items"][value*="acceptance"]').first();
    await business.check();
    await page.getByLabel('What will you use the APIs for?').fill('Our point-of-sale app looks up business customers during checkout.');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${base}/apply`);
    await shots.shot(page, 'partner-check-answers');
    clock.advance(60_000); // a person takes time to fill the form; the intake refuses bot-fast submissions
    await page.getByRole('button', { name: 'Send application' }).click();
    await page.waitForURL(/\/requests\/[^/]+\/confirmation/);
    await shots.shot(page, 'partner-confirmation');
    state.statusToken = page.url().split('/requests/')[1].split('/')[0];
    remember('status link token', state.statusToken);
    const row = await t.prisma.onboardingRequest.findFirstOrThrow({ orderBy: { createdAt: 'desc' } });
    state.requestId = row.id;
    state.reference = row.reference;
    expect(page.url()).toBe(`${base}/requests/${state.statusToken}/confirmation`);
    expect(await page.textContent('body')).toContain(row.reference);
    await page.goto(`${base}/requests/${state.statusToken}`);
    await shots.shot(page, 'partner-status-page');
    await partner.close();
  });

  it('reviewer A edits the request and cannot approve it; reviewer B approves Acceptance', async () => {
    a = await createStaff('Reviewer Anna', 'reviewer');
    b = await createStaff('Reviewer Bram', 'reviewer');
    const ctxA = await app.context({ bypassCSP: false });
    const pageA = await newPage(ctxA);
    await signIn(pageA, a, 'reviewer-a');
    await pageA.goto(`${base}/console/requests`);
    await shots.shot(pageA, 'reviewer-a-queue');
    await pageA.getByRole('link', { name: state.reference! }).click();
    await pageA.getByRole('button', { name: 'Start review' }).click();
    await pageA.waitForLoadState();
    const csrf = await pageA.locator('input[name="_csrf"]').first().inputValue();
    const version = (await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: state.requestId } })).version;
    const edit = await ctxA.request.patch(`${base}/api/onboarding-requests/${state.requestId}`, {
      headers: { 'x-csrf-token': csrf, accept: 'application/json' },
      data: { purpose: 'Our point-of-sale app looks up business customers during checkout (edited by the reviewer).', version },
    });
    expect(edit.status(), await edit.text()).toBe(200);
    await pageA.reload();
    await shots.shot(pageA, 'reviewer-a-cannot-approve');
    const approveA = pageA.getByRole('button', { name: /Approve/ }).first();
    expect(await approveA.isDisabled()).toBe(true);
    expect(await pageA.textContent('body')).toMatch(/four-eyes/);
    const forced = await ctxA.request.post(`${base}/api/onboarding-requests/${state.requestId}/approvals`, {
      headers: { 'x-csrf-token': csrf, accept: 'application/json' },
      data: { environment: 'acceptance' },
    });
    expect(forced.status()).toBe(403);
    expect(((await forced.json()) as { code: string }).code).toBe('onboarding/four_eyes');
    await ctxA.close();

    const ctxB = await app.context({ bypassCSP: false });
    const pageB = await newPage(ctxB);
    await signIn(pageB, b, 'reviewer-b');
    await pageB.goto(`${base}/console/requests/${state.requestId}`);
    await shots.shot(pageB, 'reviewer-b-request');
    await pageB
      .getByRole('button', { name: /Approve/ })
      .first()
      .click();
    await pageB.waitForLoadState();
    await shots.shot(pageB, 'reviewer-b-approved');
    const approval = await t.prisma.onboardingApproval.findFirst({ where: { requestId: state.requestId, environment: 'acceptance' } });
    expect(approval).not.toBeNull();

    // Credentials issued for Acceptance by reviewer B.
    await pageB.goto(`${base}/console/credentials/issue`);
    await shots.shot(pageB, 'reviewer-b-issue');
    await pageB.getByRole('button', { name: new RegExp(`Issue acceptance credentials for ${state.reference}`) }).click();
    // Issuing sends secrets out: a confirmation page says so first, and its button issues.
    await pageB.getByRole('heading', { name: /Issue Acceptance credentials for/ }).waitFor();
    await shots.shot(pageB, 'reviewer-b-issue-confirm');
    await pageB.getByRole('button', { name: 'Yes, issue Acceptance credentials' }).click();
    await pageB.waitForLoadState();
    await shots.shot(pageB, 'reviewer-b-issued');
    expect(await pageB.textContent('body')).toContain('Credentials issued');
    state.clientId = (await pageB.locator('code').first().textContent())!.trim();
    await ctxB.close();
  });

  it('partner opens the email link, asks for the SMS code, enters it and copies the secret', async () => {
    const mail = await waitFor('the delivery email', () => smtp.to('jana@journey-koffie.example').find((m) => /\/delivery#/.test(m.text)));
    const link = mail.text.match(/https?:\/\/\S+\/delivery#[A-Za-z0-9_-]+/)![0];
    state.linkToken = link.split('#')[1];
    remember('delivery link token', state.linkToken);
    const partner = await app.context({ bypassCSP: false });
    await partner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await newPage(partner);
    await page.goto(link);
    await page.waitForURL(/\/delivery/);
    await page.waitForLoadState('networkidle');
    await shots.shot(page, 'partner-delivery-opened');
    const sendCode = page.getByRole('button', { name: /Send me the code/ });
    await sendCode.click();
    await page.waitForLoadState();
    await shots.shot(page, 'partner-delivery-code-sent');
    const sms = await waitFor('the SMS code', () => twilio.messages.find((m) => m.to.replace(/\s/g, '') === '+31612345678' && /\d{6,}/.test(m.body)));
    state.smsCode = sms.body.match(/(\d[\d ]{5,}\d)/)![1].replace(/\s/g, '');
    remember('SMS code', state.smsCode);
    await page.getByLabel(/code/i).first().fill(state.smsCode);
    await page.getByRole('button', { name: 'Show the secret' }).click();
    await page.waitForLoadState();
    await shots.shot(page, 'partner-secret-shown');
    state.secret = (await page.getByTestId('client-secret').textContent())!.trim();
    remember('client secret (first)', state.secret);
    expect((await page.locator('#client-id').textContent())!.trim()).toBe(state.clientId);
    // The copy buttons start hidden and delivery.js shows them: a hidden one means the page's script did not run.
    const copy = page.locator('button[data-copy="client-secret"]');
    expect(await copy.isVisible()).toBe(true);
    await copy.click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe(state.secret);
    // The link is used up: opening it again shows no secret.
    const again = await newPage(partner);
    await again.goto(link);
    await again.waitForLoadState('networkidle');
    await shots.shot(again, 'partner-delivery-reopened');
    expect(await again.textContent('body')).not.toContain(state.secret);
    await partner.close();
  });

  it('the secret gets a token that verifies against the JWKS; the Production issuer refuses it with a clear reason', async () => {
    const ok = await token('acceptance', state.clientId!, state.secret!);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const verified = await verifyAgainstJwks('acceptance', ok.body.access_token!);
    expect(verified.payload.client_id ?? verified.payload.sub).toBe(state.clientId);
    const prod = await token('production', state.clientId!, state.secret!);
    expect(prod.status).toBe(401);
    expect(prod.body.error).toBe('invalid_client');
    expect(prod.body.error_description).toMatch(/acceptance|production|environment/i);
    process.stdout.write(`[proof] journey: production issuer refused the acceptance secret: ${JSON.stringify(prod.body)}\n`);
  });

  it('rotation: reviewer A starts it, reviewer B approves, the partner reveals the new secret; both work; overlap ended; the old one is refused', async () => {
    const cred = await t.prisma.credential.findUniqueOrThrow({ where: { clientId: state.clientId } });
    state.credentialId = cred.id;
    clock.advance(31_000); // a new TOTP step: codes are accepted once
    const ctxA = await app.context({ bypassCSP: false });
    const pageA = await newPage(ctxA);
    await signIn(pageA, a, 'rotation-reviewer-a');
    await pageA.goto(`${base}/console/credentials/${cred.id}`);
    await shots.shot(pageA, 'rotation-credential-page');
    await pageA.getByRole('button', { name: /Start rotation/ }).click();
    await pageA.waitForLoadState();
    await shots.shot(pageA, 'rotation-started');
    // Four-eyes: the starter's Approve button is disabled with the reason, and the service refuses a forced call.
    const ownApprove = pageA.getByRole('button', { name: 'Approve rotation' });
    expect(await ownApprove.isDisabled()).toBe(true);
    await shots.shot(pageA, 'rotation-starter-refused');
    expect(await pageA.textContent('body')).toMatch(/another reviewer must approve it \(four-eyes\)/);
    const startedRotation = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: cred.id }, orderBy: { createdAt: 'desc' } });
    const csrfA = await pageA.locator('input[name="_csrf"]').first().inputValue();
    const forcedRotation = await ctxA.request.post(`${base}/api/rotations/${startedRotation.id}/approve`, {
      headers: { 'x-csrf-token': csrfA, accept: 'application/json' },
    });
    expect(forcedRotation.status()).toBe(403);
    expect(((await forcedRotation.json()) as { code: string }).code).toBe('rotation/four_eyes');
    expect((await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: cred.id }, orderBy: { createdAt: 'desc' } })).state).toBe(
      'awaiting_approval',
    );
    await ctxA.close();

    clock.advance(31_000);
    const ctxB = await app.context({ bypassCSP: false });
    const pageB = await newPage(ctxB);
    await signIn(pageB, b, 'rotation-reviewer-b');
    await pageB.goto(`${base}/console/credentials/${cred.id}`);
    await pageB.getByRole('button', { name: 'Approve rotation' }).click();
    await pageB.waitForLoadState();
    await shots.shot(pageB, 'rotation-approved');
    await ctxB.close();

    // The partner receives a second link and reveals the new secret.
    const mails = await waitFor('the rotation email', () => {
      const m = smtp.to('jana@journey-koffie.example').filter((x) => /\/delivery#/.test(x.text));
      return m.length >= 2 ? m : undefined;
    });
    const link = mails[mails.length - 1].text.match(/https?:\/\/\S+\/delivery#[A-Za-z0-9_-]+/)![0];
    remember('rotation link token', link.split('#')[1]);
    const partner = await app.context({ bypassCSP: false });
    const page = await newPage(partner);
    const smsBefore = twilio.messages.length;
    await page.goto(link);
    await page.waitForURL(/\/delivery/);
    await page.waitForLoadState('networkidle');
    await page.getByRole('button', { name: /Send me the code/ }).click();
    await page.waitForLoadState();
    const sms = await waitFor('the rotation SMS code', () => twilio.messages.slice(smsBefore).find((m) => /\d{6,}/.test(m.body)));
    const code = sms.body.match(/(\d[\d ]{5,}\d)/)![1].replace(/\s/g, '');
    remember('rotation SMS code', code);
    await page.getByLabel(/code/i).first().fill(code);
    await page.getByRole('button', { name: 'Show the secret' }).click();
    await page.waitForLoadState();
    await shots.shot(page, 'rotation-new-secret-shown');
    state.newSecret = (await page.getByTestId('client-secret').textContent())!.trim();
    remember('client secret (after rotation)', state.newSecret);
    expect(state.newSecret).not.toBe(state.secret);
    await partner.close();

    const oldDuring = await token('acceptance', state.clientId!, state.secret!);
    const newDuring = await token('acceptance', state.clientId!, state.newSecret);
    expect([oldDuring.status, newDuring.status]).toEqual([200, 200]);
    await verifyAgainstJwks('acceptance', newDuring.body.access_token!);

    // The partner switches; once the old secret has been quiet long enough, reviewer B ends the overlap.
    await token('acceptance', state.clientId!, state.newSecret);
    // "Last used" is written in batches; the quiet rule reads it from the database.
    await t.app.get(ClientRegistry).flushLastUsed();
    clock.advance((t.config.credentials.overlapQuietHours + 1) * 3_600_000);
    const ctxB2 = await app.context({ bypassCSP: false });
    const pageB2 = await newPage(ctxB2);
    await signIn(pageB2, b, 'overlap-reviewer-b');
    await pageB2.goto(`${base}/console/credentials/${cred.id}`);
    await shots.shot(pageB2, 'overlap-before-end');
    await pageB2.getByRole('button', { name: 'End overlap now' }).click();
    await pageB2.getByRole('heading', { name: /End the overlap/ }).waitFor();
    await shots.shot(pageB2, 'overlap-end-confirm');
    await pageB2.getByRole('button', { name: 'Yes, end the overlap now' }).click();
    await pageB2.waitForLoadState();
    await shots.shot(pageB2, 'overlap-ended');
    await ctxB2.close();

    const oldAfter = await token('acceptance', state.clientId!, state.secret!);
    const newAfter = await token('acceptance', state.clientId!, state.newSecret);
    process.stdout.write(
      `[proof] journey: rotation: during the overlap old ${oldDuring.status} / new ${newDuring.status}; after it ended old ${oldAfter.status} ` +
        `${JSON.stringify(oldAfter.body)} / new ${newAfter.status}\n`,
    );
    expect(oldAfter.status).toBe(401);
    expect(oldAfter.body.error).toBe('invalid_client');
    expect(newAfter.status).toBe(200);
  });

  it('secrets stay secret: the database dump, the logs and the audit trail hold none of the values used', async () => {
    const dump = execFileSync('/usr/bin/pg_dump', ['--no-owner', t.db.url], { maxBuffer: 512 * 1024 * 1024 }).toString('utf8');
    const audit = JSON.stringify(await t.prisma.auditEvent.findMany(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const logs = t.logs.join('');
    const sources: Record<string, string> = { pg_dump: dump, logs, 'audit trail': audit };
    const leaks: string[] = [];
    // Short numeric codes are searched as whole numbers (not inside timestamps, hashes or ids), so a
    // chance digit run such as a timestamp's microseconds is not mistaken for a leak.
    const found = (text: string, value: string) =>
      /^\d{1,11}$/.test(value) ? new RegExp(`(?<![0-9A-Za-z.:_-])${value}(?![0-9A-Za-z])`).test(text) : text.includes(value);
    for (const [value, what] of secrets) {
      // The service's own keys live in its configuration; they must only stay out of logs and the audit trail.
      const where = /key$/.test(what) ? ['logs', 'audit trail'] : Object.keys(sources);
      for (const name of where) if (found(sources[name], value)) leaks.push(`${what} found in ${name}`);
    }
    const verify = await t.app.get(AuditService).verify();
    process.stdout.write(
      `[proof] secrets stay secret: ${secrets.size} secret values searched in pg_dump (${(dump.length / 1024).toFixed(0)} KiB), ${t.logs.length} log ` +
        `lines and ${audit.length} chars of audit trail: ${leaks.length} found; audit verify ` +
        `${JSON.stringify({ ok: verify.ok, checked: verify.checked })}\n`,
    );
    process.stdout.write(`[proof] kinds searched: ${[...new Set(secrets.values())].join(', ')}\n`);
    expect(leaks).toEqual([]);
    expect(verify.ok).toBe(true);
    expect(pageProblems.flat()).toEqual([]);
  });
});
