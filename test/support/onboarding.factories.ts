import { randomInt, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { OnboardingService } from '../../src/onboarding/onboarding.service.js';
import type { RequestedItem, SubmitInput } from '../../src/onboarding/onboarding.types.js';
import type { TestApp } from './app.js';
import type { StaffLogin } from './factories.js';

/** A short tag that makes a name or an address unique to the test that asked for it. */
export const uniqueTag = (): string => randomUUID().slice(0, 8);

/** A registration number (ten digits) no other test names, so each test gets a partner of its own. */
export const uniqueRegistrationNumber = (): string => String(randomInt(1_000_000_000, 10_000_000_000));

/** A client address no other test uses, so per-IP limits are only met where a test means to meet it. */
export const uniqueClientIp = (): string => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

export interface ApplicationOverrides {
  partner?: Partial<SubmitInput['partner']>;
  contact?: Partial<SubmitInput['contact']>;
  language?: SubmitInput['language'];
  purpose?: string;
  items?: RequestedItem[];
}

/** An application as the JSON API and `OnboardingService.submit` take it: a new partner and contact each call. */
export function onboardingApplication(over: ApplicationOverrides = {}): SubmitInput {
  const tag = uniqueTag();
  return {
    partner: { legalName: `Voorbeeld ${tag} B.V.`, registrationNumber: uniqueRegistrationNumber(), country: 'NL', ...over.partner },
    contact: { name: 'Jan Smit', email: `jan-${tag}@example.com`, mobile: '+31612345678', ...over.contact },
    language: over.language ?? 'en',
    purpose: over.purpose ?? 'Employees order lunch through our app and pay with their cafetaria budget.',
    items: over.items ?? [
      { api: 'cafetariaplan', environment: 'acceptance' },
      { api: 'cafetariaplan', environment: 'production' },
    ],
  };
}

export type FormFields = Record<string, string | string[]>;

/** The answers of the application form (the public intake and the console form share its fields): a new partner and contact each call. */
export function applicationForm(over: FormFields = {}): FormFields {
  const tag = uniqueTag();
  return {
    legalName: `Broodjeszaak ${tag} B.V.`,
    registrationNumber: uniqueRegistrationNumber(),
    country: 'NL',
    businessRepresentative: '',
    contactName: 'Sanne de Boer',
    contactEmail: `sanne-${tag}@example.nl`,
    contactMobile: '+31 6 1234 5678',
    language: 'nl',
    items: ['business:acceptance', 'business:production'],
    purpose: 'Our lunch app lets employees order and pay with their cafetaria budget.',
    ...over,
  };
}

/** URL-encodes form fields, repeating a name for each value of a list. */
export function encodeForm(fields: FormFields): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

export interface CreatedRequest {
  id: string;
  reference: string;
  statusUrl: string;
}

/** A request a staff member enters through the JSON API on a partner's behalf. */
export async function createRequest(t: TestApp, as: StaffLogin, body: unknown = onboardingApplication()): Promise<CreatedRequest> {
  const res = await t.inject({ method: 'POST', url: '/api/onboarding-requests', headers: as.headers, payload: body as object });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** What the public intake does: the partner submits, attributed to the contact it names. */
export async function partnerSubmits(t: TestApp, input: SubmitInput = onboardingApplication()): Promise<string> {
  const ctx = { correlationId: randomUUID(), clientIp: '203.0.113.9', userAgent: null, actor: { type: 'partner_contact' as const, id: null } };
  return (await t.app.get(OnboardingService).submit(ctx, input)).id;
}

/** A staff action through the JSON API. */
export const staffPost = (t: TestApp, as: StaffLogin, url: string, payload: object = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });

/** Starts the review of a request, as arrangement for what a test checks next. */
export async function startReview(t: TestApp, as: StaffLogin, id: string): Promise<void> {
  const res = await staffPost(t, as, `/api/onboarding-requests/${id}/start-review`);
  expect(res.statusCode, res.body).toBe(200);
}

/** Approves one environment of a request in review, as arrangement for what a test checks next. */
export async function approveEnvironment(t: TestApp, as: StaffLogin, id: string, environment: 'acceptance' | 'production'): Promise<void> {
  const res = await staffPost(t, as, `/api/onboarding-requests/${id}/approvals`, { environment });
  expect(res.statusCode, res.body).toBe(200);
}

/** The token at the end of a status link. */
export const statusTokenOf = (statusUrl: string): string => statusUrl.split('/').pop()!;
