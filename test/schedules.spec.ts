import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditService } from '../src/audit/audit.service.js';
import { systemContext } from '../src/common/request-context.js';
import { JOB_QUEUE_SCHEMA } from '../src/database/job-queue-schema.js';
import { CHECKPOINT_QUEUE, CheckpointSchedule, checkpointCron } from '../src/notifications/audit-checkpoint.schedule.js';
import { JobQueue } from '../src/notifications/job-queue.js';
import { FAILURE_SUMMARY_QUEUE } from '../src/oauth/failure-limiter.js';
import { SIGNING_KEYS_QUEUE } from '../src/oauth/signing-keys.service.js';
import { STAFF_HOUSEKEEPING_QUEUE } from '../src/staff/housekeeping.js';
import { basic, FORM_HEADERS, form, issueCredential } from './support/credentials.helpers.js';
import { startTestApp, type TestApp } from './support/app.js';
import { FakeSmtp } from './support/fake-smtp.js';

/**
 * Work on shared rows runs as pg-boss schedules: with two instances on one database, each period's job is
 * filed once and run by one of them, and the work itself still gets done.
 */
const DAY = 86_400_000;
let a: TestApp;
let b: TestApp;
let smtp: FakeSmtp;
const checkpointDir = mkdtempSync(join(tmpdir(), 'schedule-checkpoints-'));

beforeAll(async () => {
  smtp = await FakeSmtp.start();
  // One deployment: shared keys and one checkpoint folder.
  const env = {
    SMTP_URL: smtp.url,
    STAFF_ALERT_EMAIL: 'audit-alerts@retailer.example',
    MASTER_KEY: randomBytes(32).toString('base64'),
    SECRET_HASH_KEY: randomBytes(32).toString('base64'),
    AUDIT_CHECKPOINT_DIR: checkpointDir,
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: '300',
  };
  a = await startTestApp({ env });
  b = await startTestApp({ env, db: a.db, clock: a.clock });
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await smtp?.stop();
});

async function jobsFiled(queue: string): Promise<number> {
  const admin = await a.db.admin();
  try {
    return (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${JOB_QUEUE_SCHEMA}.job WHERE name = $1`, [queue])).rows[0].n;
  } finally {
    await admin.end();
  }
}

/** Both instances ask for the schedule's job at the same moment, inside one minute (one slot) of the database's clock. */
async function bothAtOnce(queue: string): Promise<{ runs: number; filed: number }> {
  const admin = await a.db.admin();
  try {
    const second = async () => Number((await admin.query<{ s: string }>(`SELECT extract(second FROM clock_timestamp()) AS s`)).rows[0].s);
    while ((await second()) > 55) await new Promise((r) => setTimeout(r, 250));
  } finally {
    await admin.end();
  }
  const before = await jobsFiled(queue);
  const ran = await Promise.all([a, b].map((x) => x.app.get(JobQueue).runScheduled(queue)));
  return { runs: ran.filter(Boolean).length, filed: (await jobsFiled(queue)) - before };
}

describe('schedules across two instances', () => {
  it('turns the checkpoint interval into a cron of whole minutes or hours', () => {
    expect([60, 90, 300, 3599, 3600, 7200, 86400].map(checkpointCron)).toEqual([
      '*/1 * * * *',
      '*/2 * * * *',
      '*/5 * * * *',
      '0 */1 * * *',
      '0 */1 * * *',
      '0 */2 * * *',
      '0 */24 * * *',
    ]);
  });

  it('staff housekeeping: one run per period, and the forgotten rows are gone', async () => {
    const old = new Date(a.clock.now().getTime() - 30 * DAY);
    const keys = [`account:sched-${randomUUID()}`, `ip:sched-${randomUUID()}`];
    for (const key of keys) await a.prisma.staffLoginThrottle.create({ data: { key, failures: 3, lastFailureAt: old } });
    const once = await bothAtOnce(STAFF_HOUSEKEEPING_QUEUE);
    expect(once).toEqual({ runs: 1, filed: 1 });
    expect(await a.prisma.staffLoginThrottle.count({ where: { key: { in: keys } } })).toBe(0);
  });

  it('token failure summary: one run per period, one audit row per client and window', async () => {
    const c = await issueCredential(a);
    for (let i = 0; i < 3; i++) {
      const res = await a.inject({
        method: 'POST',
        url: '/oauth/acceptance/token',
        headers: { ...FORM_HEADERS, authorization: basic(c.clientId, 'not-the-secret') },
        payload: form({ grant_type: 'client_credentials' }),
      });
      expect(res.statusCode).toBe(401);
    }
    a.clock.advance(301_000);
    const once = await bothAtOnce(FAILURE_SUMMARY_QUEUE);
    expect(once).toEqual({ runs: 1, filed: 1 });
    const rows = await a.prisma.auditEvent.findMany({ where: { action: 'oauth.token_failures_summarised', subjectId: c.clientId } });
    expect(rows).toHaveLength(1);
    expect(rows[0].detail).toMatchObject({ failures: 3, reasons: { wrong_secret: 3 } });
  });

  it('audit checkpoint: one run per period writes one checkpoint and one email, and the other instance adds no duplicate', async () => {
    await a.prisma.transaction((tx) => a.app.get(AuditService).record(tx, systemContext(), { action: 'test.before_checkpoint', subjectType: 'test' }));
    const files = () => readdirSync(checkpointDir).filter((f) => f.endsWith('.json'));
    const before = files().length;
    const once = await bothAtOnce(CHECKPOINT_QUEUE);
    expect(once).toEqual({ runs: 1, filed: 1 });
    expect(files().length).toBe(before + 1);
    expect(await a.prisma.auditEvent.count({ where: { action: 'audit.checkpoint_mailed' } })).toBe(1);
    // The emailing moved the chain: the next round (on either instance) covers it, and then nothing has moved.
    await a.app.get(CheckpointSchedule).tick();
    const after = files().length;
    a.clock.advance(60_000); // a checkpoint signed later is a file of its own
    await b.app.get(CheckpointSchedule).tick();
    expect(files().length).toBe(after);
    expect(await a.prisma.notification.count({ where: { template: 'audit-checkpoint' } })).toBe(1);
  });

  it('signing keys: one run per period prepublishes each successor once and forgets expired revocations', async () => {
    const jti = randomUUID();
    await a.prisma.oauthRevokedToken.create({
      data: { jti, environment: 'acceptance', clientId: 'sched-client', expiresAt: new Date(Date.now() - 60_000) },
    });
    a.clock.advance((a.config.credentials.signingKeyRotationDays - 0.5) * DAY);
    const prepublished = () => a.prisma.auditEvent.count({ where: { action: 'oauth.signing_key_prepublished' } });
    const before = await prepublished();
    const once = await bothAtOnce(SIGNING_KEYS_QUEUE);
    expect(once).toEqual({ runs: 1, filed: 1 });
    expect((await prepublished()) - before).toBe(2);
    expect(await a.prisma.oauthRevokedToken.findUnique({ where: { jti } })).toBeNull();
  });
});
