import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { applicationForm, encodeForm, uniqueTag, type FormFields } from './support/onboarding.factories.js';

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
function form(url: string, as: StaffLogin, fields: FormFields, csrf = as.headers['x-csrf-token']) {
  return t.inject({ method: 'POST', url, headers: { ...html(as), 'content-type': FORM }, payload: encodeForm({ ...fields, _csrf: csrf }) });
}

/** What staff type into the console form for a partner: a new partner and contact each call. */
function answers(over: FormFields = {}): FormFields {
  const tag = uniqueTag();
  return applicationForm({
    legalName: `Kantine Console ${tag} B.V.`,
    businessRepresentative: 'P. Jansen',
    contactName: 'Kees Kok',
    contactEmail: `kees-${tag}@kantine.example`,
    contactMobile: '+31611122233',
    language: 'en',
    items: ['cafetariaplan:acceptance', 'cafetariaplan:production'],
    purpose: "Canteen tills read the employees' cafetaria budget balance.",
    ...over,
  });
}

const idFrom = (res: { headers: Record<string, unknown> }) => /requests\/([0-9a-f-]{36})/.exec(res.headers.location as string)![1];

async function createThroughConsole(over: FormFields = {}) {
  const res = await form('/console/requests/new', creator, answers(over));
  expect(res.statusCode, res.body.slice(0, 1500)).toBe(303);
  const id = /\/console\/requests\/([0-9a-f-]{36})\?done=created/.exec(res.headers.location as string)![1];
  return id;
}

/** A request the creator entered and the reviewer started reviewing (version 2). */
async function inReview() {
  const id = await createThroughConsole();
  expect((await form(`/console/requests/${id}/start-review`, reviewer, { version: '1' })).statusCode).toBe(303);
  return id;
}

describe("console: requests on a partner's behalf", () => {
  it('offers the new-request form with a CSRF field', async () => {
    const blank = await page('/console/requests/new', creator);
    expect(blank.statusCode).toBe(200);
    expect(blank.body).toContain('name="_csrf"');
  });

  it('shows GOV.UK-style errors for a VoIP mobile and no items', async () => {
    const bad = await form('/console/requests/new', creator, answers({ contactMobile: '+31851234567', items: [] }));
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('href="#contactMobile"');
    expect(bad.body).toContain('href="#items"');
  });

  it('refuses a post without the right CSRF token', async () => {
    const noCsrf = await form('/console/requests/new', creator, answers(), 'wrong');
    expect(noCsrf.statusCode).toBe(403);
  });

  it('refuses a viewer the new-request form', async () => {
    expect((await page('/console/requests/new', viewer)).statusCode).toBe(403);
  });

  it('creates the request and says it was entered by staff', async () => {
    const id = await createThroughConsole();
    const detail = await page(`/console/requests/${id}?done=created`, creator);
    expect(detail.body).toContain('Request created.');
    expect(detail.body).toContain('entered by staff');
  });

  it('records who entered the request', async () => {
    const id = await createThroughConsole();
    const row = await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } });
    expect(row.createdByStaffId).toBe(creator.staffId);
  });
});

describe('console: the queue', () => {
  /** A Production request for the Communities API whose partner name only this test uses. */
  async function findable() {
    const tag = uniqueTag();
    const id = await createThroughConsole({ legalName: `Queue Findable ${tag} B.V.`, items: ['communities:production'] });
    const reference = (await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } })).reference;
    return { id, reference, q: `queue+findable+${tag}` };
  }

  it('lists the requests with a link to each', async () => {
    const { id } = await findable();
    const all = await page('/console/requests', viewer);
    expect(all.statusCode).toBe(200);
    expect(all.body).toContain(`href="/console/requests/${id}"`);
  });

  it('offers a viewer no button to create a request', async () => {
    await findable();
    expect((await page('/console/requests', viewer)).body).not.toContain('New request on behalf');
  });

  it('finds a request by its reference', async () => {
    const { reference } = await findable();
    const byRef = await page(`/console/requests?q=${reference}`, viewer);
    expect(byRef.body).toContain(reference);
    expect(byRef.body).toContain('1 matching');
  });

  it('filters by state, API and environment', async () => {
    const { reference, q } = await findable();
    const filtered = await page(`/console/requests?q=${q}&state=submitted&api=communities&environment=production`, viewer);
    expect(filtered.body).toContain(reference);
  });

  it('says when no requests match', async () => {
    const { q } = await findable();
    const none = await page(`/console/requests?q=${q}&environment=acceptance`, viewer);
    expect(none.body).toContain('No requests match.');
  });

  it('survives junk in the filters without echoing it', async () => {
    const junk = await page('/console/requests?state=%3Cscript%3E&api=../../etc&page=-4', viewer);
    expect(junk.statusCode).toBe(200);
    expect(junk.body).not.toContain('<script>');
  });

  it('sends an anonymous browser to sign in (or answers 401), never showing the queue', async () => {
    const { reference } = await findable();
    const anonymous = await t.inject({ method: 'GET', url: '/console/requests', headers: { accept: 'text/html' } });
    expect([303, 401]).toContain(anonymous.statusCode);
    expect(anonymous.body).not.toContain(reference);
  });

  it('answers 401 to an anonymous JSON client', async () => {
    expect((await t.inject({ method: 'GET', url: '/console/requests', headers: { accept: 'application/json' } })).statusCode).toBe(401);
  });
});

describe('console: a new technical contact for a known partner', () => {
  it('gives no warning for the first contact of a new partner', async () => {
    const known = await form('/console/requests/new', creator, answers());
    expect((await page(`/console/requests/${idFrom(known)}`, reviewer)).body).not.toContain('new-contact-warning');
  });

  it('gives no warning when the known contact applies again', async () => {
    const first = answers();
    await form('/console/requests/new', creator, first);
    const same = await form('/console/requests/new', creator, { ...first });
    expect((await page(`/console/requests/${idFrom(same)}`, reviewer)).body).not.toContain('new-contact-warning');
  });

  it('warns when an application names a new contact for a partner we already know, naming both', async () => {
    const first = answers();
    await form('/console/requests/new', creator, first);
    const stranger = await form('/console/requests/new', creator, {
      ...first,
      contactName: 'Someone Else',
      contactEmail: 'someone@elsewhere.example',
      contactMobile: '+31612349876',
    });
    const body = (await page(`/console/requests/${idFrom(stranger)}`, reviewer)).body;
    expect(body).toContain('data-testid="new-contact-warning"');
    expect(body).toContain('Someone Else');
    expect(body).toContain('Kees Kok');
  });
});

describe('console: what a viewer sees', () => {
  it('shows a viewer the whole request', async () => {
    const id = await createThroughConsole();
    const res = await page(`/console/requests/${id}`, viewer);
    expect(res.statusCode).toBe(200);
    for (const text of ['Kees Kok', 'P. Jansen', 'Cafetariaplan API', 'data-environment="production"', 'onboarding.submitted', 'Rita Creator'])
      expect(res.body, text).toContain(text);
  });

  it('offers a viewer no actions', async () => {
    const id = await createThroughConsole();
    expect((await page(`/console/requests/${id}`, viewer)).body).not.toContain('/start-review"');
  });

  it('refuses a viewer starting a review', async () => {
    const id = await createThroughConsole();
    expect((await form(`/console/requests/${id}/start-review`, viewer, {})).statusCode).toBe(403);
  });
});

describe('console: review and approval', () => {
  it('starts a review and says so', async () => {
    const id = await createThroughConsole();
    const started = await form(`/console/requests/${id}/start-review`, reviewer, { version: '1' });
    expect(started.statusCode).toBe(303);
    expect(started.headers.location).toBe(`/console/requests/${id}?done=review_started`);
  });

  it('disables approval for the creator, saying why (four-eyes)', async () => {
    const id = await inReview();
    const asCreator = await page(`/console/requests/${id}`, creator);
    expect(asCreator.body).toMatch(/disabled aria-describedby="approve-acceptance-why"/);
    expect(asCreator.body).toContain('four-eyes');
  });

  it("refuses the creator's forced approval", async () => {
    const id = await inReview();
    const refused = await form(`/console/requests/${id}/approve`, creator, { environment: 'acceptance', version: '2' });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('data-code="onboarding/four_eyes"');
  });

  it('offers the reviewer Acceptance approval, Acceptance first', async () => {
    const id = await inReview();
    const asReviewer = await page(`/console/requests/${id}`, reviewer);
    expect(asReviewer.body).toMatch(/<button type="submit">Approve <span class="badge badge-acceptance"/);
    expect(asReviewer.body).toContain('Approve Acceptance first.');
  });

  it('refuses Production before Acceptance', async () => {
    const id = await inReview();
    const prodFirst = await form(`/console/requests/${id}/approve`, reviewer, { environment: 'production', version: '2' });
    expect(prodFirst.statusCode).toBe(409);
    expect(prodFirst.body).toContain('data-code="onboarding/acceptance_first"');
  });

  it('refuses a form of a version that is no longer current', async () => {
    const id = await inReview();
    expect((await form(`/console/requests/${id}/approve`, reviewer, { environment: 'acceptance', version: '2' })).statusCode).toBe(303);
    const stale = await form(`/console/requests/${id}/approve`, reviewer, { environment: 'production', version: '2' });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('data-code="onboarding/conflict"');
  });

  it('walks a reviewer through start review, Acceptance and Production to approved, and shows the history', async () => {
    const id = await inReview();
    expect((await form(`/console/requests/${id}/approve`, reviewer, { environment: 'acceptance', version: '2' })).statusCode).toBe(303);
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
});

describe('console: rejection, changes and withdrawal', () => {
  it('insists on a reason to reject', async () => {
    const id = await inReview();
    const empty = await form(`/console/requests/${id}/reject`, reviewer, { reason: ' ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('href="#reason"');
  });

  it('rejects with the reason, shown on the request page', async () => {
    const id = await inReview();
    expect((await form(`/console/requests/${id}/reject`, reviewer, { reason: 'Not an employer we can serve.' })).statusCode).toBe(303);
    expect((await page(`/console/requests/${id}`, viewer)).body).toContain('Not an employer we can serve.');
  });

  it('insists on a note to request changes', async () => {
    const id = await inReview();
    const noNote = await form(`/console/requests/${id}/request-changes`, reviewer, {});
    expect(noNote.statusCode).toBe(400);
    expect(noNote.body).toContain('href="#note"');
  });

  it('requests changes with a note', async () => {
    const id = await inReview();
    expect((await form(`/console/requests/${id}/request-changes`, reviewer, { note: 'Ask for Acceptance only first.' })).statusCode).toBe(303);
  });

  it('refuses a rejection once changes were requested', async () => {
    const id = await inReview();
    await form(`/console/requests/${id}/request-changes`, reviewer, { note: 'Ask for Acceptance only first.' });
    const again = await form(`/console/requests/${id}/reject`, reviewer, { reason: 'Too late for this one.' });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('data-code="onboarding/invalid_transition"');
  });

  it("withdraws a request on the partner's behalf", async () => {
    const id = await createThroughConsole();
    expect((await form(`/console/requests/${id}/withdraw`, reviewer, { reason: 'Partner called to cancel' })).statusCode).toBe(303);
    expect((await t.prisma.onboardingRequest.findUniqueOrThrow({ where: { id } })).state).toBe('withdrawn');
  });

  it('answers 404 for an unknown request', async () => {
    expect((await page('/console/requests/00000000-0000-4000-8000-000000000000', viewer)).statusCode).toBe(404);
  });
});
