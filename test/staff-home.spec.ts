import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { systemContext } from '../src/common/request-context.js';
import { CREDENTIAL_SECRET_SUBJECT, CredentialsService } from '../src/credentials/credentials.service.js';
import { LeakService } from '../src/credentials/leak.service.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { TokenCounts, TokenCountsFlusher, tokenCounts } from '../src/oauth/token-counts.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import type { SubmitInput } from '../src/onboarding/onboarding.types.js';
import { ReviewerDigest } from '../src/staff-home/reviewer-digest.js';
import { basic, FORM_HEADERS, form as formBody, issueCredential } from './support/credentials.helpers.js';
import { startTestApp, type TestApp } from './support/app.js';
import { DeliveryDriver, deliveryInput, linkTokenFrom, useTestSecrets } from './support/delivery-harness.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';

const DAY = 86_400_000;
let t: TestApp;
let t2: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
let one: StaffLogin;
let two: StaffLogin;
let three: StaffLogin;
let viewer: StaffLogin;
let env: Record<string, string>;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  // Both instances share the keys, as instances of one deployment do.
  env = {
    SMTP_URL: smtp.url,
    STAFF_ALERT_EMAIL: 'alerts@retailer.example',
    SECRET_LIFETIME_DAYS: '20',
    MASTER_KEY: randomBytes(32).toString('base64'),
    SECRET_HASH_KEY: randomBytes(32).toString('base64'),
    ...twilio.env(),
  };
  t = await startTestApp({ env });
  t2 = await startTestApp({ env, db: t.db, clock: t.clock });
  drv = new DeliveryDriver(t, smtp, twilio);
  [one, two, three, viewer] = await Promise.all([
    createStaffWithSession(t, { role: 'reviewer', name: 'Olga One' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Tom Two' }),
    createStaffWithSession(t, { role: 'admin', name: 'Thea Three' }),
    createStaffWithSession(t, { role: 'viewer', name: 'Vera Viewer' }),
  ]);
});
afterAll(async () => {
  await t2?.close();
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const post = (url: string, as: StaffLogin, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });

/** The staff home as `as` sees it: item keys per section. */
async function home(as: StaffLogin): Promise<Record<string, string[]>> {
  const res = await t.inject({ method: 'GET', url: '/console/home', headers: { cookie: as.headers.cookie, accept: 'text/html' } });
  expect(res.statusCode, res.body).toBe(200);
  const out: Record<string, string[]> = {};
  for (const m of res.body.matchAll(/<section[^>]*data-section="([^"]+)">([\s\S]*?)<\/section>/g))
    out[m[1]] = [...m[2].matchAll(/data-item="([^"]+)"/g)].map((x) => x[1]);
  return out;
}

let n = 0;
function application(): SubmitInput {
  n += 1;
  return {
    partner: {
      legalName: `Thuis ${n} B.V.`,
      registrationNumber: `7${String(n).padStart(3, '0')}${randomUUID().replace(/\D/g, '').slice(0, 4)}`,
      country: 'NL',
    },
    contact: { name: 'Pim Partner', email: `pim${n}-${randomUUID().slice(0, 6)}@partner.example`, mobile: '+31612300000' },
    language: 'en',
    purpose: 'Our till software reads the business customer record at checkout.',
    items: [
      { api: 'business', environment: 'acceptance' },
      { api: 'business', environment: 'production' },
    ],
  };
}

async function submit(by: StaffLogin | null): Promise<string> {
  const actor = by ? { type: 'staff' as const, id: by.staffId } : { type: 'partner_contact' as const, id: null };
  return (await t.app.get(OnboardingService).submit({ correlationId: randomUUID(), clientIp: '203.0.113.9', userAgent: null, actor }, application())).id;
}

const digestsTo = async (staffId: string) => t.prisma.notification.count({ where: { template: 'reviewer-digest', subjectId: staffId } });

describe('the staff home lists what waits, for whom it waits', () => {
  let created: string;
  let partnerMade: string;

  it('a request waits for review, then for approval by anyone but its creator', async () => {
    created = await submit(one);
    partnerMade = await submit(null);
    for (const s of [one, two, three])
      expect((await home(s)).requests).toEqual(expect.arrayContaining([`request:${created}:submitted`, `request:${partnerMade}:submitted`]));
    expect((await home(viewer)).requests).toEqual([]);

    expect((await post(`/api/onboarding-requests/${created}/start-review`, two)).statusCode).toBe(200);
    expect((await home(one)).requests).not.toContain(`request:${created}:in_review`);
    expect((await home(two)).requests).toContain(`request:${created}:in_review`);
    expect((await home(three)).requests).toContain(`request:${created}:in_review`);
  });

  it('Production approved by one reviewer waits for another to issue it; the approver of record does not see it as theirs', async () => {
    expect((await post(`/api/onboarding-requests/${created}/approvals`, two, { environment: 'acceptance' })).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${created}/approvals`, two, { environment: 'production' })).statusCode).toBe(200);
    const mine = (await home(two)).issue;
    expect(mine).toContain(`approval:${created}:acceptance:issue`);
    expect(mine).not.toContain(`approval:${created}:production:issue`);
    expect((await home(three)).issue).toEqual(expect.arrayContaining([`approval:${created}:acceptance:issue`, `approval:${created}:production:issue`]));
    expect((await home(viewer)).issue).toEqual([]);
    expect((await home(one)).lapsing).toEqual([]);
  });

  it('a rotation waits for a reviewer other than the one who started it', async () => {
    const c = await issueCredential(t);
    const started = await post(`/api/credentials/${c.credentialId}/rotations`, one, { overlapDays: 3 });
    expect(started.statusCode, started.body).toBe(201);
    const key = `rotation:${started.json().id}:approve`;
    expect((await home(one)).rotations).not.toContain(key);
    expect((await home(two)).rotations).toContain(key);
    // SECRET_LIFETIME_DAYS is 20 here: the active secret is within the 30-day warning.
    expect((await home(viewer)).expiring).toContain(`secret:${c.secretId}:expiring`);
  });

  it('deliveries: a bounced link email, a link about to expire unretrieved, and a locked delivery', async () => {
    smtp.rejectRecipients.push(/^bounce-/);
    useTestSecrets(drv.deliveries, 'home-test');
    const bounced = deliveryInput('home-test', {
      recipient: { contactId: randomUUID(), name: 'B', email: `bounce-${randomUUID().slice(0, 6)}@partner.example`, mobile: '+31612399901', language: 'en' },
    });
    const { deliveryId: bouncedId } = await t.prisma.transaction((tx) =>
      drv.deliveries.create(tx, { correlationId: randomUUID(), clientIp: null, userAgent: null, actor: { type: 'system', id: null } }, bounced),
    );
    await drv.notifications.drain();
    const soon = await drv.create(deliveryInput('home-test', { expiresAt: new Date(t.clock.now().getTime() + DAY) }));
    const later = await drv.create(deliveryInput('home-test'));
    const locked = await drv.create(deliveryInput('home-test'));
    for (let k = 1; k <= 3; k++) {
      const code = await drv.code(locked.token, locked.input.recipient.mobile, `198.51.100.${10 + k}`);
      const wrong = code === '00000000' ? '11111111' : '00000000';
      for (let i = 0; i < 5; i++) await drv.reveal(locked.token, wrong, `198.51.100.${20 + k * 5 + i}`);
      t.clock.advance(61_000);
    }
    expect((await t.prisma.delivery.findUniqueOrThrow({ where: { id: locked.deliveryId } })).state).toBe('locked');
    const items = (await home(viewer)).deliveries;
    expect(items).toEqual(
      expect.arrayContaining([`delivery:${bouncedId}:bounced`, `delivery:${soon.deliveryId}:expiring`, `delivery:${locked.deliveryId}:locked`]),
    );
    expect(items.filter((k) => k.startsWith(`delivery:${later.deliveryId}`))).toEqual([]);
    // The bounce is also a failed message.
    expect((await home(viewer)).notifications.some((k) => k.endsWith(':failed'))).toBe(true);
  });

  it('a secret whose SMS code is held after a SIM change, with its age and a link to where staff clear the hold, until cleared', async () => {
    const c = await issueCredential(t, { activate: false });
    const input = deliveryInput(CREDENTIAL_SECRET_SUBJECT, { subjectId: c.secretId });
    input.display.clientId = c.clientId;
    const { deliveryId } = await t.prisma.transaction((tx) => drv.deliveries.create(tx, systemContext(), input));
    await drv.notifications.drain();
    const token = linkTokenFrom(smtp.to(input.recipient.email).find((m) => m.text.includes('/delivery#'))!.text);
    twilio.numbers.set(input.recipient.mobile, { swappedAt: new Date(Date.now() - DAY) });
    const asked = await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: '198.51.100.77' });
    expect(asked.json()).toMatchObject({ code: 'delivery/sim_swap_held' });

    const key = `sim-swap:${deliveryId}`;
    expect((await home(viewer))['sim-swap']).toContain(key);
    const res = await t.inject({ method: 'GET', url: '/console/home', headers: { cookie: viewer.headers.cookie, accept: 'text/html' } });
    const item = new RegExp(`data-item="${key}">[\\s\\S]*?</li>`).exec(res.body)![0];
    expect(item).toContain(`href="/console/credentials/${c.credentialId}#sim-swap-holds"`);
    expect(item).toMatch(/waiting <time datetime="[^"]+">/);
    const page = await t.inject({
      method: 'GET',
      url: `/console/credentials/${c.credentialId}`,
      headers: { cookie: viewer.headers.cookie, accept: 'text/html' },
    });
    expect(page.body).toContain('id="sim-swap-holds"');

    const cleared = await post(`/api/deliveries/${deliveryId}/sim-swap-clear`, one, { reason: 'Called the contact; the SIM change was theirs' });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect((await home(viewer))['sim-swap']).not.toContain(key);
  });

  it('a leaked secret reported by staff waits on the home, for a viewer too, until its emergency rotation completes', async () => {
    const c = await issueCredential(t);
    const reported = await t.inject({
      method: 'POST',
      url: '/console/leaks/report',
      headers: { ...one.headers, ...FORM_HEADERS },
      payload: new URLSearchParams({ secret: c.secret, url: 'https://pastebin.example/home', source: 'paste site' }).toString(),
    });
    expect(reported.statusCode, reported.body).toBe(200);
    const [report] = await t.app.get(LeakService).list({ credentialId: c.credentialId });
    const key = `leak:${report.id}`;
    expect((await home(viewer)).leaks).toContain(key);

    const rotation = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: c.credentialId, origin: 'leak' } });
    const approved = await post(`/api/rotations/${rotation.id}/approve`, two);
    expect(approved.statusCode, approved.body).toBe(200);
    // Approved is not yet replaced: the new secret still has to reach the contact.
    expect((await home(viewer)).leaks).toContain(key);
    const svc = t.app.get(CredentialsService);
    const newSecretId = approved.json().newSecretId as string;
    await t.prisma.transaction((tx) => svc.renewPendingSecret(tx, newSecretId));
    await t.prisma.transaction((tx) => svc.activateOnReveal(tx, systemContext(), newSecretId));
    expect((await home(viewer)).leaks).not.toContain(key);
  });

  it('shows each item with its age and a link, oldest first', async () => {
    const res = await t.inject({ method: 'GET', url: '/console/home', headers: { cookie: three.headers.cookie, accept: 'text/html' } });
    expect(res.body).toMatch(/waiting <time datetime="[^"]+">(\d+ (minute|hour|day)s?|less than a minute)<\/time>/);
    expect(res.body).toContain(`href="/console/requests/${partnerMade}"`);
    const order = [...res.body.matchAll(/data-section="expiring"[\s\S]*?<\/section>/g)][0][0];
    const times = [...order.matchAll(/datetime="([^"]+)"/g)].map((m) => m[1]);
    expect(times).toEqual([...times].sort());
    // Signing in lands here.
    expect((await t.inject({ method: 'GET', url: '/console', headers: { cookie: three.headers.cookie } })).headers.location).toBe('/console/home');
  });
});

describe('the request queue and the credentials list', () => {
  it('show how long open items have waited and sort oldest first on request', async () => {
    const get = async (url: string) => (await t.inject({ method: 'GET', url, headers: { cookie: viewer.headers.cookie, accept: 'text/html' } })).body;
    const ids = (body: string, attr: string) => [...body.matchAll(new RegExp(`data-${attr}-id="([^"]+)"`, 'g'))].map((m) => m[1]);
    const before = (list: string[], a: string, b: string) => list.indexOf(a) >= 0 && list.indexOf(b) >= 0 && list.indexOf(a) < list.indexOf(b);
    const r1 = await submit(null);
    const c1 = await issueCredential(t, { activate: false });
    t.clock.advance(5 * 60_000);
    const r2 = await submit(null);
    const c2 = await issueCredential(t, { activate: false });
    expect(before(ids(await get('/console/requests'), 'request'), r2, r1)).toBe(true);
    expect(before(ids(await get('/console/requests?sort=oldest'), 'request'), r1, r2)).toBe(true);
    expect(await get('/console/requests?sort=oldest')).toMatch(/<th scope="col">Waiting<\/th>[\s\S]*<td>5 minutes<\/td>/);
    expect(before(ids(await get('/console/credentials'), 'credential'), c2.credentialId, c1.credentialId)).toBe(true);
    expect(before(ids(await get('/console/credentials?sort=oldest'), 'credential'), c1.credentialId, c2.credentialId)).toBe(true);
    // A credential's issue time comes from the database clock, not the test's: any age will do.
    expect(await get('/console/credentials?state=pending_delivery')).toMatch(
      /<th scope="col">Waiting for delivery<\/th>[\s\S]*<td>(\d+ (minute|hour|day)s?|less than a minute)<\/td>/,
    );
  });
});

describe('the reviewer digest', () => {
  it('sends each reviewer one digest per batch, even when two instances run it at once, and then only for new items', async () => {
    const before = await Promise.all([one, two, three, viewer].map((s) => digestsTo(s.staffId)));
    expect(before).toEqual([0, 0, 0, 0]);
    const [a, b] = await Promise.all([t.app.get(ReviewerDigest).run(), t2.app.get(ReviewerDigest).run()]);
    expect(a + b).toBe(3);
    expect(await Promise.all([one, two, three, viewer].map((s) => digestsTo(s.staffId)))).toEqual([1, 1, 1, 0]);

    // Nothing new: nobody hears again, from either instance.
    t.clock.advance(15 * 60_000);
    expect((await t2.app.get(ReviewerDigest).run()) + (await t.app.get(ReviewerDigest).run())).toBe(0);

    // A new request: one more digest each, listing only it.
    t.clock.advance(60_000);
    const fresh = await submit(null);
    await Promise.all([t.app.get(ReviewerDigest).run(), t2.app.get(ReviewerDigest).run()]);
    expect(await Promise.all([one, two, three].map((s) => digestsTo(s.staffId)))).toEqual([2, 2, 2]);
    await t.app.get(NotificationsService).drain();
    const mails = smtp.to(one.email);
    expect(mails).toHaveLength(2);
    const second = mails.find((m) => m.text.includes(`/console/requests/${fresh}`))!;
    expect(second.subject).toBe('1 new item waiting for your review');
    const first = mails.find((m) => m !== second)!;
    expect(first.text).toContain('Waiting for review');
    expect(first.text).not.toContain(fresh);
  });
});

describe('token requests per day', () => {
  it('counts tokens on the token path and adds them to the day counter', async () => {
    const c = await issueCredential(t);
    const before = await t.prisma.tokenRequestDaily.aggregate({ _sum: { count: true } });
    for (let i = 0; i < 3; i++) {
      const res = await t.inject({
        method: 'POST',
        url: '/oauth/acceptance/token',
        headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
        payload: formBody({ grant_type: 'client_credentials' }),
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    await t.app.get(TokenCountsFlusher).flush(tokenCounts);
    const after = await t.prisma.tokenRequestDaily.aggregate({ _sum: { count: true } });
    expect(Number(after._sum.count ?? 0) - Number(before._sum.count ?? 0)).toBe(3);
    const overview = await t.inject({ method: 'GET', url: '/console/overview', headers: { cookie: viewer.headers.cookie, accept: 'text/html' } });
    expect(overview.statusCode).toBe(200);
    expect(overview.body).toContain('<th scope="col">business acceptance</th>');
  });

  it('writes what was counted when an instance shuts down', async () => {
    const t3 = await startTestApp({ db: t.db, clock: t.clock, env });
    const sum = async () => Number((await t.prisma.tokenRequestDaily.aggregate({ _sum: { count: true } }))._sum.count ?? 0);
    const before = await sum();
    for (let i = 0; i < 42; i++) tokenCounts.add('shutdown-test', 'acceptance', Math.floor(t.clock.now().getTime() / 1000));
    await t3.close();
    expect((await sum()) - before).toBe(42);
  });

  it('sums concurrent flushes from two instances without losing or doubling counts', async () => {
    const day = Math.floor(t.clock.now().getTime() / 1000);
    const [fa, fb] = [t.app.get(TokenCountsFlusher), t2.app.get(TokenCountsFlusher)];
    const rounds = 20;
    const flushes: Array<Promise<void>> = [];
    for (let r = 0; r < rounds; r++) {
      const a = new TokenCounts();
      const b = new TokenCounts();
      for (let i = 0; i < 7; i++) a.add('sum-test', 'production', day);
      for (let i = 0; i < 5; i++) b.add('sum-test', 'production', day);
      a.add(`sum-test-${r % 3}`, 'acceptance', day);
      b.add(`sum-test-${(r + 1) % 3}`, 'acceptance', day);
      flushes.push(fa.flush(a), fb.flush(b));
    }
    await Promise.all(flushes);
    const rows = await t.prisma.tokenRequestDaily.findMany({ where: { apiKey: { startsWith: 'sum-test' } } });
    expect(Number(rows.find((r) => r.apiKey === 'sum-test')!.count)).toBe(rounds * 12);
    expect(rows.filter((r) => r.apiKey !== 'sum-test').reduce((s, r) => s + Number(r.count), 0)).toBe(rounds * 2);
  });
});

describe('approvals about to lapse', () => {
  it('are listed once they lapse within 3 days, for everyone on staff', async () => {
    const id = await submit(null);
    expect((await post(`/api/onboarding-requests/${id}/start-review`, one)).statusCode).toBe(200);
    expect((await post(`/api/onboarding-requests/${id}/approvals`, one, { environment: 'acceptance' })).statusCode).toBe(200);
    const key = `approval:${id}:acceptance:lapsing`;
    expect((await home(viewer)).lapsing).not.toContain(key);
    // APPROVAL_TTL_DAYS is 14.
    // Sessions end long before this: read the home as a freshly signed-in viewer each time.
    t.clock.advance(11.5 * DAY);
    expect((await home(await createStaffWithSession(t, { role: 'viewer' }))).lapsing).toContain(key);
    t.clock.advance(3 * DAY);
    expect((await home(await createStaffWithSession(t, { role: 'viewer' }))).lapsing).not.toContain(key);
  });
});
