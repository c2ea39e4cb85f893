import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller, Get, Module } from '@nestjs/common';
import { createTestingApp } from '../support/testing-app.js';
import { Clock } from '../../src/common/clock.js';
import { createLogger } from '../../src/common/logger.js';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../../src/audit/audit.service.js';
import type { StaffRole } from '../../src/generated/prisma/enums.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createStaffWithSession, type StaffLogin } from '../support/factories.js';
import { concretePath, recordFastifyRoutes, routeKey, routeTable, type RouteEntry } from '../support/route-table.js';

recordFastifyRoutes();

type Policy = 'public' | StaffRole;

/**
 * Who may call what. EVERY route the app registers needs a row here, and every row needs a route: adding
 * a route without deciding its policy fails this file. `public` means "reachable without a staff session"
 * (partner pages, OAuth endpoints, health, docs); a role means "that role or higher".
 */
const POLICY: Record<string, Policy> = {
  // operations and documentation
  'GET /': 'public',
  'GET /assets/*': 'public',
  'GET /docs': 'public',
  'GET /docs-yaml': 'public',
  'GET /docs/*': 'public',
  'GET /docs/docs/swagger-ui-init.js': 'public',
  'GET /docs/index.html': 'public',
  'GET /docs/LICENSE': 'public',
  'GET /docs/openapi.json': 'public',
  'GET /docs/swagger-ui-init.js': 'public',
  'GET /health': 'public',
  'GET /metrics': 'public', // bearer METRICS_TOKEN when configured (required in production), not a staff session
  // audit trail
  'GET /api/audit-events': 'viewer',
  'GET /api/audit-events/verify': 'admin',
  'POST /api/audit-events/checkpoints': 'admin',
  // notifications
  'GET /api/notifications': 'viewer',
  // onboarding (JSON API)
  'GET /api/onboarding-requests': 'viewer',
  'POST /api/onboarding-requests': 'reviewer',
  'GET /api/onboarding-requests/:id': 'viewer',
  'PATCH /api/onboarding-requests/:id': 'reviewer',
  'POST /api/onboarding-requests/:id/approvals': 'reviewer',
  'POST /api/onboarding-requests/:id/confirm-contact': 'reviewer',
  'POST /api/onboarding-requests/:id/contact-line-override': 'reviewer',
  'GET /api/onboarding-requests/:id/history': 'viewer',
  'POST /api/onboarding-requests/:id/reject': 'reviewer',
  'POST /api/onboarding-requests/:id/request-changes': 'reviewer',
  'POST /api/onboarding-requests/:id/start-review': 'reviewer',
  'POST /api/onboarding-requests/:id/withdraw': 'reviewer',
  'GET /api/onboarding-requests/catalogue': 'viewer',
  'GET /api/onboarding-requests/issuable': 'viewer',
  // staff accounts and own account (JSON API)
  'GET /api/keys/status': 'admin',
  'GET /api/signing-keys': 'admin',
  'POST /api/signing-keys/:kid/withdraw': 'admin',
  'GET /api/staff': 'admin',
  'POST /api/staff': 'admin',
  'GET /api/staff/:id': 'admin',
  'POST /api/staff/:id/disable': 'admin',
  'POST /api/staff/:id/enable': 'admin',
  'POST /api/staff/:id/reset-totp': 'admin',
  'PUT /api/staff/:id/role': 'admin',
  'POST /api/staff/:id/reset-sign-in': 'admin',
  'GET /api/staff/me': 'viewer',
  'POST /api/staff/me/recovery-codes': 'viewer',
  'POST /api/staff/me/sign-out': 'viewer',
  'POST /api/staff/me/sign-out-everywhere': 'viewer',
  // partner intake (public, rate-limited)
  'GET /apply': 'public',
  'POST /apply': 'public',
  'POST /apply/submit': 'public',
  // JSON sign-in (password, then second factor): public by nature, throttled like the pages
  'POST /api/session': 'public',
  'POST /api/session/second-factor': 'public',
  // staff console: sign-in, account, audit
  'GET /console': 'public',
  'GET /console/account': 'viewer',
  'POST /console/account/recovery-codes': 'viewer',
  'POST /console/account/password': 'viewer',
  'POST /console/account/sign-out-everywhere': 'viewer',
  'GET /console/audit': 'viewer',
  'GET /console/home': 'viewer',
  'GET /console/overview': 'viewer',
  'GET /console/notifications': 'viewer',
  'GET /console/enrol': 'public',
  'POST /console/enrol': 'public',
  'GET /console/sign-in': 'public',
  'POST /console/sign-in': 'public',
  'GET /console/sign-in/second-factor': 'public',
  'POST /console/sign-in/second-factor': 'public',
  'POST /console/sign-out': 'viewer',
  // staff console: onboarding requests
  'GET /console/requests': 'viewer',
  'GET /console/requests/:id': 'viewer',
  'POST /console/requests/:id/approve': 'reviewer',
  'GET /console/requests/:id/approve': 'reviewer',
  'POST /console/requests/:id/confirm-contact': 'reviewer',
  'POST /console/requests/:id/allow-contact-number': 'reviewer',
  'POST /console/requests/:id/reject': 'reviewer',
  'POST /console/requests/:id/request-changes': 'reviewer',
  'POST /console/requests/:id/start-review': 'reviewer',
  'POST /console/requests/:id/withdraw': 'reviewer',
  'GET /console/requests/new': 'reviewer',
  'POST /console/requests/new': 'reviewer',
  // staff console: staff management
  'GET /console/staff': 'admin',
  'POST /console/staff': 'admin',
  'GET /console/staff/:id': 'admin',
  'POST /console/staff/:id/:action': 'admin',
  'GET /console/staff/:id/disable': 'admin',
  'GET /console/staff/new': 'admin',
  // API catalogue (which API x environment pairs exist and are open)
  'GET /api/catalogue': 'viewer',
  'PUT /api/catalogue/:apiEnvironmentId': 'admin',
  'GET /console/catalogue': 'viewer',
  'POST /console/catalogue/:id': 'admin',
  // credentials: reading for every staff member; issuing, revoking and rotating for reviewers
  'GET /api/credentials': 'viewer',
  'GET /api/credentials/:id': 'viewer',
  'POST /api/credentials/:id/revoke': 'reviewer',
  'POST /api/onboarding-requests/:id/issue': 'reviewer',
  'POST /api/partners/:id/credentials/revoke': 'reviewer',
  'GET /console/credentials': 'viewer',
  'GET /console/credentials/:id': 'viewer',
  'POST /console/credentials/:id/revoke': 'reviewer',
  'GET /console/credentials/:id/revoke': 'reviewer',
  'GET /console/credentials/issue/confirm': 'reviewer',
  'GET /console/credentials/issue': 'reviewer',
  'POST /console/credentials/issue': 'reviewer',
  // rotation and re-delivery: started by one reviewer, approved by another (four-eyes in the service)
  'POST /api/credentials/:id/rotations': 'reviewer',
  'POST /api/rotations/:id/approve': 'reviewer',
  'POST /api/credentials/:id/end-overlap': 'reviewer',
  'POST /api/credentials/:id/early-end-request': 'reviewer',
  'POST /api/rotations/:id/cancel': 'reviewer',
  'POST /api/credentials/:id/redeliver': 'reviewer',
  'POST /console/credentials/:id/rotations': 'reviewer',
  'POST /console/rotations/:rotationId/approve': 'reviewer',
  'POST /console/credentials/:id/end-overlap': 'reviewer',
  'GET /console/credentials/:id/end-overlap': 'reviewer',
  'POST /console/credentials/:id/early-end-request': 'reviewer',
  'POST /console/rotations/:rotationId/cancel': 'reviewer',
  'POST /console/credentials/:id/redeliver': 'reviewer',
  'POST /console/partners/:partnerId/credentials/revoke': 'reviewer',
  'GET /console/partners/:partnerId/credentials/revoke': 'reviewer',
  // the partner's rotation request (answers the same whatever client_id it names) and its emailed confirmation link
  'GET /rotate': 'public',
  // the public environments page, generated from the catalogue
  'GET /environments': 'public',
  'POST /rotate': 'public',
  'GET /rotate/confirm/:token': 'public',
  'POST /rotate/confirm': 'public',
  'POST /api/rotation-requests': 'public',
  'POST /api/rotation-requests/confirm': 'public',
  // "Why was my token refused?": public, rate-limited per IP, tokens only; failed token requests for staff
  'GET /token-explain': 'public',
  'POST /token-explain': 'public',
  'POST /api/token-explain': 'public',
  'GET /console/token-failures': 'viewer',
  // leaked secrets: GitHub's alerts (authenticated by GitHub's ECDSA signature over the body, not a session),
  // the public report form (limited per IP, same answer whatever is sent) and the staff's list and form
  'POST /secret-scanning/github': 'public',
  'GET /report-leak': 'public',
  'POST /report-leak': 'public',
  'GET /console/leaks': 'viewer',
  'GET /console/leaks/report': 'reviewer',
  'POST /console/leaks/report': 'reviewer',
  // OAuth token service and metadata (client authentication, never a staff session)
  'POST /oauth/:env/token': 'public',
  'POST /oauth/:env/introspect': 'public',
  'POST /oauth/:env/revoke': 'public',
  'GET /oauth/:env/jwks': 'public',
  'GET /oauth/:env/.well-known/oauth-authorization-server': 'public',
  'GET /.well-known/oauth-authorization-server/oauth/:env': 'public',
  // secret delivery (the one-time link token and SMS code are the capability, not a staff session)
  'GET /delivery': 'public',
  'POST /delivery/open': 'public',
  'POST /delivery/code': 'public',
  'POST /delivery/reveal': 'public',
  'POST /api/deliveries/lookup': 'public',
  'POST /api/deliveries/code': 'public',
  'POST /api/deliveries/reveal': 'public',
  'GET /api/deliveries': 'viewer',
  'GET /api/deliveries/sim-swap-holds': 'viewer',
  'POST /api/deliveries/:id/sim-swap-clear': 'reviewer',
  'POST /console/deliveries/:id/clear-sim-swap': 'reviewer',
  // dev outbox (404 unless DEV_OUTBOX; refused in production)
  'GET /dev/outbox': 'public',
  'GET /dev/outbox.json': 'public',
  // partner status link (public; the unguessable token in the path is the capability)
  'GET /requests/:token': 'public',
  'GET /requests/:token/confirmation': 'public',
  'GET /requests/:token/edit': 'public',
  'POST /requests/:token/edit': 'public',
  'GET /requests/:token/withdraw': 'public',
  'POST /requests/:token/withdraw': 'public',
};

const ROLES: StaffRole[] = ['viewer', 'reviewer', 'admin'];
const RANK: Record<StaffRole, number> = { viewer: 1, reviewer: 2, admin: 3 };
const GUARD_CODES = new Set(['auth/signin_required', 'auth/role_required', 'auth/no_policy', 'auth/csrf_failed']);
const UNSAFE = (m: string) => !['GET', 'HEAD', 'OPTIONS'].includes(m);

let t: TestApp;
let table: RouteEntry[];

beforeAll(async () => {
  t = await startTestApp();
  table = routeTable(t.app);
});
afterAll(async () => {
  const result = await t.app.get(AuditService).verify();
  process.stdout.write(`[proof] access control: audit chain after the suite: ${JSON.stringify({ ok: result.ok, checked: result.checked })}\n`);
  expect(result.ok).toBe(true);
  await t.close();
});

function paramValue(name: string): string {
  if (/env/i.test(name)) return 'acceptance';
  if (name === '*') return 'x';
  return randomUUID();
}

interface Outcome {
  status: number;
  code?: string;
  error?: string;
  location?: string;
}

async function call(route: RouteEntry, headers: Record<string, string>): Promise<Outcome> {
  const url = concretePath(route.path, paramValue);
  const res = await t.inject({
    method: route.method as 'GET',
    url,
    headers: { accept: 'application/json', ...(UNSAFE(route.method) ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(UNSAFE(route.method) ? { payload: '{}' } : {}),
  });
  let code: string | undefined;
  let error: string | undefined;
  try {
    const body = res.json() as { code?: string; error?: string };
    code = body.code;
    error = body.error;
  } catch {
    /* not JSON: a page or a file */
  }
  return { status: res.statusCode, code, error, location: res.headers.location };
}

describe('route table (every staff route is guarded)', () => {
  it('lists every registered route with its metadata', () => {
    const nest = table.filter((r) => r.source === 'nest');
    process.stdout.write(`[proof] route table: ${table.length} routes (${nest.length} controller routes, ${table.length - nest.length} plugin routes)\n`);
    for (const r of table)
      process.stdout.write(
        `  ${routeKey(r).padEnd(52)} ${r.source === 'plugin' ? 'plugin/public' : r.isPublic ? 'public' : (r.role ?? 'NO POLICY')} ${r.handler ?? ''}\n`,
      );
    expect(nest.length).toBeGreaterThan(0);
  });

  it('A: every controller route is either @Public() or names a role', () => {
    const unguarded = table.filter((r) => r.source === 'nest' && !r.isPublic && !r.role).map((r) => `${routeKey(r)} (${r.handler})`);
    const both = table.filter((r) => r.source === 'nest' && r.isPublic && r.role).map((r) => `${routeKey(r)} (${r.handler}) is both @Public() and @Roles()`);
    expect([...unguarded, ...both], 'routes without a clear access policy').toEqual([]);
  });

  it('A: the guard is global and fail-closed: a controller with neither @Public() nor @Roles() answers 403 auth/no_policy', async () => {
    @Controller('probe-without-policy')
    class ProbeController {
      @Get()
      open() {
        return { reached: true };
      }
    }
    @Module({ controllers: [ProbeController] })
    class ProbeModule {}
    const probe = await createTestingApp(t.config, {
      logger: createLogger('silent'),
      overrides: [{ provide: Clock, useValue: t.clock }],
      extraImports: [ProbeModule],
    });
    try {
      const admin = await createStaffWithSession(t, { role: 'admin' });
      for (const headers of [{}, admin.headers]) {
        const res = await probe.inject({ method: 'GET', url: '/probe-without-policy', headers });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ code: 'auth/no_policy' });
      }
    } finally {
      await probe.close();
    }
  });

  it('B: the policy table has a row for every route, and every row names a live route', () => {
    const keys = new Set(table.map(routeKey));
    const missing = [...keys].filter((k) => !(k in POLICY));
    const stale = Object.keys(POLICY).filter((k) => !keys.has(k));
    if (missing.length) {
      // Suggested rows from the decorators, for a person to review before pasting them into POLICY.
      const suggest = table
        .filter((r) => missing.includes(routeKey(r)))
        .map((r) => `  '${routeKey(r)}': '${r.source === 'plugin' || r.isPublic ? 'public' : (r.role ?? 'NO POLICY')}',`);
      process.stdout.write(`[proof] routes without a policy row (suggested from their decorators; review before adding):\n${suggest.join('\n')}\n`);
    }
    expect({ routesWithoutPolicyRow: missing, rowsWithoutRoute: stale }).toEqual({ routesWithoutPolicyRow: [], rowsWithoutRoute: [] });
  });

  it('B: the policy table agrees with the decorators', () => {
    const disagreements = table
      .filter((r) => POLICY[routeKey(r)])
      .filter((r) => {
        const declared: Policy = r.source === 'plugin' || r.isPublic ? 'public' : (r.role as StaffRole);
        return declared !== POLICY[routeKey(r)];
      })
      .map((r) => `${routeKey(r)}: table says ${POLICY[routeKey(r)]}, code says ${r.isPublic || r.source === 'plugin' ? 'public' : r.role}`);
    expect(disagreements).toEqual([]);
  });

  it('B: every route answers anonymous, viewer, reviewer and admin callers exactly as its policy says', async () => {
    const problems: string[] = [];
    const figures = { calls: 0, fiveXX: 0 };
    for (const route of table) {
      const policy = POLICY[routeKey(route)];
      if (!policy) continue; // reported by the row-coverage test
      // Fresh sessions per route: a route may end the caller's session (sign-out) or change their account.
      const logins: Record<StaffRole, StaffLogin> = {
        viewer: await createStaffWithSession(t, { role: 'viewer' }),
        reviewer: await createStaffWithSession(t, { role: 'reviewer' }),
        admin: await createStaffWithSession(t, { role: 'admin' }),
      };
      const callers: Array<[string, Record<string, string>, StaffRole | null]> = [
        ['anonymous', {}, null],
        ...ROLES.map((r): [string, Record<string, string>, StaffRole] => [r, logins[r].headers, r]),
      ];
      for (const [who, headers, role] of callers) {
        const out = await call(route, headers);
        figures.calls++;
        const where = `${routeKey(route)} as ${who}: ${out.status} ${out.code ?? out.error ?? ''}`;
        if (out.status >= 500) {
          figures.fiveXX++;
          problems.push(`${where} (server error)`);
          continue;
        }
        if (policy === 'public') {
          if (out.code && GUARD_CODES.has(out.code)) problems.push(`${where} (public route refused by the staff guard)`);
        } else if (role === null) {
          const redirectToSignIn = out.status >= 300 && out.status < 400 && /sign-in/.test(out.location ?? '');
          if (!(out.status === 401 && out.code === 'auth/signin_required') && !redirectToSignIn) problems.push(`${where} (expected 401 auth/signin_required)`);
        } else if (RANK[role] < RANK[policy]) {
          if (!(out.status === 403 && out.code === 'auth/role_required')) problems.push(`${where} (expected 403 auth/role_required)`);
        } else if (out.code && GUARD_CODES.has(out.code)) {
          problems.push(`${where} (allowed role refused by the guard)`);
        }
      }
      // A signed-in admin without the CSRF token may not change anything through a cookie-authenticated route.
      if (policy !== 'public' && UNSAFE(route.method) && !route.skipCsrf) {
        const fresh = await createStaffWithSession(t, { role: 'admin' }); // the calls above may have signed the admin out
        const out = await call(route, { cookie: fresh.headers.cookie });
        figures.calls++;
        if (!(out.status === 403 && out.code === 'auth/csrf_failed'))
          problems.push(`${routeKey(route)} as admin without CSRF token: ${out.status} ${out.code ?? ''} (expected 403 auth/csrf_failed)`);
      }
    }
    process.stdout.write(
      `[proof] access control: ${table.length} routes, ${figures.calls} calls, ${figures.fiveXX} responses 5xx, ${problems.length} policy violations\n`,
    );
    expect(problems).toEqual([]);
  });
});
