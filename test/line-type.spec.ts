import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeTwilio } from './support/fake-twilio.js';

// Numbers the (fake) Lookup describes; the prefix check of the form accepts them all as Dutch mobiles.
const VOIP = '+31612340001';
const LANDLINE = '+31612340002';
const MOBILE = '+31612340003';

let t: TestApp;
let twilio: FakeTwilio;
let staff: StaffLogin;
let other: StaffLogin;
beforeAll(async () => {
  twilio = await FakeTwilio.start();
  twilio.numbers.set(VOIP, { lineType: 'nonFixedVoip' });
  twilio.numbers.set(LANDLINE, { lineType: 'landline' });
  // No caching here: a test changes what Lookup says about a number already checked.
  t = await startTestApp({ env: { ...twilio.env(), TWILIO_LOOKUP_CACHE_SECONDS: '0' } });
  [staff, other] = await Promise.all([createStaffWithSession(t, { role: 'reviewer' }), createStaffWithSession(t, { role: 'reviewer' })]);
});
afterAll(async () => {
  await t?.close();
  await twilio?.stop();
});

const FORM = 'application/x-www-form-urlencoded';
let n = 0;
function body(mobile: string, registrationNumber = `${30000000 + ++n}`) {
  n += 1;
  return {
    partner: { legalName: `Lijntype ${n} B.V.`, registrationNumber, country: 'NL' },
    contact: { name: 'Jan Smit', email: `jan${n}@example.com`, mobile },
    language: 'en',
    purpose: 'Employees order lunch through our app and pay with their cafetaria budget.',
    items: [{ api: 'business', environment: 'acceptance' }],
  };
}
const create = (payload: unknown, as = staff) =>
  t.inject({ method: 'POST', url: '/api/onboarding-requests', headers: as.headers, payload: payload as Record<string, unknown> });

describe('line type at intake', () => {
  it('accepts a mobile number, after asking Lookup for its line type with Basic auth', async () => {
    const before = twilio.lookups.length;
    const res = await create(body(MOBILE));
    expect(res.statusCode, res.body).toBe(201);
    expect(twilio.lookups.slice(before)).toEqual([{ number: MOBILE, fields: 'line_type_intelligence,sim_swap' }]);
  });

  it('refuses a VoIP number on the apply form with a message on the mobile field, and through the JSON API with its code', async () => {
    const page = await t.inject({ method: 'GET', url: '/apply', remoteAddress: '203.0.113.7' });
    const formIssuedAt = /name="formIssuedAt" value="([^"]*)"/.exec(page.body)![1].replace(/&amp;/g, '&');
    const p = new URLSearchParams({
      legalName: 'Bellen B.V.',
      registrationNumber: '39999999',
      country: 'NL',
      businessRepresentative: '',
      contactName: 'Sanne de Boer',
      contactEmail: 'sanne@example.nl',
      contactMobile: '+31 6 1234 0001',
      language: 'nl',
      items: 'business:acceptance',
      purpose: 'Our lunch app lets employees order and pay with their cafetaria budget.',
      website: '',
      formIssuedAt,
    });
    const check = await t.inject({ method: 'POST', url: '/apply', remoteAddress: '203.0.113.7', headers: { 'content-type': FORM }, payload: p.toString() });
    expect(check.statusCode).toBe(400);
    expect(check.body).toContain('This is an internet (VoIP) number, which cannot receive our security codes reliably: enter a mobile phone number');
    expect(check.body).toContain('href="#contactMobile"');

    const res = await create(body(VOIP));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'contact/line_type_refused', message: expect.stringContaining('VoIP') });
  });

  it('refuses a landline when a known partner names a new technical contact', async () => {
    const registration = '38888888';
    expect((await create(body(MOBILE, registration))).statusCode).toBe(201);
    const contacts = await t.prisma.technicalContact.count({ where: { partner: { registrationNumber: registration } } });
    const res = await create(body(LANDLINE, registration), other);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'contact/line_type_refused',
      message: 'This is a landline number: enter a mobile phone number that can receive text messages',
    });
    expect(await t.prisma.technicalContact.count({ where: { partner: { registrationNumber: registration } } })).toBe(contacts);
  });
});

describe('staff override', () => {
  it('allows a contact number Lookup now calls a landline, audited with the reason, shown on the request page', async () => {
    const number = '+31612340004';
    const created = await create(body(number));
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: string };
    twilio.numbers.set(number, { lineType: 'landline' });

    const short = await t.inject({
      method: 'POST',
      url: `/api/onboarding-requests/${id}/contact-line-override`,
      headers: other.headers,
      payload: { reason: 'ok' },
    });
    expect(short.json()).toMatchObject({ code: 'contact/override_reason_required' });
    const res = await t.inject({
      method: 'POST',
      url: `/api/onboarding-requests/${id}/contact-line-override`,
      headers: other.headers,
      payload: { reason: 'Called the person on a known number; texts arrive on this line' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const contactId = (res.json() as { contact: { id: string } }).contact.id;
    expect(await t.prisma.contactLineOverride.findUnique({ where: { contactId } })).toMatchObject({ lineType: 'landline', staffId: other.staffId });
    const audit = await t.prisma.auditEvent.findFirst({ where: { action: 'technical_contact.line_type_overridden' }, orderBy: { occurredAt: 'desc' } });
    expect(audit).toMatchObject({
      actorType: 'staff',
      actorId: other.staffId,
      detail: { contactId, lineType: 'landline', reason: 'Called the person on a known number; texts arrive on this line' },
    });

    const page = await t.inject({ method: 'GET', url: `/console/requests/${id}`, headers: staff.headers });
    expect(page.body).toContain('data-testid="line-override"');
    expect(page.body).toContain('although Twilio Lookup calls it landline');
  });
});
