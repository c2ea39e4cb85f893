import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExpiryReminders } from '../src/credentials/expiry-reminders.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { issueCredential } from './support/credentials.helpers.js';

const STAFF = 'bj-team@retailer.example';
let a: TestApp;
let b: TestApp;
let smtp: FakeSmtp;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  a = await startTestApp({ env: { SMTP_URL: smtp.url, STAFF_ALERT_EMAIL: STAFF, SECRET_LIFETIME_DAYS: '90' } });
  b = await startTestApp({
    db: a.db,
    clock: a.clock,
    env: {
      SMTP_URL: smtp.url,
      STAFF_ALERT_EMAIL: STAFF,
      SECRET_LIFETIME_DAYS: '90',
      SECRET_HASH_KEY: a.config.secretHashKey.toString('base64'),
      MASTER_KEY: a.config.masterKey.toString('base64'),
    },
  });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await smtp?.stop();
});

describe('secret expiry reminders', () => {
  it('sends each reminder (30, 14, 7, 1 days) once to the contact and staff, even with two instances running the job', async () => {
    const c = await issueCredential(a);
    const secret = await a.prisma.credentialSecret.findUniqueOrThrow({ where: { id: c.secretId } });
    expect(secret.expiresAt.getTime() - a.clock.now().getTime()).toBe(90 * 86_400_000);
    const contact = (await a.prisma.credential.findUniqueOrThrow({ where: { id: c.credentialId } })).contactId;
    const email = (await a.prisma.technicalContact.findUniqueOrThrow({ where: { id: contact } })).email;
    const both = async () => {
      await Promise.all([a.app.get(ExpiryReminders).run(), b.app.get(ExpiryReminders).run(), a.app.get(ExpiryReminders).run()]);
      await a.app.get(NotificationsService).drain();
    };
    const subjects = (to: string) =>
      smtp
        .to(to)
        .filter((m) => m.text.includes(c.clientId))
        .map((m) => m.subject);

    await both();
    expect(subjects(email)).toEqual([]);
    for (const [daysLeft, expected] of [
      [29.5, 30],
      [13.9, 14],
      [6.5, 7],
      [0.9, 1],
    ] as const) {
      a.clock.set(new Date(secret.expiresAt.getTime() - daysLeft * 86_400_000));
      await both();
      await both();
      expect(subjects(email).at(-1)).toMatch(new RegExp(`expires in ${expected} day`));
    }
    expect(subjects(email)).toHaveLength(4);
    expect(subjects(STAFF)).toHaveLength(4);
    const mail = smtp.to(email).find((m) => m.text.includes(c.clientId))!;
    expect(mail.text).toContain('/rotate');
    expect(mail.text).toMatch(/cbsk_acc_…/);
    expect(mail.text).not.toContain(c.secret);
    expect(smtp.to(STAFF)[0].text).toContain(`/console/credentials/${c.credentialId}`);

    // At expiry: audited once, even with both instances running the job.
    a.clock.set(new Date(secret.expiresAt.getTime() + 60_000));
    await both();
    expect(await a.prisma.auditEvent.count({ where: { action: 'credential.secret_expired', subjectId: c.credentialId } })).toBe(1);
    expect(subjects(email)).toHaveLength(4);
  });
});
