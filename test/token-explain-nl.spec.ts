import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { basic, form, FORM_HEADERS, issueCredential, type IssuedCredential } from './support/credentials.helpers.js';

let t: TestApp;
let acc: IssuedCredential;

beforeAll(async () => {
  t = await startTestApp();
  acc = await issueCredential(t);
});
afterAll(() => t?.close());

let ipSeq = 0;
const html = { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' };
const explainPage = (fields: Record<string, string>) =>
  t.inject({ method: 'POST', url: '/token-explain', headers: html, payload: form(fields), remoteAddress: `198.51.100.${(ipSeq++ % 200) + 1}` });

async function tokenFor(c: { clientId: string; secret: string }): Promise<string> {
  const res = await t.inject({
    method: 'POST',
    url: '/oauth/acceptance/token',
    headers: { ...FORM_HEADERS, authorization: basic(c.clientId, c.secret) },
    payload: form({ grant_type: 'client_credentials' }),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().access_token as string;
}

/** English words of the page and its answers that a Dutch page must not show. */
const ENGLISH = ['Why was my token refused', 'This token is', 'What to do', 'Paste the access token', 'Not sure', 'Explain this token', 'Get a new token'];
function expectDutch(body: string) {
  expect(body).toContain('<html lang="nl"');
  for (const phrase of ENGLISH) expect(body, phrase).not.toContain(phrase);
}

describe('the token explainer in Dutch', () => {
  it('opens in Dutch from ?lang=nl or the browser, with a switch to English', async () => {
    for (const headers of [{ accept: 'text/html' }, { accept: 'text/html', 'accept-language': 'nl-NL,nl;q=0.9' }]) {
      const url = 'accept-language' in headers ? '/token-explain' : '/token-explain?lang=nl';
      const res = await t.inject({ method: 'GET', url, headers });
      expect(res.statusCode).toBe(200);
      expectDutch(res.body);
      expect(res.body).toContain('<h1>Waarom is mijn token geweigerd?</h1>');
      expect(res.body).toContain('<input type="hidden" name="lang" value="nl">');
      expect(res.body).toContain('<option value="acceptance">Acceptatie</option>');
      expect(res.body).toContain('href="/token-explain?lang=en" lang="en" hreflang="en">English</a>');
    }
    const en = await t.inject({ method: 'GET', url: '/token-explain', headers: { accept: 'text/html' } });
    expect(en.body).toContain('<h1>Why was my token refused?</h1>');
  });

  it('answers in Dutch: a fine token, a wrong environment, an expired token, a client secret, a non-token, nothing', async () => {
    const token = await tokenFor(acc);
    const fine = await explainPage({ token, lang: 'nl' });
    expect(fine.statusCode).toBe(200);
    expectDutch(fine.body);
    expect(fine.body).toContain('Dit token is in orde');
    expect(fine.body).toMatch(/Dit token is in orde voor Business API in Acceptatie, tot \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(fine.body).toContain('Stuur het als de header Authorization: Bearer &lt;access_token&gt;.');
    expect(fine.body).toContain('Acceptatie: adressen');

    const other = await explainPage({ token, environment: 'production', lang: 'nl' });
    expectDutch(other.body);
    expect(other.body).toContain('Dit token is uitgegeven door de issuer van Acceptatie');
    expect(other.body).toContain('maar u riep Productie aan');
    expect(other.body).toContain('Gebruik een token van Productie');

    t.clock.advance(20 * 60_000);
    const expired = await explainPage({ token, lang: 'nl' });
    expectDutch(expired.body);
    expect(expired.body).toMatch(/Dit token is verlopen om [^,]+, \d+ minuten geleden\. Onze tokens zijn 15 minuten geldig\./);
    expect(expired.body).toContain('Haal een nieuw token op bij http://localhost:3000/oauth/acceptance/token');

    const secret = await explainPage({ token: acc.secret, lang: 'nl' });
    expectDutch(secret.body);
    expect(secret.body).toContain('Dit is een client secret, geen access token.');
    expect(secret.body).not.toContain(acc.secret);

    const junk = await explainPage({ token: 'not a token', lang: 'nl' });
    expect(junk.body).toContain('Dit is geen JWT');

    const empty = await explainPage({ token: '', lang: 'nl' });
    expect(empty.statusCode).toBe(400);
    expectDutch(empty.body);
    expect(empty.body).toContain('Er is een probleem');
    expect(empty.body).toContain('Plak het access token');
  });

  it('keeps the JSON API in English, whatever the browser asks', async () => {
    const token = await tokenFor(acc);
    const res = await t.inject({
      method: 'POST',
      url: '/api/token-explain',
      headers: { 'accept-language': 'nl-NL' },
      payload: { token },
      remoteAddress: '198.51.100.250',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ summary: string; nextSteps: string[] }>();
    expect(body.summary).toMatch(/^This token is fine for Business API in Acceptance/);
    expect(body.nextSteps[0]).toBe('Send it as the header Authorization: Bearer <access_token>.');
    expect(Object.keys(body).sort()).toEqual(['findings', 'nextSteps', 'reason', 'summary', 'token', 'tokenLifetimeSeconds', 'urls', 'valid']);
  });
});
