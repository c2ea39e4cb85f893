import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { generateKeyPairSync } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service.js';
import { CheckpointSchedule } from '../src/notifications/audit-checkpoint.schedule.js';
import { CLI_COMMANDS, type CliIo } from '../src/cli.commands.js';
import { systemContext } from '../src/common/request-context.js';
import { NotificationsService } from '../src/notifications/notifications.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createStaffWithSession } from './support/factories.js';
import { FakeSmtp } from './support/fake-smtp.js';

let t: TestApp;
let smtp: FakeSmtp;
let audit: AuditService;

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  t = await startTestApp({ env: { SMTP_URL: smtp.url, STAFF_ALERT_EMAIL: 'audit-alerts@retailer.example' } });
  audit = t.app.get(AuditService);
});
afterAll(async () => {
  await t?.close();
  await smtp?.stop();
});

function cli(name: string, args: Record<string, unknown> = {}): Promise<{ code: number; out: string }> {
  let out = '';
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  const io: CliIo = { stdout, stdin: Readable.from([]) };
  return CLI_COMMANDS.find((c) => c.name === name)!
    .run(t.app, args as Record<string, string>, io)
    .then((code) => ({ code, out }));
}

const record = (action: string) => t.prisma.transaction((tx) => audit.record(tx, systemContext(), { action, subjectType: 'thing' }));

/** An admin asked for a checkpoint through the API. */
async function adminCheckpoint() {
  await record('test.before');
  const admin = await createStaffWithSession(t, { role: 'admin' });
  const res = await t.inject({ method: 'POST', url: '/api/audit-events/checkpoints', headers: admin.headers });
  return { admin, res, c: res.json() };
}

/** A new day on the clock, and the schedule's rounds of that day, with an event between two of them. */
async function aDaysRounds() {
  t.clock.advance(24 * 3600_000);
  const mailedBefore = await t.prisma.auditEvent.count({ where: { action: 'audit.checkpoint_mailed' } });
  const seen = smtp.messages.length;
  const schedule = t.app.get(CheckpointSchedule);
  await schedule.tick();
  await record('test.between_ticks');
  await schedule.tick();
  await t.app.get(NotificationsService).drain();
  return {
    mails: smtp.messages.slice(seen).filter((m) => m.subject.startsWith('Audit checkpoint')),
    mailedRows: (await t.prisma.auditEvent.count({ where: { action: 'audit.checkpoint_mailed' } })) - mailedBefore,
  };
}

/** The day's emailed checkpoint saved to a file of its own folder, as someone keeping it outside the service would. */
async function emailedCheckpointFile() {
  const { mails } = await aDaysRounds();
  const text = mails[0].text;
  const dir = mkdtempSync(join(tmpdir(), 'emailed-checkpoint-'));
  writeFileSync(join(dir, 'emailed.json'), text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
  return { dir, file: join(dir, 'emailed.json') };
}

describe('signed audit checkpoints', () => {
  it('are signed on demand by an admin', async () => {
    const { res, c } = await adminCheckpoint();
    expect(res.statusCode).toBe(201);
    expect(c).toMatchObject({
      type: 'audit-checkpoint',
      version: 1,
      seq: expect.stringMatching(/^\d+$/),
      headHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      signature: expect.any(String),
    });
  });

  it('land outside the database', async () => {
    const { c } = await adminCheckpoint();
    expect(existsSync(join(t.config.audit.checkpointDir, c.file))).toBe(true);
  });

  it('cover the audit row of the request itself', async () => {
    const { admin, c } = await adminCheckpoint();
    const requested = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'audit.checkpoint_requested', actorId: admin.staffId } });
    expect(requested).toMatchObject({ actorType: 'staff', actorId: admin.staffId });
    expect(BigInt(c.seq)).toBeGreaterThanOrEqual(requested.seq!);
  });

  it('are not for viewers', async () => {
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    expect((await t.inject({ method: 'POST', url: '/api/audit-events/checkpoints', headers: viewer.headers })).statusCode).toBe(403);
  });
});

describe('the daily checkpoint email', () => {
  it('goes to STAFF_ALERT_EMAIL once a day', async () => {
    const { mails, mailedRows } = await aDaysRounds();
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual(['audit-alerts@retailer.example']);
    expect(mailedRows).toBe(1);
  });

  it('verifies the chain with the public key alone', async () => {
    const { dir, file } = await emailedCheckpointFile();
    const key = await cli('audit:checkpoint-key');
    expect(key.out).toMatch(/-----BEGIN PUBLIC KEY-----/);
    writeFileSync(join(dir, 'checkpoint.pem'), key.out);
    await record('test.after_mail');
    const ok = await cli('audit:verify', { checkpoints: [file], 'public-key': join(dir, 'checkpoint.pem') });
    expect(ok.out).toMatch(/audit chain OK: .* 1 of 1 signed checkpoints matched/);
    expect(ok.code).toBe(0);
  });

  it("is not vouched for by another key's public half", async () => {
    const { dir, file } = await emailedCheckpointFile();
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    writeFileSync(join(dir, 'other.pem'), other);
    const refused = await cli('audit:verify', { checkpoints: [dir], 'public-key': join(dir, 'other.pem'), json: true });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({
      ok: false,
      checkpoints: { given: 0, rejected: [{ file, reason: expect.stringMatching(/another key/) }] },
    });
  });
});

describe('audit checkpoints from the CLI', () => {
  it('are written and named', async () => {
    const written = await cli('audit:checkpoint');
    expect(written.code).toBe(0);
    expect(written.out).toMatch(/checkpoint at seq \d+ .* signed by key [0-9a-f]{16}: audit-checkpoint-\d{12}-\w+\.json/);
  });

  it('name the broken row when the chain no longer matches', async () => {
    await record('test.first');
    await record('test.second');
    await cli('audit:checkpoint');
    const admin = await t.db.admin();
    await admin.query(`SET session_replication_role = replica`);
    const original = (await admin.query(`SELECT detail::text AS detail FROM audit_event WHERE seq = 2`)).rows[0].detail as string;
    onTestFinished(async () => {
      // The forged row as it was, so the chain verifies again for the other tests of this file.
      await admin.query(`UPDATE audit_event SET detail = $1::jsonb WHERE seq = 2`, [original]);
      await admin.end();
    });
    await admin.query(`UPDATE audit_event SET detail = '{"forged":true}' WHERE seq = 2`);
    const broken = await cli('audit:verify');
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^audit chain BROKEN at seq 2 \(id [0-9a-f-]{36}\): content does not match its MAC/);
  });
});
