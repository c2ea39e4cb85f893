import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';

let t: TestApp;
let creator: StaffLogin;
let reviewer: StaffLogin;
let viewer: StaffLogin;

beforeAll(async () => {
  t = await startTestApp();
  [creator, reviewer, viewer] = await Promise.all([
    createStaffWithSession(t, { role: 'reviewer', name: 'Rita Creator' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Ravi Reviewer' }),
    createStaffWithSession(t, { role: 'viewer', name: 'Vera Viewer' }),
  ]);
});
afterAll(() => t.close());

const FORM = 'application/x-www-form-urlencoded';
const html = (s: StaffLogin) => ({ cookie: s.headers.cookie, accept: 'text/html' });
const page = (url: string, as: StaffLogin) => t.inject({ method: 'GET', url, headers: html(as) });
function form(url: string, as: StaffLogin, fields: Record<string, string | string[]>, csrf = as.headers['x-csrf-token']) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...fields, _csrf: csrf })) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return t.inject({ method: 'POST', url, headers: { ...html(as), 'content-type': FORM }, payload: p.toString() });
}

let n = 0;
function answers(over: Record<string, string | string[]> = {}) {
  n += 1;
  return {
    legalName: `Kantine Console ${n} B.V.`,
    registrationNumber: `4400${n}111`,
    country: 'NL',
    businessRepresentative: 'P. Jansen',
    contactName: 'Kees Kok',
    contactEmail: `kees${n}@kantine.example`,
    contactMobile: '+31611122233',
    language: 'en',
    items: ['cafetariaplan:acceptance', 'cafetariaplan:production'],
    purpose: "Canteen tills read the employees' cafetaria budget balance.",
    ...over,
  };
}

async function createThroughConsole(over: Record<string, string | string[]> = {}) {
  const res = await form('/console/requests/new', creator, answers(over));
  expect(res.statusCode, res.body.slice(0, 1500)).toBe(303);
  const id = /\/console\/requests\/([0-9a-f-]{36})\?done=created/.exec(res.headers.location as string)![1];
  return id;
}

describe("console: requests on a partner's behalf", () => {
  it('creates a request from the console form, with GOV.UK-style errors first', async () => {
    const blank = await page('/console/requests/new', creator);
    expect(blank.statusCode).toBe(200);
    expect(blank.body).toContain('name="_csrf"');
    const bad = await form('/console/requests/new', creator, answers({ contactMobile: '+31851234567', items: [] }));
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('href="#contactMobile"');
    expect(bad.body).toContain('href="#items"');
    const noCsrf = await form('/console/requests/new', creator, answers(), 'wrong');
    expect(noCsrf.statusCode).toBe(403);
    expect((await page('/console/requests/new', viewer)).statusCode).toBe(403);

    const id = await createThroughConsole();
    const detail = await page(`/console/requests/${id}?done=created`, creator);
    expect(detail.body).toContain('Request created.');
    expect(detail.body).toContain('entered by staff');
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } });
    expect(row.createdByStaffId).toBe(creator.staffId);
  });
});

describe('console: the queue', () => {
  it('lists by state with search and filters, and links to each request', async () => {
    const id = await createThroughConsole({ legalName: 'Queue Findable Canteen B.V.', items: ['communities:production'] });
    const reference = (await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } })).reference;
    const all = await page('/console/requests', viewer);
    expect(all.statusCode).toBe(200);
    expect(all.body).toContain(`href="/console/requests/${id}"`);
    expect(all.body).not.toContain('New request on behalf');
    const byRef = await page(`/console/requests?q=${reference}`, viewer);
    expect(byRef.body).toContain(reference);
    expect(byRef.body).toContain('1 matching');
    const filtered = await page('/console/requests?q=queue+findable&state=submitted&api=communities&environment=production', viewer);
    expect(filtered.body).toContain(reference);
    const none = await page('/console/requests?q=queue+findable&environment=acceptance', viewer);
    expect(none.body).toContain('No requests match.');
    const junk = await page('/console/requests?state=%3Cscript%3E&api=../../etc&page=-4', viewer);
    expect(junk.statusCode).toBe(200);
    expect(junk.body).not.toContain('<script>');
    // Anonymous: sent to sign in (a browser) or 401, never the queue.
    const anonymous = await t.inject({ method: 'GET', url: '/console/requests', headers: { accept: 'text/html' } });
    expect([303, 401]).toContain(anonymous.statusCode);
    expect(anonymous.body).not.toContain(reference);
    expect((await t.inject({ method: 'GET', url: '/console/requests', headers: { accept: 'application/json' } })).statusCode).toBe(401);
  });
});

describe('console: the request page', () => {
  it('warns when an application names a new technical contact for a partner we already know', async () => {
    const first = answers();
    const known = await form('/console/requests/new', creator, first);
    const knownId = /requests\/([0-9a-f-]{36})/.exec(known.headers.location as string)![1];
    expect((await page(`/console/requests/${knownId}`, reviewer)).body).not.toContain('new-contact-warning');
    const same = await form('/console/requests/new', creator, { ...first });
    const sameId = /requests\/([0-9a-f-]{36})/.exec(same.headers.location as string)![1];
    expect((await page(`/console/requests/${sameId}`, reviewer)).body).not.toContain('new-contact-warning');
    const stranger = await form('/console/requests/new', creator, {
      ...first,
      contactName: 'Someone Else',
      contactEmail: 'someone@elsewhere.example',
      contactMobile: '+31612349876',
    });
    const strangerId = /requests\/([0-9a-f-]{36})/.exec(stranger.headers.location as string)![1];
    const body = (await page(`/console/requests/${strangerId}`, reviewer)).body;
    expect(body).toContain('data-testid="new-contact-warning"');
    expect(body).toContain('Someone Else');
    expect(body).toContain('Kees Kok');
  });

  it('shows a viewer everything but no actions', async () => {
    const id = await createThroughConsole();
    const res = await page(`/console/requests/${id}`, viewer);
    expect(res.statusCode).toBe(200);
    for (const text of ['Kees Kok', 'P. Jansen', 'Cafetariaplan API', 'data-environment="production"', 'onboarding.submitted', 'Rita Creator'])
      expect(res.body, text).toContain(text);
    expect(res.body).not.toContain('/start-review"');
    expect((await form(`/console/requests/${id}/start-review`, viewer, {})).statusCode).toBe(403);
  });

  it('walks a reviewer through start review, approvals (four-eyes, Acceptance first) and shows the history', async () => {
    const id = await createThroughConsole();
    const started = await form(`/console/requests/${id}/start-review`, reviewer, { version: '1' });
    expect(started.statusCode).toBe(303);
    expect(started.headers.location).toBe(`/console/requests/${id}?done=review_started`);

    const asCreator = await page(`/console/requests/${id}`, creator);
    expect(asCreator.body).toMatch(/disabled aria-describedby="approve-acceptance-why"/);
    expect(asCreator.body).toContain('four-eyes');
    const refused = await form(`/console/requests/${id}/approve`, creator, { environment: 'acceptance', version: '2' });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('data-code="onboarding/four_eyes"');

    const asReviewer = await page(`/console/requests/${id}`, reviewer);
    expect(asReviewer.body).toMatch(/<button type="submit">Approve <span class="badge badge-acceptance"/);
    expect(asReviewer.body).toContain('Approve Acceptance first.');
    const prodFirst = await form(`/console/requests/${id}/approve`, reviewer, { environment: 'production', version: '2' });
    expect(prodFirst.statusCode).toBe(409);
    expect(prodFirst.body).toContain('data-code="onboarding/acceptance_first"');

    expect((await form(`/console/requests/${id}/approve`, reviewer, { environment: 'acceptance', version: '2' })).statusCode).toBe(303);
    const stale = await form(`/console/requests/${id}/approve`, reviewer, { environment: 'production', version: '2' });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('data-code="onboarding/conflict"');
    expect((await form(`/console/requests/${id}/approve`, reviewer, { environment: 'production', version: '3' })).statusCode).toBe(303);

    const done = await page(`/console/requests/${id}?done=approved_production`, viewer);
    expect(done.body).toContain('Production approved.');
    expect(done.body).toContain('data-state="approved"');
    expect(done.body).toContain('data-approval="acceptance"');
    expect(done.body).toContain('data-approval="production"');
    expect(done.body).toContain('Ravi Reviewer');
    for (const action of ['onboarding.review_started', 'onboarding.approved']) expect(done.body).toContain(action);
    expect(done.body).toContain('in_review → approved');
  });

  it('rejects with a reason and requests changes with a note, insisting on both', async () => {
    const a = await createThroughConsole();
    await form(`/console/requests/${a}/start-review`, reviewer, {});
    const empty = await form(`/console/requests/${a}/reject`, reviewer, { reason: ' ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('href="#reason"');
    expect((await form(`/console/requests/${a}/reject`, reviewer, { reason: 'Not an employer we can serve.' })).statusCode).toBe(303);
    expect((await page(`/console/requests/${a}`, viewer)).body).toContain('Not an employer we can serve.');

    const b = await createThroughConsole();
    await form(`/console/requests/${b}/start-review`, reviewer, {});
    const noNote = await form(`/console/requests/${b}/request-changes`, reviewer, {});
    expect(noNote.statusCode).toBe(400);
    expect(noNote.body).toContain('href="#note"');
    expect((await form(`/console/requests/${b}/request-changes`, reviewer, { note: 'Ask for Acceptance only first.' })).statusCode).toBe(303);
    const again = await form(`/console/requests/${b}/reject`, reviewer, { reason: 'Too late for this one.' });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('data-code="onboarding/invalid_transition"');

    const c = await createThroughConsole();
    expect((await form(`/console/requests/${c}/withdraw`, reviewer, { reason: 'Partner called to cancel' })).statusCode).toBe(303);
    expect((await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id: c } })).state).toBe('withdrawn');
    expect((await page('/console/requests/00000000-0000-4000-8000-000000000000', viewer)).statusCode).toBe(404);
  });
});
