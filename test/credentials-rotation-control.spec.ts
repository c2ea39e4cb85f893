import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientRegistry } from '../src/credentials/client-registry.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession, type StaffLogin } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';
import { FakeTwilio } from './support/fake-twilio.js';
import { DeliveryDriver, linkTokenFrom } from './support/delivery-harness.js';
import { basic, form, FORM_HEADERS, issueCredential, type IssuedCredential } from './support/credentials.helpers.js';

let t: TestApp;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let drv: DeliveryDriver;
let one: StaffLogin;
let two: StaffLogin;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  twilio = await FakeTwilio.start();
  // Last-used times are written only when the test flushes them.
  t = await startTestApp({ env: { SMTP_URL: smtp.url, ...twilio.env(), LAST_USED_FLUSH_MS: '600000' } });
  drv = new DeliveryDriver(t, smtp, twilio);
  [one, two] = await Promise.all([
    createStaffWithSession(t, { role: 'reviewer', name: 'Una One' }),
    createStaffWithSession(t, { role: 'reviewer', name: 'Tim Two' }),
  ]);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
  await twilio?.stop();
});

const drain = () => t.app.get(NotificationsService).drain();
const post = (url: string, as: StaffLogin, payload: Record<string, unknown> = {}) => t.inject({ method: 'POST', url, headers: as.headers, payload });
const page = (url: string, as: StaffLogin) => t.inject({ method: 'GET', url, headers: { cookie: as.headers.cookie, accept: 'text/html' } });
function consoleForm(url: string, as: StaffLogin, fields: Record<string, string>) {
  return t.inject({
    method: 'POST',
    url,
    headers: { cookie: as.headers.cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ ...fields, _csrf: as.headers['x-csrf-token'] }),
  });
}
const token = (clientId: string, secret: string) =>
  t.inject({
    method: 'POST',
    url: '/oauth/acceptance/token',
    headers: { ...FORM_HEADERS, authorization: basic(clientId, secret) },
    payload: form({ grant_type: 'client_credentials' }),
  });
const contactOf = (c: IssuedCredential) => t.prisma.technicalContact.findFirstOrThrow({ where: { partnerId: c.partnerId } });

let ipSeq = 0;
/** The partner's side of a rotation: the link from the newest delivery email, the SMS code, the reveal. */
async function revealNewest(c: IssuedCredential): Promise<string> {
  await drain();
  const contact = await contactOf(c);
  const mail = smtp
    .to(contact.email)
    .filter((m) => m.text.includes('/delivery#'))
    .at(-1)!;
  const link = linkTokenFrom(mail.text);
  const ip = `198.51.100.${(ipSeq++ % 200) + 20}`;
  const code = await drv.code(link, contact.mobile, ip);
  const res = await drv.reveal(link, code, ip);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().clientSecret as string;
}

/** One reviewer starts, the other approves, the partner reveals: the credential is in its overlap. */
async function inOverlap(): Promise<{ c: IssuedCredential; newSecret: string; rotationId: string }> {
  const c = await issueCredential(t);
  const started = await post(`/api/credentials/${c.credentialId}/rotations`, one, { overlapDays: 3 });
  expect(started.statusCode, started.body).toBe(201);
  expect((await post(`/api/rotations/${started.json().id}/approve`, two)).statusCode).toBe(200);
  return { c, newSecret: await revealNewest(c), rotationId: started.json().id };
}

describe('an open rotation never locks staff out', () => {
  it('an anonymous, unconfirmed partner request is superseded when staff start a rotation, and its link dies', async () => {
    const c = await issueCredential(t);
    const contact = await contactOf(c);
    expect((await t.inject({ method: 'POST', url: '/api/rotation-requests', payload: { clientId: c.clientId } })).statusCode).toBe(202);
    await drain();
    const link = /\/rotate\/confirm\/([A-Za-z0-9_-]{43})/.exec(smtp.to(contact.email).at(-1)!.text)![1];
    const anonymous = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: c.credentialId } });
    expect(anonymous.state).toBe('awaiting_confirmation');

    const started = await post(`/api/credentials/${c.credentialId}/rotations`, one, {});
    expect(started.statusCode, started.body).toBe(201);
    expect(await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: anonymous.id } })).toMatchObject({ state: 'cancelled', confirmTokenHash: null });
    const superseded = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: c.credentialId, action: 'credential.rotation_superseded' } });
    expect(superseded).toMatchObject({
      actorType: 'staff',
      actorId: one.staffId,
      detail: expect.objectContaining({ rotationId: anonymous.id, from: 'awaiting_confirmation', supersededBy: started.json().id }),
    });
    const confirm = await t.inject({ method: 'POST', url: '/api/rotation-requests/confirm', payload: { token: link } });
    expect([confirm.statusCode, confirm.json().code]).toEqual([404, 'rotation/link_invalid']);

    // Asking again while staff's rotation is open changes nothing for staff.
    expect((await t.inject({ method: 'POST', url: '/api/rotation-requests', payload: { clientId: c.clientId } })).statusCode).toBe(202);
    expect(await t.prisma.credentialRotation.count({ where: { credentialId: c.credentialId } })).toBe(2);
    expect((await post(`/api/rotations/${started.json().id}/approve`, two)).statusCode).toBe(200);
  });

  it('a partner request confirmed while staff start a rotation is not superseded unasked', async () => {
    const c = await issueCredential(t);
    expect((await t.inject({ method: 'POST', url: '/api/rotation-requests', payload: { clientId: c.clientId } })).statusCode).toBe(202);
    const pending = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: c.credentialId } });
    expect(pending.state).toBe('awaiting_confirmation');
    const admin = await t.db.admin();
    try {
      // The partner's confirmation, held open: staff's start reads the request as unconfirmed, then waits on its row.
      await admin.query('BEGIN');
      await admin.query(`UPDATE credential_rotation SET state = 'awaiting_approval', confirm_token_hash = NULL, confirmed_at = now() WHERE id = $1`, [
        pending.id,
      ]);
      const starting = post(`/api/credentials/${c.credentialId}/rotations`, one, {});
      let waiting = 0;
      for (let i = 0; i < 1500 && !waiting; i++) {
        await new Promise((r) => setTimeout(r, 20));
        waiting = (
          await admin.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid' AND pid <> pg_backend_pid()`,
          )
        ).rows[0].n;
      }
      expect(waiting, 'the start never reached the rotation row').toBeGreaterThan(0);
      await admin.query('COMMIT');
      const started = await starting;
      // Confirmed in the meantime, the request is one that is superseded only when asked.
      expect([started.statusCode, started.json().code]).toEqual([409, 'rotation/conflict']);
    } finally {
      await admin.end();
    }
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: pending.id } })).state).toBe('awaiting_approval');
    expect(await t.prisma.credentialRotation.count({ where: { credentialId: c.credentialId } })).toBe(1);
  });

  it('staff supersede or cancel any rotation not yet in use, by API and console, audited; the credential keeps working', async () => {
    const c = await issueCredential(t);
    const first = (await post(`/api/credentials/${c.credentialId}/rotations`, one, {})).json();
    const blocked = await post(`/api/credentials/${c.credentialId}/rotations`, two, {});
    expect([blocked.statusCode, blocked.json().code]).toEqual([409, 'rotation/already_open']);
    expect((await page(`/console/credentials/${c.credentialId}`, two)).body).toContain('Start a new rotation instead');
    const viaConsole = await consoleForm(`/console/credentials/${c.credentialId}/rotations`, two, { overlapDays: '2', supersede: '1' });
    expect(viaConsole.statusCode, viaConsole.body.slice(0, 500)).toBe(303);
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: first.id } })).state).toBe('cancelled');
    const secondRow = await t.prisma.credentialRotation.findFirstOrThrow({ where: { credentialId: c.credentialId, state: 'awaiting_approval' } });
    expect(secondRow).toMatchObject({ requestedById: two.staffId, overlapDays: 2 });

    // Being delivered: cancelling also cancels the undelivered secret and its link.
    const approved = await post(`/api/rotations/${secondRow.id}/approve`, one);
    expect(approved.statusCode, approved.body).toBe(200);
    const pending = await t.prisma.credentialSecret.findFirstOrThrow({ where: { credentialId: c.credentialId, state: 'pending_delivery' } });
    const detailPage = (await page(`/console/credentials/${c.credentialId}`, one)).body;
    expect(detailPage).toContain(`action="/console/rotations/${secondRow.id}/cancel"`);
    const cancelled = await consoleForm(`/console/rotations/${secondRow.id}/cancel`, one, { credentialId: c.credentialId });
    expect(cancelled.statusCode, cancelled.body.slice(0, 500)).toBe(303);
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: secondRow.id } })).state).toBe('cancelled');
    expect((await t.prisma.credentialSecret.findUniqueOrThrow({ where: { id: pending.id } })).state).toBe('cancelled');
    expect((await t.prisma.delivery.findUniqueOrThrow({ where: { id: pending.deliveryId! } })).state).toBe('cancelled');
    const audit = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: c.credentialId, action: 'credential.rotation_cancelled' } });
    expect(audit).toMatchObject({
      actorId: one.staffId,
      detail: expect.objectContaining({ rotationId: secondRow.id, from: 'delivering', cancelledSecretId: pending.id }),
    });
    expect((await token(c.clientId, c.secret)).statusCode).toBe(200);

    const again = await post(`/api/rotations/${secondRow.id}/cancel`, two);
    expect([again.statusCode, again.json().code]).toEqual([409, 'rotation/invalid_transition']);
    const third = (await post(`/api/credentials/${c.credentialId}/rotations`, two, {})).json();
    const fourth = await post(`/api/credentials/${c.credentialId}/rotations`, one, { supersede: true });
    expect(fourth.statusCode, fourth.body).toBe(201);
    expect((await t.prisma.credentialRotation.findUniqueOrThrow({ where: { id: third.id } })).state).toBe('cancelled');
    const byApi = await post(`/api/rotations/${fourth.json().id}/cancel`, two, { reason: 'Asked by mistake' });
    expect(byApi.statusCode, byApi.body).toBe(200);
    expect(byApi.json()).toMatchObject({ id: fourth.json().id, state: 'cancelled' });
    expect(byApi.json()).not.toHaveProperty('confirmTokenHash');
    expect(await t.prisma.auditEvent.count({ where: { subjectId: c.credentialId, action: 'credential.rotation_superseded' } })).toBe(2);
    expect(
      await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: c.credentialId, action: 'credential.rotation_cancelled', actorId: two.staffId } }),
    ).toMatchObject({ detail: expect.objectContaining({ reason: 'Asked by mistake' }) });
  });
});

describe('ending an overlap before the old secret is quiet takes two reviewers', () => {
  it('refuses one reviewer; one asks, a different one ends it, and the audit names both', async () => {
    const { c, newSecret, rotationId } = await inOverlap();
    expect((await token(c.clientId, c.secret)).statusCode).toBe(200);

    const alone = await post(`/api/credentials/${c.credentialId}/end-overlap`, one);
    expect([alone.statusCode, alone.json().code]).toEqual([409, 'rotation/overlap_not_quiet']);
    expect((await token(c.clientId, c.secret)).statusCode).toBe(200);
    let body = (await page(`/console/credentials/${c.credentialId}`, one)).body;
    expect(body).toContain('Ask to end the overlap early');
    expect(body).not.toMatch(/<button type="submit">End overlap now<\/button>/);

    const asked = await post(`/api/credentials/${c.credentialId}/early-end-request`, one);
    expect(asked.statusCode, asked.body).toBe(200);
    expect(asked.json()).toMatchObject({ credentialId: c.credentialId, rotationId, requestedById: one.staffId });
    const own = await post(`/api/credentials/${c.credentialId}/end-overlap`, one);
    expect([own.statusCode, own.json().code]).toEqual([403, 'rotation/four_eyes']);
    body = (await page(`/console/credentials/${c.credentialId}`, one)).body;
    expect(body).toContain('You asked to end this overlap early: another reviewer must end it (four-eyes).');
    expect((await page(`/console/credentials/${c.credentialId}`, two)).body).toMatch(/<button type="submit">End overlap now<\/button>/);

    const ended = await consoleForm(`/console/credentials/${c.credentialId}/end-overlap`, two, {});
    expect(ended.statusCode, ended.body.slice(0, 500)).toBe(303);
    expect((await token(c.clientId, c.secret)).statusCode).toBe(401);
    expect((await token(c.clientId, newSecret)).statusCode).toBe(200);
    const events = await t.prisma.auditEvent.findMany({
      where: { subjectId: c.credentialId, action: { in: ['credential.overlap_early_end_requested', 'credential.overlap_ended'] } },
      orderBy: { seq: 'asc' },
    });
    expect(events.map((e) => [e.action, e.actorId])).toEqual([
      ['credential.overlap_early_end_requested', one.staffId],
      ['credential.overlap_ended', two.staffId],
    ]);
    expect(events[1].detail).toMatchObject({ quiet: false, override: { requestedById: one.staffId } });
  });

  it('lets one reviewer end it once the partner switched and the old secret was quiet for OVERLAP_QUIET_HOURS (moves the clock; runs last)', async () => {
    const { c, newSecret } = await inOverlap();
    expect((await token(c.clientId, newSecret)).statusCode).toBe(200);
    await t.app.get(ClientRegistry).flushLastUsed();
    t.clock.advance((t.config.credentials.overlapQuietHours + 1) * 3_600_000);
    // Sessions lapse over that time: a fresh one, alone.
    const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
    const ended = await post(`/api/credentials/${c.credentialId}/end-overlap`, reviewer);
    expect(ended.statusCode, ended.body).toBe(200);
    const event = await t.prisma.auditEvent.findFirstOrThrow({ where: { subjectId: c.credentialId, action: 'credential.overlap_ended' } });
    expect(event.detail).toMatchObject({ quiet: true, override: null });
  });
});
