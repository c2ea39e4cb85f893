import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnboardingReviewService } from '../src/onboarding/onboarding-review.service.js';
import { OnboardingService } from '../src/onboarding/onboarding.service.js';
import { REFERENCE_PATTERN } from '../src/onboarding/onboarding.tokens.js';
import { startTestApp, type TestApp } from './support/app.js';
import { applicationForm, encodeForm as encode, uniqueClientIp, uniqueTag, uniqueRegistrationNumber, type FormFields } from './support/onboarding.factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { INTAKE_RATE_LIMIT_PER_HOUR: '6' } });
});
afterAll(() => t.close());

const FORM = 'application/x-www-form-urlencoded';
const HOUR = 3600_000;
const DAY = 86_400_000;

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

/** The applicant's answers: a new partner and contact each call, the honeypot left empty. */
const answers = (over: FormFields = {}): FormFields => applicationForm({ website: '', ...over });

async function start(clientIp: string) {
  const page = await t.inject({ method: 'GET', url: '/apply', remoteAddress: clientIp });
  expect(page.statusCode).toBe(200);
  return hidden(page.body, 'formIssuedAt')[0];
}

/** POST /apply: the form step (check your answers, or the form again with errors). */
const answer = (clientIp: string, fields: FormFields) =>
  t.inject({ method: 'POST', url: '/apply', remoteAddress: clientIp, headers: { 'content-type': FORM }, payload: encode(fields) });

/** Form -> check your answers -> (time passes): the fields the final "send" posts. */
async function filledIn(clientIp: string, over: FormFields = {}) {
  const check = await answer(clientIp, { ...answers(over), formIssuedAt: await start(clientIp) });
  expect(check.statusCode, check.body.slice(0, 2000)).toBe(200);
  t.clock.advance(5000);
  const fields: FormFields = { formIssuedAt: hidden(check.body, 'formIssuedAt')[0], website: '' };
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

const send = (clientIp: string, fields: FormFields, accept = 'text/html') =>
  t.inject({ method: 'POST', url: '/apply/submit', remoteAddress: clientIp, headers: { 'content-type': FORM, accept }, payload: encode(fields) });

/** Form -> check your answers -> (time passes) -> send; returns the final response. */
async function apply(clientIp: string, over: FormFields = {}, accept = 'text/html') {
  return send(clientIp, await filledIn(clientIp, over), accept);
}

/** An application sent from a client IP of its own, and what its confirmation page shows. */
async function confirmed() {
  const clientIp = uniqueClientIp();
  const sent = await apply(clientIp);
  expect(sent.statusCode, sent.body.slice(0, 1500)).toBe(303);
  const location = sent.headers.location as string;
  const confirmation = await t.inject({ method: 'GET', url: location });
  const reference = /data-testid="reference">([^<]+)</.exec(confirmation.body)?.[1] ?? '';
  const statusUrl = /data-testid="status-link">([^<]+)</.exec(confirmation.body)?.[1] ?? '';
  const row = await t.prisma.onboardingRequest.findFirst({ where: { reference } });
  return { clientIp, location, confirmation, reference, statusUrl, row: row!, path: location.replace('/confirmation', ''), token: location.split('/')[2] };
}

const count = () => t.prisma.onboardingRequest.count();

describe('the public intake page', () => {
  it('offers the catalogue from the database', async () => {
    const page = await t.inject({ method: 'GET', url: '/apply' });
    for (const name of ['Business API', 'Cafetariaplan API', 'Communities API']) expect(page.body).toContain(name);
    expect(page.body).toContain('value="cafetariaplan:production"');
  });

  it('labels every field', async () => {
    const page = await t.inject({ method: 'GET', url: '/apply' });
    for (const id of ['legalName', 'registrationNumber', 'country', 'contactName', 'contactEmail', 'contactMobile', 'purpose', 'item-business-acceptance']) {
      expect(page.body, id).toMatch(new RegExp(`<label for="${id}"`));
    }
  });

  it('runs no inline script or style', async () => {
    const page = await t.inject({ method: 'GET', url: '/apply' });
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/<script>|style="/);
  });
});

describe('applying: form, check your answers, confirmation', () => {
  it('shows the answers to check, saving nothing yet', async () => {
    const clientIp = uniqueClientIp();
    const before = await count();
    const check = await answer(clientIp, { ...answers(), formIssuedAt: await start(clientIp) });
    expect(check.statusCode).toBe(200);
    expect(check.body).toContain('Check your answers');
    expect(check.body).toContain('Sanne de Boer');
    expect(check.body).toContain('data-environment="production"');
    expect(await count()).toBe(before);
  });

  it('brings the filled-in form back to change the answers', async () => {
    const clientIp = uniqueClientIp();
    const change = await answer(clientIp, { ...answers({ contactName: 'Sanne de Boer' }), formIssuedAt: await start(clientIp), action: 'change' });
    expect(change.body).toContain('value="Sanne de Boer"');
    expect(change.body).toMatch(/value="business:production" checked/);
  });

  it('confirms with a reference and the status link', async () => {
    const { location, confirmation, reference, statusUrl } = await confirmed();
    expect(location).toMatch(/^\/requests\/[A-Za-z0-9_-]{43}\/confirmation$/);
    expect(confirmation.statusCode).toBe(200);
    expect(reference).toMatch(REFERENCE_PATTERN);
    expect(statusUrl).toBe(`http://localhost:3000${location.replace('/confirmation', '')}`);
  });

  it("saves the request as submitted in the applicant's language, by no staff member, with the mobile in E.164", async () => {
    const { row } = await confirmed();
    expect(row).toMatchObject({ state: 'submitted', language: 'nl', createdByStaffId: null });
    const contact = await t.prisma.technicalContact.findUniqueOrThrow({ where: { id: row.contactId } });
    expect(contact.mobile).toBe('+31612345678');
  });

  it('audits the submission as the partner contact, from the client IP', async () => {
    const { row, clientIp } = await confirmed();
    const submitted = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: row.id, action: 'onboarding.submitted' } });
    expect(submitted).toMatchObject({ actorType: 'partner_contact', actorId: row.contactId, clientIp });
  });

  it('keeps the status token out of the logs', async () => {
    const { token } = await confirmed();
    expect(t.logs.join('\n')).not.toContain(token);
  });

  it('keeps the status token out of the audit rows', async () => {
    const { row, token } = await confirmed();
    expect(
      JSON.stringify(await t.prisma.auditEvent.findMany({ where: { subjectId: row.id } }), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toContain(token);
  });

  it('queues the receipt email with the link sealed, never in plaintext', async () => {
    const { row, token } = await confirmed();
    const receipts = await t.prisma.notification.findMany({ where: { subjectType: 'onboarding_request', subjectId: row.id } });
    expect(receipts.map((n) => n.template)).toEqual(['onboarding-received']);
    expect(JSON.stringify(receipts)).not.toContain(token);
  });

  it('shows the status page with the reference, the state and both environments', async () => {
    const { reference, statusUrl } = await confirmed();
    const status = await t.inject({ method: 'GET', url: new URL(statusUrl).pathname });
    expect(status.statusCode).toBe(200);
    expect(status.body).toContain(reference);
    expect(status.body).toContain('data-state="submitted"');
    expect(status.body).toContain('data-environment="acceptance"');
    expect(status.body).toContain('data-environment="production"');
  });
});

describe('refusing bad answers (GOV.UK-style errors, nothing saved)', () => {
  const BAD = { contactEmail: 'sanne@', contactMobile: '+31 85 123 4567', purpose: 'x'.repeat(2001), items: ['payments:acceptance'], country: 'ZZ' };
  /** The form step with the answers given, from a client IP of its own. */
  async function answered(over: FormFields, action?: string) {
    const clientIp = uniqueClientIp();
    return answer(clientIp, { ...answers(over), formIssuedAt: await start(clientIp), ...(action ? { action } : {}) });
  }

  it('links each bad field from an error summary, saving nothing', async () => {
    const before = await count();
    const bad = await answered(BAD);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('There is a problem');
    for (const field of ['country', 'contactEmail', 'contactMobile', 'items', 'purpose']) expect(bad.body, field).toContain(`href="#${field}"`);
    expect(await count()).toBe(before);
  });

  it('explains that a VoIP number will not do', async () => {
    expect((await answered(BAD)).body).toMatch(/VoIP/);
  });

  it('marks bad fields invalid and keeps what was typed', async () => {
    const bad = await answered(BAD);
    expect(bad.body).toContain('aria-invalid="true"');
    expect(bad.body).toContain('value="sanne@"');
  });

  it('refuses a short phone number, an unsupported language and no items', async () => {
    const before = await count();
    const phone = await answered({ contactMobile: '0612', language: 'fr', items: [] });
    expect(phone.statusCode).toBe(400);
    for (const field of ['contactMobile', 'language', 'items']) expect(phone.body, field).toContain(`href="#${field}"`);
    expect(await count()).toBe(before);
  });

  it('refuses a field sent twice (it arrives as a list) rather than crashing on it', async () => {
    const before = await count();
    const twice = await answered({ legalName: ['A', 'B'] });
    expect(twice.statusCode).toBe(400);
    expect(twice.body).toContain('href="#legalName"');
    expect(await count()).toBe(before);
  });

  it('makes the same checks at the final step, saving nothing', async () => {
    const clientIp = uniqueClientIp();
    const formIssuedAt = await start(clientIp);
    t.clock.advance(5000);
    const before = await count();
    const submit = await send(clientIp, { ...answers({ contactMobile: '+31851234567' }), formIssuedAt });
    expect(submit.statusCode).toBe(400);
    expect(submit.body).toContain('href="#contactMobile"');
    expect(await count()).toBe(before);
  });
});

describe('refusing bots', () => {
  it('refuses a form with the honeypot filled in, saving nothing', async () => {
    const clientIp = uniqueClientIp();
    const formIssuedAt = await start(clientIp);
    t.clock.advance(5000);
    const before = await count();
    expect((await send(clientIp, { ...answers({ website: 'http://spam.example' }), formIssuedAt })).statusCode).toBe(400);
    expect(await count()).toBe(before);
  });

  it('refuses a form sent back too fast, saving nothing', async () => {
    const clientIp = uniqueClientIp();
    const formIssuedAt = await start(clientIp);
    const before = await count();
    const tooFast = await send(clientIp, { ...answers(), formIssuedAt }, 'application/json');
    expect(tooFast.statusCode).toBe(400);
    expect(tooFast.json().code).toBe('intake/too_fast');
    expect(await count()).toBe(before);
  });

  it('refuses a forged form time as expired, saving nothing', async () => {
    const clientIp = uniqueClientIp();
    await start(clientIp);
    t.clock.advance(10_000);
    const before = await count();
    const forged = await send(clientIp, { ...answers(), formIssuedAt: `${Date.now() - 60_000}.${'0'.repeat(64)}` });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('expired');
    expect(await count()).toBe(before);
  });
});

describe('the per-IP limit (a PostgreSQL counter per hour)', () => {
  /** Just after an hour boundary, so the fixed window cannot roll over halfway through a test. */
  const startOfNextHour = () => t.clock.set(new Date(Math.ceil(t.clock.now().getTime() / HOUR) * HOUR + 60_000));
  /** A client IP that has sent INTAKE_RATE_LIMIT_PER_HOUR (6) applications this hour. */
  async function ipAtLimit() {
    startOfNextHour();
    const clientIp = uniqueClientIp();
    for (let i = 0; i < 6; i++) expect((await apply(clientIp)).statusCode).toBe(303);
    return clientIp;
  }

  it('refuses a client IP over INTAKE_RATE_LIMIT_PER_HOUR (6), saying when to try again', async () => {
    startOfNextHour();
    const clientIp = uniqueClientIp();
    const results: number[] = [];
    for (let i = 0; i < 7; i++) results.push((await apply(clientIp)).statusCode);
    expect(results).toEqual([303, 303, 303, 303, 303, 303, 429]);
    const limited = await apply(clientIp);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('still admits another client IP', async () => {
    await ipAtLimit();
    expect((await apply(uniqueClientIp())).statusCode).toBe(303);
  });

  it('admits the client IP again the next hour', async () => {
    const clientIp = await ipAtLimit();
    t.clock.advance(HOUR);
    expect((await apply(clientIp)).statusCode).toBe(303);
  });

  it('keeps no client IP in the clear in its counters', async () => {
    const clientIp = uniqueClientIp();
    expect((await apply(clientIp)).statusCode).toBe(303);
    expect(JSON.stringify(await t.prisma.intakeRateLimit.findMany())).not.toContain(clientIp);
  });
});

describe('the intake is not a mail cannon', () => {
  /** Just after midnight UTC, so the daily window cannot roll over halfway through a test. */
  const startOfNextDay = () => t.clock.set(new Date(Math.ceil(t.clock.now().getTime() / DAY) * DAY + 60_000));
  const code = (res: { statusCode: number; body: string }) => [res.statusCode, res.statusCode === 303 ? null : (JSON.parse(res.body) as { code: string }).code];
  /** One mailbox spelled four ways: as is, in capitals, and with two different `+tags`. */
  const spellingsOf = (local: string) => [`${local}@example.nl`, `${local.toUpperCase()}@EXAMPLE.NL`, `${local}+again@example.nl`, `${local}+more@example.nl`];
  /** One registration number spelled two ways: as is, and with a space. */
  const spellingOf = (registrationNumber: string, i: number) =>
    i % 2 ? registrationNumber : `${registrationNumber.slice(0, 4)} ${registrationNumber.slice(4)}`;

  it('sends at most INTAKE_PER_EMAIL_PER_DAY (3) applications to one address a day, however it is spelled, from any network', async () => {
    startOfNextDay();
    const results = [];
    for (const email of spellingsOf(`mailbox${uniqueTag()}`)) results.push(code(await apply(uniqueClientIp(), { contactEmail: email }, 'application/json')));
    expect(results).toEqual([
      [303, null],
      [303, null],
      [303, null],
      [429, 'intake/email_rate_limited'],
    ]);
  });

  it('admits the address again the next day', async () => {
    startOfNextDay();
    const spellings = spellingsOf(`mailbox${uniqueTag()}`);
    for (const email of spellings.slice(0, 3)) expect(code(await apply(uniqueClientIp(), { contactEmail: email }, 'application/json'))).toEqual([303, null]);
    t.clock.advance(DAY);
    expect(code(await apply(uniqueClientIp(), { contactEmail: spellings[0] }, 'application/json'))).toEqual([303, null]);
  });

  it('keeps no address in the clear in its counters', async () => {
    const local = `mailbox${uniqueTag()}`;
    expect((await apply(uniqueClientIp(), { contactEmail: `${local}@example.nl` })).statusCode).toBe(303);
    expect(JSON.stringify(await t.prisma.intakeRateLimit.findMany())).not.toContain(local);
  });

  it('accepts at most INTAKE_PER_REGISTRATION_PER_DAY (5) applications naming one registration number a day, however it is spelled', async () => {
    startOfNextDay();
    const registrationNumber = uniqueRegistrationNumber();
    const results = [];
    for (let i = 0; i < 6; i++)
      results.push(code(await apply(uniqueClientIp(), { registrationNumber: spellingOf(registrationNumber, i) }, 'application/json')));
    expect(results.slice(0, 5).every(([status]) => status === 303)).toBe(true);
    expect(results[5]).toEqual([429, 'intake/registration_rate_limited']);
  });

  it('records applications naming one registration number, however it is spelled, under one partner', async () => {
    const registrationNumber = uniqueRegistrationNumber();
    for (let i = 0; i < 2; i++) await apply(uniqueClientIp(), { registrationNumber: spellingOf(registrationNumber, i) });
    expect(await t.prisma.partner.count({ where: { registrationNumber } })).toBe(1);
  });

  it('keeps no registration number in the clear in its counters', async () => {
    const registrationNumber = uniqueRegistrationNumber();
    expect((await apply(uniqueClientIp(), { registrationNumber })).statusCode).toBe(303);
    expect(JSON.stringify(await t.prisma.intakeRateLimit.findMany())).not.toContain(registrationNumber);
  });

  it('accepts a filled-in form once: a replay is refused and saves nothing', async () => {
    const clientIp = uniqueClientIp();
    const fields = await filledIn(clientIp);
    const before = await count();
    expect((await send(clientIp, fields)).statusCode).toBe(303);
    const replay = await send(uniqueClientIp(), fields, 'application/json');
    expect([replay.statusCode, replay.json().code]).toEqual([400, 'intake/form_already_sent']);
    expect(await count()).toBe(before + 1);
  });

  it('saves one request when the same form is sent twice at once', async () => {
    const clientIp = uniqueClientIp();
    const twice = await filledIn(clientIp);
    const before = await count();
    const both = await Promise.all([send(clientIp, twice), send(uniqueClientIp(), twice)]);
    expect(both.map((r) => r.statusCode).sort()).toEqual([303, 400]);
    expect(await count()).toBe(before + 1);
  });
});

describe('the partner status page', () => {
  it('is reachable only by the link', async () => {
    const { token } = await confirmed();
    const altered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const bad of [`/requests/${altered}`, '/requests/short', `/requests/${token}x`]) {
      const res = await t.inject({ method: 'GET', url: bad, headers: { accept: 'text/html' } });
      expect(res.statusCode, bad).toBe(404);
      expect(res.body).not.toContain('data-testid="reference"');
    }
  });
});

describe('withdrawal on the status page', () => {
  const withdrawals = (id: string) => t.prisma.auditEvent.count({ where: { subjectId: id, action: 'onboarding.withdrawn', actorType: 'partner_contact' } });
  async function withdrawn() {
    const { path, row } = await confirmed();
    const done = await t.inject({ method: 'POST', url: `${path}/withdraw`, headers: { 'content-type': FORM }, payload: encode({ reason: 'Plans changed' }) });
    return { path, id: row.id, done };
  }

  it("asks to confirm, in the application's language", async () => {
    const { path } = await confirmed();
    const confirm = await t.inject({ method: 'GET', url: `${path}/withdraw` });
    // The application was made in Dutch: the partner's pages speak Dutch.
    expect(confirm.body).toContain('<html lang="nl"');
    expect(confirm.body).toContain('Aanvraag intrekken');
  });

  it('withdraws, after which the page offers no withdrawal', async () => {
    const { done } = await withdrawn();
    expect(done.statusCode).toBe(303);
    const page = await t.inject({ method: 'GET', url: done.headers.location as string });
    expect(page.body).toContain('data-state="withdrawn"');
    expect(page.body).not.toContain('/withdraw"');
  });

  it('audits the withdrawal as the partner contact', async () => {
    const { id } = await withdrawn();
    expect(await withdrawals(id)).toBe(1);
  });

  it('refuses a second withdrawal', async () => {
    const { path, id } = await withdrawn();
    const again = await t.inject({ method: 'POST', url: `${path}/withdraw`, headers: { 'content-type': FORM, accept: 'application/json' }, payload: '' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('onboarding/invalid_transition');
    expect(await withdrawals(id)).toBe(1);
  });
});

describe('changes requested, on the status page', () => {
  const CHANGED = { purpose: 'Our lunch app, first in Acceptance as you asked.', items: ['business:acceptance'] };
  /** An application a reviewer (through the service) asked to change. */
  async function changesRequested() {
    const { path, row } = await confirmed();
    const staff = {
      correlationId: 'test-corr-0001',
      clientIp: null,
      userAgent: null,
      actor: { type: 'staff' as const, id: '00000000-0000-4000-8000-000000000001' },
    };
    const review = t.app.get(OnboardingReviewService);
    await review.startReview(staff, row.id);
    await review.requestChanges(staff, row.id, 'Please start with Acceptance only.');
    return { path, id: row.id };
  }
  const editVersion = async (path: string) => hidden((await t.inject({ method: 'GET', url: `${path}/edit` })).body, 'version')[0];
  const edit = (path: string, fields: FormFields, accept = 'text/html') =>
    t.inject({ method: 'POST', url: `${path}/edit`, headers: { 'content-type': FORM, accept }, payload: encode(fields) });

  it('sends the edit page back to the status page while no changes are requested', async () => {
    const { path } = await confirmed();
    expect((await t.inject({ method: 'GET', url: `${path}/edit` })).headers.location).toBe(path);
  });

  it("shows the reviewer's note and a link to change the application", async () => {
    const { path } = await changesRequested();
    const page = await t.inject({ method: 'GET', url: path });
    expect(page.body).toContain('Please start with Acceptance only.');
    expect(page.body).toContain(`${path}/edit`);
  });

  it('refuses a change without a purpose or items, linking both from the error summary', async () => {
    const { path } = await changesRequested();
    const invalid = await edit(path, { version: await editVersion(path), purpose: 'short', items: [] });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('href="#purpose"');
    expect(invalid.body).toContain('href="#items"');
  });

  it('takes the changed application back into the queue', async () => {
    const { path, id } = await changesRequested();
    const sent = await edit(path, { version: await editVersion(path), ...CHANGED });
    expect(sent.statusCode).toBe(303);
    expect(await t.app.get(OnboardingService).get(id)).toMatchObject({
      state: 'submitted',
      items: [expect.objectContaining({ apiKey: 'business', environment: 'acceptance' })],
    });
  });

  it('refuses a stale form (of the version before the change)', async () => {
    const { path } = await changesRequested();
    const version = await editVersion(path);
    await edit(path, { version, ...CHANGED });
    const stale = await edit(path, { version, ...CHANGED }, 'application/json');
    expect(stale.statusCode).toBe(409);
  });
});
