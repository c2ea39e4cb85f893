import { randomUUID } from 'node:crypto';
import { systemContext } from '../../src/common/request-context.js';
import { DeliveryService } from '../../src/delivery/delivery.service.js';
import type { CreateDeliveryInput, RevealedDelivery } from '../../src/delivery/delivery.types.js';
import { NotificationsService } from '../../src/notifications/notifications.service.js';
import type { TestApp } from './app.js';
import type { FakeSmtp } from './fake-smtp.js';
import type { FakeTwilio } from './fake-twilio.js';

/** Reads the one-time link token out of a delivery email's text (the part after `/delivery#`). */
export function linkTokenFrom(text: string): string {
  const m = /\/delivery#([A-Za-z0-9_-]{43})/.exec(text);
  if (!m) throw new Error('no delivery link in the email');
  return m[1];
}

/** Reads the 8-digit code out of an SMS body. */
export function codeFrom(body: string): string {
  const m = /\b(\d{8})\b/.exec(body);
  if (!m) throw new Error('no code in the SMS');
  return m[1];
}

/** A delivery input as tests use it: with the secret the test's subject owner will hand to delivery. */
export type TestDeliveryInput = CreateDeliveryInput & { secret: string };

/** Secrets the tests' subject owners return when delivery asks for one, by subject id. */
const testSecrets = new Map<string, string>();
const withIssuer = new WeakMap<DeliveryService, Set<string>>();

/**
 * Registers, once per app and subject type, a secret issuer that returns the secret of `deliveryInput`
 * (a real owner makes a new one on each send; a test wants to know which to expect).
 */
export function useTestSecrets(deliveries: DeliveryService, subjectType: string): void {
  const done = withIssuer.get(deliveries) ?? new Set<string>();
  withIssuer.set(deliveries, done);
  if (done.has(subjectType)) return;
  deliveries.registerSecretIssuer(subjectType, async (_tx, subjectId) => {
    const secret = testSecrets.get(subjectId);
    if (!secret) throw new Error(`no test secret for subject ${subjectId}`);
    return secret;
  });
  done.add(subjectType);
}

let mobileSeq = 100;
export function deliveryInput(subjectType: string, over: Partial<TestDeliveryInput> = {}): TestDeliveryInput {
  const n = mobileSeq++;
  const input: TestDeliveryInput = {
    subjectType,
    subjectId: randomUUID(),
    recipient: {
      contactId: randomUUID(),
      name: 'Jane Tester',
      email: `jane-${n}@partner.example`,
      mobile: `+3161234${String(n).padStart(4, '0')}`,
      language: 'en',
    },
    secret: `cs_test_${randomUUID().replace(/-/g, '')}`,
    display: {
      partnerName: 'Acme Logistics BV',
      clientId: `cl_${randomUUID().slice(0, 8)}`,
      apiName: 'Business API',
      environment: 'acceptance',
      issuer: 'http://localhost:3000',
      tokenEndpoint: 'http://localhost:3000/oauth/token',
      baseUrl: 'https://api-acc.retailer.example/business',
      reason: 'issued',
    },
    ...over,
  };
  testSecrets.set(input.subjectId, input.secret);
  return input;
}

/**
 * Drives the partner's steps through real SMTP and Twilio servers: create a delivery in a transaction, read
 * the link from the email, ask for a code and read it from the SMS.
 */
export class DeliveryDriver {
  readonly deliveries: DeliveryService;
  readonly notifications: NotificationsService;
  constructor(
    readonly t: TestApp,
    readonly smtp: FakeSmtp,
    readonly twilio: FakeTwilio,
  ) {
    this.deliveries = t.app.get(DeliveryService);
    this.notifications = t.app.get(NotificationsService);
  }

  async create(input: TestDeliveryInput): Promise<{ deliveryId: string; token: string; emailText: string; input: TestDeliveryInput }> {
    useTestSecrets(this.deliveries, input.subjectType);
    const { deliveryId } = await this.t.prisma.transaction((tx) => this.deliveries.create(tx, systemContext(), input));
    await this.notifications.drain();
    const mail = this.smtp.to(input.recipient.email).find((m) => m.text.includes('/delivery#'));
    if (!mail) throw new Error('the delivery email did not arrive');
    return { deliveryId, token: linkTokenFrom(mail.text), emailText: mail.text, input };
  }

  /** Asks for a code through the JSON API from `ip` and returns it as read from the SMS. */
  async code(token: string, mobile: string, ip = '198.51.100.1'): Promise<string> {
    const res = await this.t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: ip });
    if (res.statusCode !== 200) throw new Error(`code request answered ${res.statusCode}: ${res.body}`);
    await this.notifications.drain();
    const sms = this.twilio.to(mobile);
    return codeFrom(sms[sms.length - 1].body);
  }

  reveal(token: string, code: string, ip = '198.51.100.1') {
    return this.t.inject({ method: 'POST', url: '/api/deliveries/reveal', payload: { token, code }, remoteAddress: ip });
  }
}

export type { RevealedDelivery };
