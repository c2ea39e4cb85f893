import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';

let t: TestApp;
let staff: StaffLogin;

beforeAll(async () => {
  t = await startTestApp();
  staff = await createStaffWithSession(t, { role: 'reviewer' });
});
afterAll(async () => {
  await t?.close();
});

const page = (url: string, headers: Record<string, string> = {}) => t.inject({ method: 'GET', url, headers: { accept: 'text/html', ...headers } });

/** The layout's English words (header, skip link, badge, footer, title suffix, error page): none may be on a Dutch page. */
const ENGLISH_LAYOUT = [
  'Skip to main content',
  'Partner API credentials',
  'Service:',
  'This is not the live service',
  'Correlation id',
  'Quote it when you contact',
  'There is a problem',
  'Error code',
  'Go to the start page',
];
const DUTCH_LAYOUT = ['Naar de inhoud', 'Partner-API-inloggegevens', 'Dienst: test', 'Correlatie-id:', 'Noem deze als u contact opneemt'];

function expectDutchLayout(body: string, name: string) {
  expect(body, name).toContain('<html lang="nl"');
  for (const phrase of ENGLISH_LAYOUT) expect(body, `${name}: "${phrase}"`).not.toContain(phrase);
  for (const phrase of DUTCH_LAYOUT) expect(body, `${name}: "${phrase}"`).toContain(phrase);
  expect(body, name).toMatch(/<title>[^<]+ · Partner-API-inloggegevens<\/title>/);
}

async function dutchStatusToken(): Promise<string> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/onboarding-requests',
    headers: staff.headers,
    payload: {
      partner: { legalName: 'Lay-out Taal B.V.', registrationNumber: '77123450', country: 'NL' },
      contact: { name: 'Noor Visser', email: 'layout-nl@partner.example', mobile: '+31687650000' },
      language: 'nl',
      purpose: 'Our shop app shows lunch offers to employees of our customers.',
      items: [{ api: 'business', environment: 'acceptance' }],
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return new URL((res.json() as { statusUrl: string }).statusUrl).pathname.split('/').pop()!;
}

describe('the shared layout on Dutch partner pages', () => {
  it('says every layout word in Dutch: header, skip link, badge, footer and the title suffix', async () => {
    const token = await dutchStatusToken();
    const pages: Array<[string, string, Record<string, string>?]> = [
      ['apply', '/apply?lang=nl'],
      ['environments', '/environments?lang=nl'],
      ['rotate', '/rotate?lang=nl'],
      ['delivery', '/delivery', { 'accept-language': 'nl-NL,nl;q=0.9' }],
      ['token-explain', '/token-explain?lang=nl'],
      ['status', `/requests/${token}`],
    ];
    for (const [name, url, headers] of pages) {
      const res = await page(url, headers);
      expect(res.statusCode, `${name}: ${res.body.slice(0, 200)}`).toBe(200);
      expectDutchLayout(res.body, name);
    }
  });

  it('shows a Dutch error summary and a Dutch error page', async () => {
    const refused = await t.inject({
      method: 'POST',
      url: '/rotate',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'lang=nl&clientId=nope',
    });
    expect(refused.statusCode).toBe(400);
    expectDutchLayout(refused.body, 'rotate-error');
    expect(refused.body).toContain('Er is een probleem');

    const missing = await page('/requests/not-a-real-token?lang=nl');
    expect(missing.statusCode).toBe(404);
    expectDutchLayout(missing.body, 'error-page');
    expect(missing.body).toContain('Pagina niet gevonden');
    expect(missing.body).toContain('Foutcode:');
    expect(missing.body).toContain('Naar de startpagina');
  });

  it('keeps English pages and the staff console in English', async () => {
    const en = await page('/apply?lang=en');
    expect(en.body).toContain('<html lang="en"');
    expect(en.body).toContain('Skip to main content');
    expect(en.body).toContain('Correlation id:');
    expect(en.body).toMatch(/<title>[^<]+ · Partner API credentials<\/title>/);
    const consolePage = await page('/console/home', { ...staff.headers, 'accept-language': 'nl-NL' });
    expect(consolePage.statusCode).toBe(200);
    expect(consolePage.body).toContain('<html lang="en"');
    expect(consolePage.body).toContain('Skip to main content');
    const consoleMissing = await page('/console/nothing-here', { ...staff.headers, 'accept-language': 'nl-NL' });
    expect(consoleMissing.body).toContain('Page not found');
  });
});
