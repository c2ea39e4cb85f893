import { randomUUID } from 'node:crypto';
import { systemContext } from '../../src/common/request-context.js';
import { CredentialsService } from '../../src/credentials/credentials.service.js';
import type { Environment } from '../../src/generated/prisma/enums.js';
import type { TestApp } from './app.js';

export const API_ENV: Record<string, Record<Environment, string>> = {
  business: { acceptance: '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0011', production: '7a2d8e63-4c2f-4d54-8b1f-1c8a5d2b0012' },
};

export async function createPartner(t: TestApp): Promise<{ partnerId: string; contactId: string }> {
  const partnerId = randomUUID();
  const contactId = randomUUID();
  await t.prisma.partner.create({
    data: { id: partnerId, legalName: `Partner ${partnerId.slice(0, 6)} B.V.`, registrationNumber: String(Math.floor(Math.random() * 1e8)), country: 'NL' },
  });
  await t.prisma.technicalContact.create({
    data: { id: contactId, partnerId, name: 'Jan Smit', email: `jan-${contactId.slice(0, 6)}@example.com`, mobile: '+31612345678', language: 'en' },
  });
  return { partnerId, contactId };
}

export interface IssuedCredential {
  credentialId: string;
  clientId: string;
  secretId: string;
  secret: string;
  partnerId: string;
}

/**
 * A credential through the credentials service's own issuing step; `activate` runs the same activation the
 * reveal handler runs inside delivery's reveal transaction (delivery itself is covered in credentials.spec).
 */
export async function issueCredential(
  t: TestApp,
  opts: { environment?: Environment; activate?: boolean; partner?: { partnerId: string; contactId: string } } = {},
): Promise<IssuedCredential> {
  const environment = opts.environment ?? 'acceptance';
  const svc = t.app.get(CredentialsService);
  const partner = opts.partner ?? (await createPartner(t));
  const pending = await t.prisma.transaction((tx) =>
    svc.createPendingCredential(tx, systemContext(), { ...partner, onboardingRequestId: null, apiEnvironmentId: API_ENV.business[environment], environment }),
  );
  // What delivery does when it sends the link: the secret is made then.
  const secret = await t.prisma.transaction((tx) => svc.renewPendingSecret(tx, pending.secretId));
  if (opts.activate !== false) await t.prisma.transaction((tx) => svc.activateOnReveal(tx, systemContext(), pending.secretId));
  return { ...pending, secret, partnerId: partner.partnerId };
}

export function basic(clientId: string, secret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
}

export function form(values: Record<string, string>): string {
  return new URLSearchParams(values).toString();
}

export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };
