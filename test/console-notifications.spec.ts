import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { issueCredential } from './support/credentials.helpers.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';

let t: TestApp;
let smtp: FakeSmtp;
let viewer: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  // No Twilio settings: SMS stays queued, as it would in a deployment that lost them.
  t = await startTestApp({ env: { SMTP_URL: smtp.url } });
  viewer = await createStaffWithSession(t, { role: 'viewer' });
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
});

const page = (url: string) => t.inject({ method: 'GET', url, headers: { cookie: viewer.headers.cookie, accept: 'text/html' } });
const rowsOf = (html: string) => [...html.matchAll(/data-notification-id="([^"]+)" data-kind="([a-z]+)"/g)].map((m) => `${m[2]}:${m[1]}`);
const notifications = () => t.app.get(NotificationsService);

describe('the console page of messages that need attention', () => {
  it('says so when nothing needs attention', async () => {
    const res = await page('/console/notifications');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-testid="notifications-empty"');
    expect(res.body).toContain('No message needs attention');
    expect(res.body).toContain('<a href="/console/notifications" aria-current="page">Messages</a>');
  });

  it('lists failed, unknown and long-queued messages with template, masked recipient, reason, age and subject; never the payload', async () => {
    const c = await issueCredential(t);
    const bouncedTo = `bounce-${randomUUID().slice(0, 6)}@partner.example`;
    smtp.rejectRecipients.push(/^bounce-/);
    const code = '73914250';
    await t.prisma.transaction(async (tx) => {
      await notifications().enqueueEmail(tx, {
        to: bouncedTo,
        template: 'onboarding-received',
        language: 'en',
        data: { items: [], reference: 'ONB-BOUNCE-1', statusUrl: 'https://example.invalid/status/secret-status-token' },
        idempotencyKey: `test:${randomUUID()}`,
        subject: { type: 'credential', id: c.credentialId },
      });
      await notifications().enqueueSms(tx, {
        to: '+31612345999',
        template: 'delivery-code',
        language: 'en',
        data: { code, apiName: 'Business API', environment: 'Acceptance' },
        idempotencyKey: `test:${randomUUID()}`,
      });
    });
    await notifications().drain({ includeDelayed: true });
    const bounced = await t.prisma.notification.findFirstOrThrow({ where: { template: 'onboarding-received', subjectId: c.credentialId } });
    expect(bounced.status).toBe('failed');
    const sms = await t.prisma.notification.findFirstOrThrow({ where: { template: 'delivery-code' } });
    expect(sms.status).toBe('queued');
    const unknown = await t.prisma.notification.create({
      data: {
        id: randomUUID(),
        idempotencyKey: `test:${randomUUID()}`,
        channel: 'sms',
        template: 'delivery-code',
        language: 'nl',
        recipientMasked: '+316•••••321',
        status: 'unknown',
        attempts: 1,
        providerReason: 'timed out after the request was sent',
        createdAt: t.clock.now(),
        updatedAt: t.clock.now(),
      },
    });

    // Fresh: the queued SMS is not yet "too long".
    const fresh = rowsOf((await page('/console/notifications')).body);
    expect(fresh).toEqual(expect.arrayContaining([`failed:${bounced.id}`, `unknown:${unknown.id}`]));
    expect(fresh).not.toContain(`stuck:${sms.id}`);

    t.clock.advance(31 * 60_000);
    viewer = await createStaffWithSession(t, { role: 'viewer' }); // the earlier session has idled out
    const res = await page('/console/notifications');
    expect(res.statusCode).toBe(200);
    expect(rowsOf(res.body)).toEqual(expect.arrayContaining([`failed:${bounced.id}`, `unknown:${unknown.id}`, `stuck:${sms.id}`]));
    const row = new RegExp(`id="notification-${bounced.id}"[\\s\\S]*?</tr>`).exec(res.body)![0];
    expect(row).toContain('<code>onboarding-received</code>');
    expect(row).toContain(`<code>${bounced.recipientMasked}</code>`);
    expect(row).toContain('Failed');
    expect(row).toContain(bounced.providerReason!.slice(0, 20));
    expect(row).toMatch(/>3[01] minutes</);
    expect(row).toContain(`href="/console/credentials/${c.credentialId}"`);
    expect(new RegExp(`id="notification-${sms.id}"[\\s\\S]*?</tr>`).exec(res.body)![0]).toContain('Queued too long');
    // Never the payload: not the full address, the link in the email, or the SMS code (still sealed in the queued row).
    for (const secret of [bouncedTo, 'secret-status-token', code, '+31612345999']) expect(res.body).not.toContain(secret);

    // The staff home links each failed message to its row here, not to the JSON list.
    const home = await page('/console/home');
    expect(home.body).toContain(`href="/console/notifications?status=failed#notification-${bounced.id}"`);
    expect(home.body).toContain(`href="/console/notifications?status=unknown#notification-${unknown.id}"`);
    expect(home.body).not.toContain('/api/notifications');
  });

  it('filters by status, channel and subject, and refuses nothing it does not know (unknown values are ignored)', async () => {
    const failed = rowsOf((await page('/console/notifications?status=failed')).body);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r) => r.startsWith('failed:'))).toBe(true);
    const stuck = await page('/console/notifications?status=stuck&channel=sms');
    expect(rowsOf(stuck.body).length).toBe(1);
    expect(stuck.body).toContain('<option value="stuck" selected>');
    expect(stuck.body).toContain('show all');
    const none = await page('/console/notifications?status=unknown&channel=email');
    expect(none.body).toContain('No message matches these filters.');
    const bounced = await t.prisma.notification.findFirstOrThrow({ where: { status: 'failed' } });
    const bySubject = rowsOf((await page(`/console/notifications?subjectType=credential&subjectId=${bounced.subjectId}`)).body);
    expect(bySubject).toEqual([`failed:${bounced.id}`]);
    const odd = await page('/console/notifications?status=<script>&channel=fax&subjectType=x;drop&subjectId=1');
    expect(odd.statusCode).toBe(200);
    expect(rowsOf(odd.body).length).toBe(3);
  });
});
