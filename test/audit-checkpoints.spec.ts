import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('signed audit checkpoints', () => {
  it('are signed on demand by an admin, cover the request itself and land outside the database', async () => {
    await record('test.before');
    const admin = await createStaffWithSession(t, { role: 'admin' });
    const res = await t.inject({ method: 'POST', url: '/api/audit-events/checkpoints', headers: admin.headers });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      type: 'audit-checkpoint',
      version: 1,
      seq: expect.stringMatching(/^\d+$/),
      headHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      signature: expect.any(String),
    });
    expect(existsSync(join(t.config.audit.checkpointDir, c.file))).toBe(true);
    const requested = await t.prisma.auditEvent.findFirstOrThrow({ where: { action: 'audit.checkpoint_requested' } });
    expect(requested).toMatchObject({ actorType: 'staff', actorId: admin.staffId });
    expect(BigInt(c.seq)).toBeGreaterThanOrEqual(requested.seq!);
    const viewer = await createStaffWithSession(t, { role: 'viewer' });
    expect((await t.inject({ method: 'POST', url: '/api/audit-events/checkpoints', headers: viewer.headers })).statusCode).toBe(403);
  });

  it('go to STAFF_ALERT_EMAIL once a day, and the emailed copy verifies the chain with the public key alone', async () => {
    const schedule = t.app.get(CheckpointSchedule);
    await schedule.tick();
    await record('test.between_ticks');
    await schedule.tick();
    await t.app.get(NotificationsService).drain();
    const mails = smtp.messages.filter((m) => m.subject.startsWith('Audit checkpoint'));
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual(['audit-alerts@retailer.example']);
    expect(await t.prisma.auditEvent.count({ where: { action: 'audit.checkpoint_mailed' } })).toBe(1);

    const text = mails[0].text;
    const dir = mkdtempSync(join(tmpdir(), 'emailed-checkpoint-'));
    writeFileSync(join(dir, 'emailed.json'), text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
    const key = await cli('audit:checkpoint-key');
    expect(key.out).toMatch(/-----BEGIN PUBLIC KEY-----/);
    writeFileSync(join(dir, 'checkpoint.pem'), key.out);
    await record('test.after_mail');

    const ok = await cli('audit:verify', { checkpoints: [join(dir, 'emailed.json')], 'public-key': join(dir, 'checkpoint.pem') });
    expect(ok.out).toMatch(/audit chain OK: .* 1 of 1 signed checkpoints matched/);
    expect(ok.code).toBe(0);

    // Another key's public half does not vouch for it.
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    writeFileSync(join(dir, 'other.pem'), other);
    const refused = await cli('audit:verify', { checkpoints: [dir], 'public-key': join(dir, 'other.pem'), json: true });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({
      ok: false,
      checkpoints: { given: 0, rejected: [{ file: join(dir, 'emailed.json'), reason: expect.stringMatching(/another key/) }] },
    });
  });

  it('are written by the CLI and name the broken row when the chain no longer matches', async () => {
    const written = await cli('audit:checkpoint');
    expect(written.code).toBe(0);
    expect(written.out).toMatch(/checkpoint at seq \d+ .* signed by key [0-9a-f]{16}: audit-checkpoint-\d{12}-\w+\.json/);
    const admin = await t.db.admin();
    await admin.query(`SET session_replication_role = replica`);
    await admin.query(`UPDATE audit_event SET detail = '{"forged":true}' WHERE seq = 2`);
    await admin.end();
    const broken = await cli('audit:verify');
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^audit chain BROKEN at seq 2 \(id [0-9a-f-]{36}\): content does not match its MAC/);
  });
});
