import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../../src/audit/audit.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createStaffWithSession, type StaffLogin } from '../support/factories.js';
import { ensureBuilt, sharedKeys, startInstance, type Instance } from '../support/instances.js';
import { basic, FORM_HEADERS, issueCredential } from '../support/credentials.helpers.js';

/**
 * Faults, the parts the delivery suite does not cover: PostgreSQL connections killed under load,
 * and the service process killed with SIGKILL in the middle of issuing credentials.
 */
const HALF_WRITTEN: Array<[string, string]> = [
  [
    'credential without a secret',
    `SELECT count(*)::int AS n FROM credential c WHERE NOT EXISTS (SELECT 1 FROM credential_secret s WHERE s.credential_id = c.id)`,
  ],
  [
    'credential without an audit event',
    `SELECT count(*)::int AS n FROM credential c WHERE NOT EXISTS (SELECT 1 FROM audit_event a WHERE a.subject_id = c.id::text)`,
  ],
  ['pending secret without a delivery', `SELECT count(*)::int AS n FROM credential_secret WHERE state = 'pending_delivery' AND delivery_id IS NULL`],
  [
    'delivery without its link email',
    `SELECT count(*)::int AS n FROM delivery d WHERE NOT EXISTS (SELECT 1 FROM notification n WHERE n.subject_id = d.id::text OR n.idempotency_key LIKE ` +
      `'%' || d.id::text || '%')`,
  ],
  [
    'approval marked issued without credentials',
    `SELECT count(*)::int AS n FROM onboarding_approval ap WHERE ap.issued_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM credential c WHERE ` +
      `c.onboarding_request_id = ap.request_id AND c.environment = ap.environment)`,
  ],
  [
    'credentials of an approval not marked issued',
    `SELECT count(*)::int AS n FROM credential c JOIN onboarding_approval ap ON ap.request_id = c.onboarding_request_id AND ap.environment = ` +
      `c.environment WHERE ap.issued_at IS NULL`,
  ],
  [
    'credential issued twice for one request and API',
    `SELECT count(*)::int AS n FROM (SELECT onboarding_request_id, api_environment_id FROM credential WHERE onboarding_request_id IS NOT NULL GROUP BY ` +
      `1, 2 HAVING count(*) > 1) x`,
  ],
  ['unsealed audit event', `SELECT count(*)::int AS n FROM audit_event WHERE seq IS NULL OR hash IS NULL`],
];

async function halfWritten(db: TestDatabase): Promise<Record<string, number>> {
  const c = await db.admin();
  try {
    const out: Record<string, number> = {};
    for (const [name, sql] of HALF_WRITTEN) out[name] = (await c.query<{ n: number }>(sql)).rows[0].n;
    return out;
  } finally {
    await c.end();
  }
}
const zeros = () => Object.fromEntries(HALF_WRITTEN.map(([n]) => [n, 0]));

describe('PostgreSQL connections killed under load', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('keeps answering in the error contract while backends are terminated, recovers at once, and the audit chain verifies', async () => {
    const cred = await issueCredential(t);
    const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
    const admin = await t.db.admin();
    const byStatus: Record<number, number> = {};
    const outsideContract: string[] = [];
    let killed = 0;
    let running = true;
    const load = async (w: number) => {
      let i = 0;
      while (running) {
        const kind = i++ % 3;
        const res =
          kind === 0
            ? await t.inject({
                method: 'POST',
                url: '/oauth/acceptance/token',
                headers: { ...FORM_HEADERS, authorization: basic(cred.clientId, cred.secret) },
                payload: 'grant_type=client_credentials',
              })
            : kind === 1
              ? await t.inject({ method: 'GET', url: `/api/audit-events?limit=5`, headers: reviewer.headers })
              : await t.inject({ method: 'GET', url: `/api/credentials/${cred.credentialId}`, headers: reviewer.headers });
        byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 400) {
          const body = res.json() as Record<string, unknown>;
          const ok = (typeof body.code === 'string' && typeof body.correlationId === 'string') || typeof body.error === 'string';
          if (!ok) outsideContract.push(`${res.statusCode} ${res.body.slice(0, 120)} (worker ${w})`);
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => load(w));
    const chaosUntil = Date.now() + 5_000;
    while (Date.now() < chaosUntil) {
      await new Promise((r) => setTimeout(r, 400));
      const r = await admin.query(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      killed += r.rows[0].n as number;
    }
    running = false;
    await Promise.all(workers);
    const during = { ...byStatus };
    // Recovery: the very next requests succeed.
    const after: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await t.inject({
        method: 'POST',
        url: '/oauth/acceptance/token',
        headers: { ...FORM_HEADERS, authorization: basic(cred.clientId, cred.secret) },
        payload: 'grant_type=client_credentials',
      });
      after.push(res.statusCode);
    }
    const health = await t.inject({ method: 'GET', url: '/health' });
    await admin.end();
    const verify = await t.app.get(AuditService).verify();
    const total = Object.values(during).reduce((s, n) => s + n, 0);
    const fiveXX = Object.entries(during)
      .filter(([s]) => Number(s) >= 500)
      .reduce((s, [, n]) => s + n, 0);
    process.stdout.write(
      `[proof] faults: ${killed} PostgreSQL backends terminated during 5 s of load; ${total} requests, by status ${JSON.stringify(during)} (${fiveXX} ` +
        `5xx while connections died); ` +
        `${outsideContract.length} outside the error contract; after: ${after.filter((s) => s === 200).length}/20 token requests 200, health ` +
        `${health.statusCode}; audit verify ${JSON.stringify({ ok: verify.ok, checked: verify.checked })}\n`,
    );
    expect(killed).toBeGreaterThan(0);
    expect(outsideContract).toEqual([]);
    expect(after.every((s) => s === 200)).toBe(true);
    expect(health.statusCode).toBe(200);
    expect(verify.ok).toBe(true);
    expect(await halfWritten(t.db)).toEqual(zeros());
  }, 60_000);
});

describe('the service killed with SIGKILL in the middle of issuing credentials', () => {
  let db: TestDatabase;
  let helper: TestApp;
  let instance: Instance | undefined;
  const keys = sharedKeys();

  beforeAll(async () => {
    ensureBuilt();
    db = await createTestDatabase();
    helper = await startTestApp({ db, env: keys });
  }, 240_000);
  afterAll(async () => {
    await instance?.kill();
    const verify = await helper?.app.get(AuditService).verify();
    process.stdout.write(`[proof] faults: audit chain after the SIGKILL suite: ${JSON.stringify({ ok: verify?.ok, checked: verify?.checked })}\n`);
    await helper?.close();
    await db?.drop();
    expect(verify?.ok).toBe(true);
  }, 60_000);

  async function approvedRequests(n: number, creator: StaffLogin, approver: StaffLogin): Promise<string[]> {
    const json = (h: Record<string, string>) => ({ ...h, 'content-type': 'application/json', accept: 'application/json' });
    const catalogue = (await helper.inject({ method: 'GET', url: '/api/onboarding-requests/catalogue', headers: approver.headers })).json() as Array<{
      apiKey?: string;
      api?: string;
    }>;
    const api = catalogue.map((c) => c.apiKey ?? c.api).find(Boolean) ?? 'business';
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const created = await helper.inject({
        method: 'POST',
        url: '/api/onboarding-requests',
        headers: json(creator.headers),
        payload: {
          partner: { legalName: `Crash Test ${i} B.V.`, registrationNumber: `6100${String(i).padStart(4, '0')}`, country: 'NL' },
          contact: { name: 'Crash Contact', email: `crash-${i}@partner.example`, mobile: '+31612345678' },
          language: 'en',
          purpose: 'Issued while the service is killed, to prove nothing is half-issued.',
          items: [{ api, environment: 'acceptance' }],
        },
      });
      const id = (created.json() as { id: string }).id;
      await helper.inject({ method: 'POST', url: `/api/onboarding-requests/${id}/start-review`, headers: json(approver.headers), payload: {} });
      const approved = await helper.inject({
        method: 'POST',
        url: `/api/onboarding-requests/${id}/approvals`,
        headers: json(approver.headers),
        payload: { environment: 'acceptance' },
      });
      expect(approved.statusCode, approved.body).toBeLessThan(300);
      ids.push(id);
    }
    return ids;
  }

  it('leaves nothing half-issued, issues each approval once after the restart, and the audit chain verifies', async () => {
    const creator = await createStaffWithSession(helper, { role: 'reviewer' });
    const approver = await createStaffWithSession(helper, { role: 'admin' });
    const requests = await approvedRequests(40, creator, approver);
    const env = { DATABASE_URL: db.url, ...keys, NOTIFICATION_WORKERS: 'false' };
    instance = await startInstance('crash-victim', env);
    const issue = (inst: Instance, id: string) =>
      fetch(`${inst.baseUrl}/api/onboarding-requests/${id}/issue`, {
        method: 'POST',
        headers: { ...approver.headers, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ environment: 'acceptance' }),
      }).then(
        (r) => r.status,
        () => 0,
      );
    const inFlight = requests.map((id) => issue(instance!, id));
    // Kill while the issues are being processed: once a few have answered, long before all of them.
    let done = 0;
    for (const p of inFlight) void p.then(() => done++);
    // On a busy runner the first answer can take longer than a few seconds; a kill before any issue was
    // processed would prove nothing about half-written state.
    const killAt = Date.now() + 30_000;
    while (done < 5 && Date.now() < killAt) await new Promise((r) => setTimeout(r, 5));
    const answeredBeforeKill = done;
    await instance.kill();
    const statuses = await Promise.all(inFlight);
    const answered = statuses.filter((s) => s > 0 && s < 300).length;
    const cut = statuses.filter((s) => s === 0).length;
    const afterCrash = await halfWritten(db);
    const issuedAtCrash = await helper.prisma.credential.count({ where: { onboardingRequestId: { in: requests } } });

    // Restart on the same database and issue whatever is still approved and not issued.
    instance = await startInstance('crash-victim-restarted', env);
    const retry = await Promise.all(requests.map((id) => issue(instance!, id)));
    const retryOk = retry.filter((s) => s >= 200 && s < 300).length;
    const retryConflict = retry.filter((s) => s === 409).length;
    const credentials = await helper.prisma.credential.groupBy({ by: ['onboardingRequestId'], where: { onboardingRequestId: { in: requests } }, _count: true });
    const duplicates = credentials.filter((c) => c._count > 1).length;
    // Events committed just before the kill may still wait for their seal; any instance of the deployment seals them.
    await helper.app.get(AuditService).sealPending();
    const afterRestart = await halfWritten(db);
    const verify = await helper.app.get(AuditService).verify();
    process.stdout.write(
      `[proof] faults: SIGKILL after ${answeredBeforeKill} answers with ${requests.length} issues in flight: ${answered} answered, ${cut} cut off, ` +
        `${issuedAtCrash} credentials committed; ` +
        `half-written after the crash ${JSON.stringify(Object.values(afterCrash).reduce((s, n) => s + n, 0))}; after restart: ${retryOk} issued on ` +
        `retry, ${retryConflict} already issued (409), ` +
        `${credentials.length}/${requests.length} requests with credentials, ${duplicates} duplicates; audit verify ` +
        `${JSON.stringify({ ok: verify.ok, checked: verify.checked })}\n`,
    );
    expect(cut).toBeGreaterThan(0); // the kill really landed mid-way
    expect(answered + issuedAtCrash, 'the kill landed before any issue was processed').toBeGreaterThan(0);
    expect(afterCrash).toEqual({ ...zeros(), 'unsealed audit event': afterCrash['unsealed audit event'] });
    expect(afterRestart).toEqual(zeros());
    expect(credentials.length).toBe(requests.length);
    expect(duplicates).toBe(0);
    expect(retryOk + retryConflict).toBe(requests.length);
    expect(verify.ok).toBe(true);
  }, 180_000);
});
