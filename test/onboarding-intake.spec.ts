import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_PATTERN } from '../src/onboarding/onboarding.tokens.js';
import { startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { INTAKE_RATE_LIMIT_PER_HOUR: '6' } });
});
afterAll(() => t.close());

const FORM = 'application/x-www-form-urlencoded';
let ip = 10;
/** Each test its own client IP, so the per-IP limit is only met where a test means to meet it. */
const nextIp = () => `203.0.113.${ip++}`;

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

let n = 0;
function answers(over: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  n += 1;
  return {
    legalName: `Broodjeszaak ${n} B.V.`,
    registrationNumber: `7${String(n).padStart(7, '0')}`,
    country: 'NL',
    businessRepresentative: '',
    contactName: 'Sanne de Boer',
    contactEmail: `sanne${n}@example.nl`,
    contactMobile: '+31 6 1234 5678',
    language: 'nl',
    items: ['business:acceptance', 'business:production'],
    purpose: 'Our lunch app lets employees order and pay with their cafetaria budget.',
    website: '',
    ...over,
  };
}

async function start(clientIp: string) {
  const page = await t.inject({ method: 'GET', url: '/apply', remoteAddress: clientIp });
  expect(page.statusCode).toBe(200);
  return hidden(page.body, 'formIssuedAt')[0];
}

/** Form -> check your answers -> (time passes): the fields the final "send" posts. */
async function filledIn(clientIp: string, over: Record<string, string | string[]> = {}) {
  const formIssuedAt = await start(clientIp);
  const check = await t.inject({
    method: 'POST',
    url: '/apply',
    remoteAddress: clientIp,
    headers: { 'content-type': FORM },
    payload: encode({ ...answers(over), formIssuedAt }),
  });
  expect(check.statusCode, check.body.slice(0, 2000)).toBe(200);
  t.clock.advance(5000);
  const fields: Record<string, string | string[]> = { formIssuedAt: hidden(check.body, 'formIssuedAt')[0], website: '' };
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
    fields[k] = hidden(check.body, k)[0];
  fields.items = hidden(check.body, 'items');
  return fields;
}

const send = (clientIp: string, fields: Record<string, string | string[]>, accept = 'text/html') =>
  t.inject({ method: 'POST', url: '/apply/submit', remoteAddress: clientIp, headers: { 'content-type': FORM, accept }, payload: encode(fields) });

/** Form -> check your answers -> (time passes) -> send; returns the final response. */
async function apply(clientIp: string, over: Record<string, string | string[]> = {}, accept = 'text/html') {
  return send(clientIp, await filledIn(clientIp, over), accept);
}

const count = () => t.prisma.onboardingRequest.count();

describe('the public intake page', () => {
  it('offers the catalogue from the database, with labels for every field', async () => {
    const page = await t.inject({ method: 'GET', url: '/apply' });
    for (const name of ['Business API', 'Cafetariaplan API', 'Communities API']) expect(page.body).toContain(name);
    expect(page.body).toContain('value="cafetariaplan:production"');
    for (const id of ['legalName', 'registrationNumber', 'country', 'contactName', 'contactEmail', 'contactMobile', 'purpose', 'item-business-acceptance']) {
      expect(page.body, id).toMatch(new RegExp(`<label for="${id}"`));
    }
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/<script>|style="/);
  });

  it('goes form -> check your answers -> confirmation with a reference and a status link', async () => {
    const clientIp = nextIp();
    const before = await count();
    const formIssuedAt = await start(clientIp);
    const check = await t.inject({
      method: 'POST',
      url: '/apply',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({ ...answers(), formIssuedAt }),
    });
    expect(check.statusCode).toBe(200);
    expect(check.body).toContain('Check your answers');
    expect(check.body).toContain('Sanne de Boer');
    expect(check.body).toContain('data-environment="production"');
    expect(await count()).toBe(before);

    // "Change your answers" brings the filled-in form back.
    const change = await t.inject({
      method: 'POST',
      url: '/apply',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({ ...answers({ contactName: 'Sanne de Boer' }), formIssuedAt, action: 'change' }),
    });
    expect(change.body).toContain('value="Sanne de Boer"');
    expect(change.body).toMatch(/value="business:production" checked/);

    const sent = await apply(clientIp);
    expect(sent.statusCode, sent.body.slice(0, 1500)).toBe(303);
    const location = sent.headers.location as string;
    expect(location).toMatch(/^\/requests\/[A-Za-z0-9_-]{43}\/confirmation$/);
    const confirmation = await t.inject({ method: 'GET', url: location });
    expect(confirmation.statusCode).toBe(200);
    const reference = /data-testid="reference">([^<]+)</.exec(confirmation.body)![1];
    expect(reference).toMatch(REFERENCE_PATTERN);
    const statusUrl = /data-testid="status-link">([^<]+)</.exec(confirmation.body)![1];
    expect(statusUrl).toBe(`http://localhost:3000${location.replace('/confirmation', '')}`);

    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { reference } });
    expect(row).toMatchObject({ state: 'submitted', language: 'nl', createdByStaffId: null });
    const contact = await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: row.contactId } });
    expect(contact.mobile).toBe('+31612345678');
    const submitted = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: row.id, action: 'onboarding.submitted' } });
    expect(submitted).toMatchObject({ actorType: 'partner_contact', actorId: row.contactId, clientIp });
    // The token is in no log line and no audit row.
    const token = location.split('/')[2];
    expect(t.logs.join('\n')).not.toContain(token);
    expect(
      JSON.stringify(await t.prisma.auditEvent.findMany({ where: { subjectId: row.id } }), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toContain(token);
    // The receipt email carries the link, sealed in the queued notification, never in plaintext.
    const receipts = await t.prisma.notification.findMany({ where: { subjectType: 'onboarding_request', subjectId: row.id } });
    expect(receipts.map((n) => n.template)).toEqual(['onboarding-received']);
    expect(JSON.stringify(receipts)).not.toContain(token);

    const status = await t.inject({ method: 'GET', url: new URL(statusUrl).pathname });
    expect(status.statusCode).toBe(200);
    expect(status.body).toContain(reference);
    expect(status.body).toContain('data-state="submitted"');
    expect(status.body).toContain('data-environment="acceptance"');
    expect(status.body).toContain('data-environment="production"');
  });

  it('shows field errors GOV.UK-style and saves nothing for malformed email, phone, VoIP number, oversize or unknown items', async () => {
    const clientIp = nextIp();
    const formIssuedAt = await start(clientIp);
    const before = await count();
    const bad = await t.inject({
      method: 'POST',
      url: '/apply',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({
        ...answers({ contactEmail: 'sanne@', contactMobile: '+31 85 123 4567', purpose: 'x'.repeat(2001), items: ['payments:acceptance'], country: 'ZZ' }),
        formIssuedAt,
      }),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('There is a problem');
    for (const field of ['country', 'contactEmail', 'contactMobile', 'items', 'purpose']) expect(bad.body, field).toContain(`href="#${field}"`);
    expect(bad.body).toMatch(/VoIP/);
    expect(bad.body).toContain('aria-invalid="true"');
    expect(bad.body).toContain('value="sanne@"');
    const phone = await t.inject({
      method: 'POST',
      url: '/apply',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({ ...answers({ contactMobile: '0612', language: 'fr', items: [] }), formIssuedAt }),
    });
    expect(phone.statusCode).toBe(400);
    for (const field of ['contactMobile', 'language', 'items']) expect(phone.body, field).toContain(`href="#${field}"`);
    // Wrong types: a field sent twice arrives as an array and is refused, not crashed on.
    const twice = await t.inject({
      method: 'POST',
      url: '/apply',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({ ...answers({ legalName: ['A', 'B'] }), formIssuedAt }),
    });
    expect(twice.statusCode).toBe(400);
    expect(twice.body).toContain('href="#legalName"');
    // The same checks at the final step: nothing saved.
    const submit = await t.inject({
      method: 'POST',
      url: '/apply/submit',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({ ...answers({ contactMobile: '+31851234567' }), formIssuedAt }),
    });
    expect(submit.statusCode).toBe(400);
    expect(await count()).toBe(before);
  });

  it('refuses bots: honeypot filled, form sent back too fast, forged form time', async () => {
    const clientIp = nextIp();
    const before = await count();
    const formIssuedAt = await start(clientIp);
    const honeypot = await t.inject({
      method: 'POST',
      url: '/apply/submit',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({ ...answers({ website: 'http://spam.example' }), formIssuedAt }),
    });
    expect(honeypot.statusCode).toBe(400);
    const tooFast = await t.inject({
      method: 'POST',
      url: '/apply/submit',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM, accept: 'application/json' },
      payload: encode({ ...answers(), formIssuedAt }),
    });
    expect(tooFast.statusCode).toBe(400);
    expect(tooFast.json().code).toBe('intake/too_fast');
    t.clock.advance(10_000);
    const forged = await t.inject({
      method: 'POST',
      url: '/apply/submit',
      remoteAddress: clientIp,
      headers: { 'content-type': FORM },
      payload: encode({ ...answers(), formIssuedAt: `${Date.now() - 60_000}.${'0'.repeat(64)}` }),
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('expired');
    expect(await count()).toBe(before);
  });

  it('limits submissions per client IP per hour (PostgreSQL counter), and lets the next hour in', async () => {
    // Start just after an hour boundary, so the fixed window cannot roll over halfway through.
    t.clock.set(new Date(Math.ceil(t.clock.now().getTime() / 3600_000) * 3600_000 + 60_000));
    const clientIp = nextIp();
    const results: number[] = [];
    for (let i = 0; i < 7; i++) results.push((await apply(clientIp)).statusCode);
    expect(results).toEqual([303, 303, 303, 303, 303, 303, 429]);
    const limited = await apply(clientIp);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await apply(nextIp())).statusCode).toBe(303);
    t.clock.advance(3600_000);
    expect((await apply(clientIp)).statusCode).toBe(303);
    const rows = await t.prisma.intakeRateLimit.findMany();
    expect(JSON.stringify(rows)).not.toContain(clientIp);
  });
});

describe('the intake is not a mail cannon', () => {
  const DAY = 86_400_000;
  /** Just after midnight UTC, so the daily window cannot roll over halfway through a test. */
  const startOfNextDay = () => t.clock.set(new Date(Math.ceil(t.clock.now().getTime() / DAY) * DAY + 60_000));
  const code = (res: { statusCode: number; body: string }) => [res.statusCode, res.statusCode === 303 ? null : (JSON.parse(res.body) as { code: string }).code];

  it('sends at most INTAKE_PER_EMAIL_PER_DAY (3) applications to one address a day, however it is spelled, from any network', async () => {
    startOfNextDay();
    const local = `mailbox${Date.now()}`;
    const spellings = [`${local}@example.nl`, `${local.toUpperCase()}@EXAMPLE.NL`, `${local}+again@example.nl`, `${local}+more@example.nl`];
    const results = [];
    for (const email of spellings) results.push(code(await apply(nextIp(), { contactEmail: email }, 'application/json')));
    expect(results).toEqual([
      [303, null],
      [303, null],
      [303, null],
      [429, 'intake/email_rate_limited'],
    ]);
    t.clock.advance(DAY);
    expect(code(await apply(nextIp(), { contactEmail: spellings[0] }, 'application/json'))).toEqual([303, null]);
    expect(JSON.stringify(await t.prisma.intakeRateLimit.findMany())).not.toContain(local);
  });

  it('accepts at most INTAKE_PER_REGISTRATION_PER_DAY (5) applications naming one registration number a day', async () => {
    startOfNextDay();
    const registrationNumber = `9${String(Date.now()).slice(-7)}`;
    const results = [];
    for (let i = 0; i < 6; i++)
      results.push(
        code(
          await apply(
            nextIp(),
            { registrationNumber: i % 2 ? registrationNumber : `${registrationNumber.slice(0, 4)} ${registrationNumber.slice(4)}` },
            'application/json',
          ),
        ),
      );
    expect(results.slice(0, 5).every(([status]) => status === 303)).toBe(true);
    expect(results[5]).toEqual([429, 'intake/registration_rate_limited']);
    expect(await t.prisma.partner.count({ where: { registrationNumber } })).toBe(1);
    expect(JSON.stringify(await t.prisma.intakeRateLimit.findMany())).not.toContain(registrationNumber);
  });

  it('accepts a filled-in form once: a replay, or the same form sent twice at once, saves one request', async () => {
    const clientIp = nextIp();
    const fields = await filledIn(clientIp);
    const before = await count();
    expect((await send(clientIp, fields)).statusCode).toBe(303);
    const replay = await send(nextIp(), fields, 'application/json');
    expect([replay.statusCode, replay.json().code]).toEqual([400, 'intake/form_already_sent']);
    expect(await count()).toBe(before + 1);

    const twice = await filledIn(clientIp);
    const both = await Promise.all([send(clientIp, twice), send(nextIp(), twice)]);
    expect(both.map((r) => r.statusCode).sort()).toEqual([303, 400]);
    expect(await count()).toBe(before + 2);
  });
});

describe('the partner status page', () => {
  async function applied() {
    const sent = await apply(nextIp());
    expect(sent.statusCode).toBe(303);
    const path = (sent.headers.location as string).replace('/confirmation', '');
    const reference = /data-testid="reference">([^<]+)</.exec((await t.inject({ method: 'GET', url: path })).body)![1];
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { reference } });
    return { path, id: row.id, reference };
  }

  it('is reachable only by the link', async () => {
    const { path } = await applied();
    const token = path.split('/')[2];
    const altered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const bad of [`/requests/${altered}`, '/requests/short', `/requests/${token}x`]) {
      const res = await t.inject({ method: 'GET', url: bad, headers: { accept: 'text/html' } });
      expect(res.statusCode, bad).toBe(404);
      expect(res.body).not.toContain('data-testid="reference"');
    }
  });

  it('lets the partner withdraw after a confirmation step', async () => {
    const { path, id } = await applied();
    const confirm = await t.inject({ method: 'GET', url: `${path}/withdraw` });
    // The application was made in Dutch: the partner's pages speak Dutch.
    expect(confirm.body).toContain('<html lang="nl"');
    expect(confirm.body).toContain('Aanvraag intrekken');
    const done = await t.inject({ method: 'POST', url: `${path}/withdraw`, headers: { 'content-type': FORM }, payload: encode({ reason: 'Plans changed' }) });
    expect(done.statusCode).toBe(303);
    const page = await t.inject({ method: 'GET', url: done.headers.location as string });
    expect(page.body).toContain('data-state="withdrawn"');
    expect(page.body).not.toContain('/withdraw"');
    const again = await t.inject({ method: 'POST', url: `${path}/withdraw`, headers: { 'content-type': FORM, accept: 'application/json' }, payload: '' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('onboarding/invalid_transition');
    expect(await t.prisma.auditEvent.count({ where: { subjectId: id, action: 'onboarding.withdrawn', actorType: 'partner_contact' } })).toBe(1);
  });

  it('shows the requested changes and takes the changed application back into the queue', async () => {
    const { path, id } = await applied();
    expect((await t.inject({ method: 'GET', url: `${path}/edit` })).headers.location).toBe(path);
    const { OnboardingService } = await import('../src/onboarding/onboarding.service.js');
    const { OnboardingReviewService } = await import('../src/onboarding/onboarding-review.service.js');
    const onboarding = t.app.get(OnboardingService);
    const review = t.app.get(OnboardingReviewService);
    const staff = {
      correlationId: 'test-corr-0001',
      clientIp: null,
      userAgent: null,
      actor: { type: 'staff' as const, id: '00000000-0000-4000-8000-000000000001' },
    };
    await review.startReview(staff, id);
    await review.requestChanges(staff, id, 'Please start with Acceptance only.');
    const page = await t.inject({ method: 'GET', url: path });
    expect(page.body).toContain('Please start with Acceptance only.');
    expect(page.body).toContain(`${path}/edit`);
    const form = await t.inject({ method: 'GET', url: `${path}/edit` });
    const version = hidden(form.body, 'version')[0];
    const invalid = await t.inject({
      method: 'POST',
      url: `${path}/edit`,
      headers: { 'content-type': FORM },
      payload: encode({ version, purpose: 'short', items: [] }),
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('href="#purpose"');
    expect(invalid.body).toContain('href="#items"');
    const sent = await t.inject({
      method: 'POST',
      url: `${path}/edit`,
      headers: { 'content-type': FORM },
      payload: encode({ version, purpose: 'Our lunch app, first in Acceptance as you asked.', items: ['business:acceptance'] }),
    });
    expect(sent.statusCode).toBe(303);
    const after = await onboarding.get(id);
    expect(after).toMatchObject({ state: 'submitted', items: [expect.objectContaining({ apiKey: 'business', environment: 'acceptance' })] });
    // A stale form (the old version) is refused.
    const stale = await t.inject({
      method: 'POST',
      url: `${path}/edit`,
      headers: { 'content-type': FORM, accept: 'application/json' },
      payload: encode({ version, purpose: 'Our lunch app, first in Acceptance as you asked.', items: ['business:acceptance'] }),
    });
    expect(stale.statusCode).toBe(409);
  });
});
