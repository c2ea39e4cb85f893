import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../../src/audit/audit.service.js';
import { NotificationsService } from '../../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { codeFrom, linkTokenFrom } from '../support/delivery-harness.js';
import { createStaffWithSession, type StaffLogin } from '../support/factories.js';
import { FakeSmtp } from '../support/fake-smtp.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { issueCredential } from '../support/credentials.helpers.js';

/**
 * Concurrency, the rotation part (100 concurrent reveals and 50 concurrent approvals are proven in
 * delivery.spec and onboarding.spec): concurrent rotation starts, approvals, reveals and overlap ends of one
 * credential never leave more than two active secrets, and each step happens exactly once.
 */
let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let starter: StaffLogin;
let approver: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env() } });
  starter = await createStaffWithSession(t, { role: 'reviewer' });
  approver = await createStaffWithSession(t, { role: 'reviewer' });
});
afterAll(async () => {
  const verify = await t.app.get(AuditService).verify();
  process.stdout.write(`[proof] concurrency: audit chain after the suite: ${JSON.stringify({ ok: verify.ok, checked: verify.checked })}\n`);
  await t.close();
  await smtp.stop();
  await twilio.stop();
  expect(verify.ok).toBe(true);
});

const post = (url: string, who: StaffLogin | null, body: unknown = {}, ip = '198.51.100.7') =>
  t.inject({
    method: 'POST',
    url,
    headers: { ...(who?.headers ?? {}), 'content-type': 'application/json', accept: 'application/json' },
    payload: JSON.stringify(body),
    remoteAddress: ip,
  });

async function activeSecrets(credentialId: string): Promise<number> {
  return t.prisma.credentialSecret.count({ where: { credentialId, state: 'active' } });
}

const tally = (codes: number[]) => codes.reduce<Record<number, number>>((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {});

describe('concurrent rotations of one credential', () => {
  it('one start, one approval, one reveal and one overlap end win; never more than two active secrets', async () => {
    const cred = await issueCredential(t);
    const watch: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        watch.push(await activeSecrets(cred.credentialId));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const starts = await Promise.all(Array.from({ length: 20 }, () => post(`/api/credentials/${cred.credentialId}/rotations`, starter, { overlapDays: 3 })));
    const started = starts.filter((r) => r.statusCode === 201);
    expect(started).toHaveLength(1);
    expect(starts.filter((r) => r.statusCode !== 201).every((r) => r.statusCode === 409)).toBe(true);
    const rotationId = (started[0].json() as { id: string }).id;

    const approvals = await Promise.all(Array.from({ length: 20 }, () => post(`/api/rotations/${rotationId}/approve`, approver)));
    expect(approvals.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(approvals.filter((r) => r.statusCode !== 200).every((r) => r.statusCode === 409)).toBe(true);

    await t.app.get(NotificationsService).drain();
    const contact = await t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: cred.partnerId } });
    const mail = smtp.to(contact.email).find((m) => m.text.includes('/delivery#'))!;
    const token = linkTokenFrom(mail.text);
    expect((await t.inject({ method: 'POST', url: '/api/deliveries/code', payload: { token }, remoteAddress: '198.51.100.8' })).statusCode).toBe(200);
    await t.app.get(NotificationsService).drain();
    const code = codeFrom(twilio.to(contact.mobile).at(-1)!.body);

    // 30 concurrent reveals, and meanwhile 10 more rotation starts and approvals: one reveal, no new rotation.
    const [reveals, laterStarts] = await Promise.all([
      Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          t.inject({ method: 'POST', url: '/api/deliveries/reveal', payload: { token, code }, remoteAddress: `198.51.100.${100 + (i % 20)}` }),
        ),
      ),
      Promise.all(Array.from({ length: 10 }, () => post(`/api/credentials/${cred.credentialId}/rotations`, starter, {}))),
    ]);
    const revealed = reveals.filter((r) => r.statusCode === 200);
    expect(revealed).toHaveLength(1);
    expect(laterStarts.every((r) => r.statusCode === 409)).toBe(true);
    expect(await activeSecrets(cred.credentialId)).toBe(2);

    // Not quiet yet: the starter asks for the early end, the approver ends it (two reviewers).
    expect((await post(`/api/credentials/${cred.credentialId}/early-end-request`, starter)).statusCode).toBe(200);
    const ends = await Promise.all(Array.from({ length: 15 }, () => post(`/api/credentials/${cred.credentialId}/end-overlap`, approver)));
    expect(ends.filter((r) => r.statusCode === 200)).toHaveLength(1);
    watching = false;
    await watcher;
    const finalActive = await activeSecrets(cred.credentialId);
    const audit = await t.prisma.auditEvent.groupBy({ by: ['action'], where: { subjectId: cred.credentialId }, _count: true });
    const once = Object.fromEntries(audit.map((a) => [a.action, a._count]));
    process.stdout.write(
      `[proof] concurrency: 20 starts -> ${JSON.stringify(tally(starts.map((r) => r.statusCode)))}; 20 approvals -> ` +
        `${JSON.stringify(tally(approvals.map((r) => r.statusCode)))}; ` +
        `30 reveals -> ${JSON.stringify(tally(reveals.map((r) => r.statusCode)))}; 10 starts during the reveal -> ` +
        `${JSON.stringify(tally(laterStarts.map((r) => r.statusCode)))}; ` +
        `15 overlap ends -> ${JSON.stringify(tally(ends.map((r) => r.statusCode)))}; most active secrets seen ${Math.max(...watch)} over ` +
        `${watch.length} samples; finally ${finalActive}; audit ${JSON.stringify(once)}\n`,
    );
    expect(watch.length).toBeGreaterThan(0); // Math.max() of no samples is -Infinity
    expect(Math.max(...watch)).toBeLessThanOrEqual(2);
    expect(finalActive).toBe(1);
    expect(once['credential.rotation_requested']).toBe(1);
    expect(once['credential.rotation_approved']).toBe(1);
    expect(once['credential.overlap_ended']).toBe(1);
    for (const r of [...starts, ...approvals, ...reveals, ...laterStarts, ...ends]) expect(r.statusCode).toBeLessThan(500);
  }, 60_000);
});
