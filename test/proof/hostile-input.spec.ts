import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AuditService } from '../../src/audit/audit.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createStaffWithSession, type StaffLogin } from '../support/factories.js';
import { recordFastifyRoutes, routeKey, routeTable, type RouteEntry } from '../support/route-table.js';
import { issueCredential } from '../support/credentials.helpers.js';

recordFastifyRoutes();

/**
 * Hostile input: >= 10,000 malformed requests, generated from the OpenAPI document and the route table,
 * sent anonymously and as a signed-in admin with a valid CSRF token (so the validation behind the guard
 * is reached). Pass: no 5xx, no crash, every 4xx in the error contract, nothing half-written.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = 6;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  type?: string;
  format?: string;
  enum?: Json[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}
interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface FuzzRequest {
  route: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  asAdmin: boolean;
  remoteAddress: string;
}

// ---------------------------------------------------------------- hostile values
const LONE = ['\uD800', '\uDFFF', 'a\uD83Db', '\uDC00\uD800'];
const PAYLOADS = [
  "' OR '1'='1",
  "'; DROP TABLE partner; --",
  '1; SELECT pg_sleep(5)--',
  "\\'; COPY audit_event TO '/tmp/x'; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}<%= 7*7 %>${7*7}',
  '${jndi:ldap://x/a}',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '\u0000',
  'abc\u0000def',
  '\u202Egnp.exe',
  '\u200B\u200C\u200D\uFEFF',
  'Z\u0351\u0352\u0353\u0354\u0355\u0356',
  '𝕳𝖊𝖑𝖑𝖔 🧑‍💻👩🏽‍🚀',
  'مرحبا',
  ...LONE,
  '',
  ' ',
  '\r\n\r\nX-Injected: 1',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x41',
  '__proto__',
  'constructor',
  'true',
  '[object Object]',
  '+31612345678',
  '+18005550199',
  'a@b',
  'x@example.com',
  '00000000-0000-0000-0000-000000000000',
  'acceptance',
  'production',
];
const hugeString = fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'A'.repeat(n));
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...PAYLOADS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...PAYLOADS), fc.string({ unit: 'binary', maxLength: 10 })).map(([a, b]) => a + b) },
);
const hostileScalar: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -0) },
  { weight: 1, arbitrary: fc.integer() },
);
const hostileValue: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { weight: 6, arbitrary: hostileScalar },
    { weight: 1, arbitrary: fc.array(tie('v'), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', '$where', 'a'), fc.string({ maxLength: 8 })), tie('v'), { maxKeys: 4 }),
    },
  ),
})).v;

// ---------------------------------------------------------------- schemas -> plausible values -> mutations
function resolve(spec: Spec, s: Schema | undefined, depth = 0): Schema {
  if (!s || depth > 8) return {};
  if (s.$ref) return resolve(spec, spec.components?.schemas?.[s.$ref.split('/').pop()!], depth + 1);
  if (s.allOf?.length)
    return s.allOf
      .map((x) => resolve(spec, x, depth + 1))
      .reduce((a, b) => ({ ...a, ...b, properties: { ...a.properties, ...b.properties }, required: [...(a.required ?? []), ...(b.required ?? [])] }), {});
  if (s.oneOf?.length || s.anyOf?.length) return resolve(spec, (s.oneOf ?? s.anyOf)![0], depth + 1);
  return s;
}

function plausible(spec: Spec, raw: Schema | undefined, depth = 0): fc.Arbitrary<Json> {
  const s = resolve(spec, raw);
  if (depth > 5) return fc.constant(null);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      if (s.format === 'email') return fc.emailAddress();
      if (s.format === 'uuid') return fc.uuid();
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      return fc.string({ minLength: 1, maxLength: Math.min(s.maxLength ?? 30, 30) });
    case 'integer':
      return fc.integer({ min: s.minimum ?? 0, max: s.maximum ?? 1000 });
    case 'number':
      return fc.double({ min: s.minimum ?? 0, max: s.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(plausible(spec, s.items, depth + 1), { minLength: 1, maxLength: 3 });
    default: {
      const props = s.properties ?? {};
      const keys = Object.keys(props);
      if (!keys.length) return fc.constant({});
      return fc.record(Object.fromEntries(keys.map((k) => [k, plausible(spec, props[k], depth + 1)])));
    }
  }
}

/** A body that is close to valid and then broken in one or more ways. */
function mutatedObject(spec: Spec, schema: Schema | undefined): fc.Arbitrary<Json> {
  const s = resolve(spec, schema);
  const keys = Object.keys(s.properties ?? {});
  return fc
    .tuple(
      plausible(spec, s),
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('drop' as const), key: keys.length ? fc.constantFrom(...keys) : fc.constant('x') }),
          fc.record({ kind: fc.constant('set' as const), key: keys.length ? fc.constantFrom(...keys) : fc.constant('x'), value: hostileValue }),
          fc.record({
            kind: fc.constant('extra' as const),
            key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'isAdmin', 'role', 'id', 'state'), fc.string({ maxLength: 12 })),
            value: hostileValue,
          }),
        ),
        { minLength: 0, maxLength: 4 },
      ),
    )
    .map(([base, muts]) => {
      const obj: Record<string, Json> = base && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
      for (const m of muts) {
        if (m.kind === 'drop') delete obj[m.key];
        else Object.defineProperty(obj, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      }
      return obj;
    });
}

const FIELD_NAMES = [
  'email',
  'password',
  'code',
  'totp',
  'recoveryCode',
  'name',
  'legalName',
  'registrationNumber',
  'country',
  'purpose',
  'apis',
  'environments',
  'mobile',
  'language',
  'reason',
  'role',
  'token',
  'secret',
  'client_id',
  'client_secret',
  'grant_type',
  'scope',
  'token_type_hint',
  'reference',
  'contactName',
  'contactEmail',
  'contactMobile',
  'formStartedAt',
  'website',
  'environment',
  'api',
  'credentialId',
  'overlapHours',
];
const formLikeBody = fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 10 })), hostileValue, { maxKeys: 8 });

function encodeForm(obj: Record<string, Json>): string {
  return Object.entries(obj)
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v] as const]))
    .map(([k, v]) => `${pct(k)}=${pct(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('&');
}

/** Percent-encodes; lone surrogates (which encodeURIComponent refuses) go out as raw invalid UTF-8 bytes. */
function pct(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s
      .replace(/[\uD800-\uDFFF]/g, '%ED%A0%80')
      .split('%ED%A0%80')
      .map((p) => encodeURIComponent(p))
      .join('%ED%A0%80');
  }
}

const RAW_BODIES = [
  '{',
  '{"a":',
  '}{',
  '[',
  'null',
  '"string"',
  '12',
  '[]',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":1,"a":2}',
  '\u0000',
  '\uFEFF{}',
  'a=%ZZ&b=%',
  'a[b][c][d]=1&a[]=2',
  'x=1&x=2&x=3',
  '=&=&&==',
  '%00=%00',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  '['.repeat(5000) + ']'.repeat(5000),
  '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
];
const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=xyz',
  'application/json; charset=utf-16',
  'application/xml',
  'application/x-www-form-urlencoded; charset=latin1',
  'garbage/\u00ff',
  ';;;',
];
const latin1 = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');
const headerValue = fc.oneof(
  fc.constantFrom(...PAYLOADS).map(latin1),
  fc.string({ maxLength: 40 }).map(latin1),
  fc.integer({ min: 100, max: 8000 }).map((n) => 'h'.repeat(n)),
);

// ---------------------------------------------------------------- the request generator
function requestArbitrary(
  spec: Spec,
  routes: RouteEntry[],
  live: string[],
): fc.Arbitrary<Omit<FuzzRequest, 'headers'> & { headers: Record<string, string>; cookieKind: string; csrfKind: string }> {
  const byKey = new Map<string, Operation>();
  for (const [p, ops] of Object.entries(spec.paths)) {
    for (const [m, op] of Object.entries(ops)) byKey.set(`${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`, op);
  }
  const pathParam = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(live.length ? live : ['00000000-0000-0000-0000-000000000000'])) },
    { weight: 2, arbitrary: fc.uuid().map(pct) },
    { weight: 1, arbitrary: fc.constantFrom('acceptance', 'production', 'ACCEPTANCE', 'staging') },
    { weight: 4, arbitrary: hostileString.map(pct) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '..%2F..%2Fetc%2Fpasswd',
        '%2e%2e',
        '..',
        '%00',
        '%ZZ',
        '%ED%A0%80',
        '%C0%AE%C0%AE%2F',
        '%E2%80%AE',
        'a%2Fb',
        '%25',
        '',
        '%20',
      ),
    },
  );
  return fc
    .constantFrom(...routes)
    .chain((route) => {
      const op = byKey.get(routeKey(route));
      const jsonSchema = op?.requestBody?.content?.['application/json']?.schema ?? op?.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
      const queryParams = (op?.parameters ?? []).filter((p) => p.in === 'query');
      const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(route.method);
      type Body = { contentType?: string; payload?: string };
      const noBody: fc.Arbitrary<Body> = fc.constant({});
      const bodyArb: fc.Arbitrary<Body> = fc.oneof(
        {
          weight: 5,
          arbitrary: fc.tuple(jsonSchema ? mutatedObject(spec, jsonSchema) : formLikeBody, fc.constantFrom(...CONTENT_TYPES)).map(([b, ct]) => ({
            contentType: ct,
            payload: ct.startsWith('application/x-www-form-urlencoded') && b && typeof b === 'object' && !Array.isArray(b) ? encodeForm(b) : JSON.stringify(b),
          })),
        },
        {
          weight: 2,
          arbitrary: fc
            .tuple(formLikeBody, fc.constantFrom('application/x-www-form-urlencoded', 'application/json'))
            .map(([b, ct]) => ({ contentType: ct, payload: ct === 'application/json' ? JSON.stringify(b) : encodeForm(b) })),
        },
        {
          weight: 2,
          arbitrary: fc.tuple(fc.constantFrom(...RAW_BODIES), fc.constantFrom(...CONTENT_TYPES)).map(([p, ct]) => ({ contentType: ct, payload: p })),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(hostileValue, fc.constantFrom(...CONTENT_TYPES)).map(([v, ct]) => ({ contentType: ct, payload: JSON.stringify(v) ?? '' })),
        },
        { weight: 1, arbitrary: noBody },
      );
      const queryArb = fc
        .array(
          fc.tuple(
            queryParams.length
              ? fc.oneof(fc.constantFrom(...queryParams.map((q) => q.name)), fc.string({ maxLength: 8 }))
              : fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })),
            fc.oneof(hostileString, fc.constantFrom('1', '-1', '0', '99999999999999999999', 'true', '2026-13-45', 'yesterday', '%', '%%%', '&&&', '=')),
          ),
          { maxLength: 4 },
        )
        .map((pairs) => pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&'));
      return fc.record({
        route: fc.constant(routeKey(route)),
        method: fc.oneof(
          { weight: 9, arbitrary: fc.constant(route.method) },
          { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
        ),
        url: fc.tuple(fc.array(pathParam, { minLength: 4, maxLength: 4 }), queryArb).map(([vals, q]) => {
          let i = 0;
          const p = route.path.replace(/:([A-Za-z0-9_]+)/g, () => vals[i++ % vals.length]).replace(/\*$/, () => vals[3]);
          return q ? `${p}?${q}` : p;
        }),
        body: unsafe ? bodyArb : fc.oneof({ weight: 4, arbitrary: noBody }, { weight: 1, arbitrary: bodyArb }),
        asAdmin: fc.boolean(),
        remoteAddress: fc.ipV4(),
        cookieKind: fc.constantFrom('session', 'session', 'session', 'none', 'garbage', 'huge', 'malformed', 'wrong-name'),
        csrfKind: fc.constantFrom('valid', 'valid', 'valid', 'valid', 'none', 'garbage'),
        authorization: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: headerValue.map((v) => `Bearer ${v}`) },
          { weight: 1, arbitrary: headerValue.map((v) => `Basic ${Buffer.from(v, 'latin1').toString('base64')}`) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              'Basic !!!not-base64!!!',
              'Basic ',
              'Bearer',
              'Basic Og==',
              'Basic OjpAOjo=',
              'Digest x',
              'bearer eyJhbGciOiJub25lIn0.e30.',
              `Basic ${Buffer.from('a'.repeat(5000) + ':' + 'b').toString('base64')}`,
            ),
          },
          { weight: 1, arbitrary: headerValue },
          // Form-encoded Basic credentials that decode to NUL, control characters or broken Unicode.
          {
            weight: 1,
            arbitrary: fc
              .tuple(fc.constantFrom('acc_', 'prd_', ''), hostileString, hostileString)
              .map(([p, a, b]) => `Basic ${Buffer.from(`${p}${pct(a.slice(0, 200))}:${pct(b.slice(0, 200))}`).toString('base64')}`),
          },
        ),
        accept: fc.constantFrom(
          'application/json',
          'application/json',
          'text/html',
          '*/*',
          undefined,
          'text/html;q=0.1, application/json',
          latin1('\u00ff/\u00ff'),
        ),
        correlation: fc.option(headerValue, { nil: undefined }),
      });
    })
    .map((r) => {
      const headers: Record<string, string> = {};
      if (r.body.contentType) headers['content-type'] = r.body.contentType;
      if (r.authorization) headers.authorization = r.authorization;
      if (r.accept) headers.accept = r.accept;
      if (r.correlation) headers['x-correlation-id'] = r.correlation;
      return {
        route: r.route,
        method: r.method,
        url: r.url,
        headers,
        payload: r.body.payload,
        asAdmin: r.asAdmin,
        remoteAddress: r.remoteAddress,
        cookieKind: r.cookieKind,
        csrfKind: r.csrfKind,
      };
    });
}

// ---------------------------------------------------------------- the run
let t: TestApp;
let spec: Spec;
let routes: RouteEntry[];
let admin: StaffLogin;
let liveIds: string[] = [];
let seededPartnerId = '';
let seededCredential: Awaited<ReturnType<typeof issueCredential>>;

beforeAll(async () => {
  t = await startTestApp();
  routes = routeTable(t.app);
  spec = (await t.inject({ method: 'GET', url: '/docs/openapi.json' })).json() as Spec;
  admin = await createStaffWithSession(t, { role: 'admin' });
  liveIds = await seedRealRows();
});

/**
 * Real rows for the generated requests to aim at (a request approved and issued, one in review, an active
 * credential), so that "nothing half-written" is checked where writes can actually happen.
 */
async function seedRealRows(): Promise<string[]> {
  const reviewer = await createStaffWithSession(t, { role: 'reviewer' });
  const json = (h: Record<string, string>) => ({ ...h, 'content-type': 'application/json', accept: 'application/json' });
  const catalogue = (await t.inject({ method: 'GET', url: '/api/onboarding-requests/catalogue', headers: admin.headers })).json() as Array<{
    apiKey?: string;
    api?: string;
    environment: string;
  }>;
  const api = catalogue.map((c) => c.apiKey ?? c.api).find(Boolean) ?? 'business';
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const created = await t.inject({
      method: 'POST',
      url: '/api/onboarding-requests',
      headers: json(reviewer.headers),
      payload: {
        partner: { legalName: `Fuzz Target ${i} B.V.`, registrationNumber: `7000000${i}`, country: 'NL' },
        contact: { name: 'Fuzz Contact', email: `fuzz-${i}@partner.example`, mobile: '+31612345678' },
        language: 'en',
        purpose: 'A request for the hostile-input suite to aim at.',
        items: [{ api, environment: 'acceptance' }],
      },
    });
    if (created.statusCode !== 201 && created.statusCode !== 200) throw new Error(`seeding a request failed: ${created.statusCode} ${created.body}`);
    const id = (created.json() as { id: string }).id;
    ids.push(id);
    await t.inject({ method: 'POST', url: `/api/onboarding-requests/${id}/start-review`, headers: json(admin.headers), payload: {} });
    if (i === 0) {
      await t.inject({ method: 'POST', url: `/api/onboarding-requests/${id}/approvals`, headers: json(admin.headers), payload: { environment: 'acceptance' } });
      const issued = await t.inject({
        method: 'POST',
        url: `/api/onboarding-requests/${id}/issue`,
        headers: json(admin.headers),
        payload: { environment: 'acceptance' },
      });
      for (const c of (issued.json() as { credentials?: Array<{ credentialId: string }> }).credentials ?? []) ids.push(c.credentialId);
    }
  }
  const active = await issueCredential(t);
  seededCredential = active;
  seededPartnerId = active.partnerId;
  ids.push(active.credentialId, active.partnerId, reviewer.staffId);
  process.stdout.write(`[proof] hostile input: ${ids.length} real ids seeded for the generator to aim at\n`);
  return ids;
}
afterAll(() => t?.close());

async function adminStillSignedIn(): Promise<boolean> {
  const res = await t.inject({ method: 'GET', url: '/api/audit-events?limit=1', headers: admin.headers });
  return res.statusCode === 200;
}

function contractProblem(req: FuzzRequest, status: number, contentType: string, body: string): string | null {
  if (status >= 500) return `${status} (server error)`;
  if (status < 400) return null;
  if (/text\/html/.test(contentType))
    return body.includes('<html') || body.includes('<!doctype') || body.includes('<!DOCTYPE') ? null : 'HTML error without a page';
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return `non-JSON ${status} body (${contentType}): ${body.slice(0, 80)}`;
  }
  if (typeof parsed.code === 'string' && typeof parsed.message === 'string' && typeof parsed.correlationId === 'string') return null;
  // OAuth endpoints (and their RFC 8414 metadata under /.well-known/) answer in the OAuth error shape.
  if ((req.url.startsWith('/oauth/') || req.url.startsWith('/.well-known/')) && typeof parsed.error === 'string') return null;
  return `${status} body outside the error contract: ${body.slice(0, 120)}`;
}

/** Token-endpoint answers (and every error under /oauth/) must never be stored (RFC 6749 §5.1, §5.2). */
function oauthCacheProblem(url: string, status: number, headers: Record<string, unknown>): string | null {
  // The test client resolves dot segments as a browser would: "/oauth/../revoke" never reaches /oauth/.
  const path = new URL(url, 'http://x').pathname;
  if (!path.startsWith('/oauth/') || (status < 400 && !/\/(token|introspect|revoke)$/.test(path))) return null;
  return headers['cache-control'] === 'no-store' && headers.pragma === 'no-cache'
    ? null
    : `${status} under /oauth/ without Cache-Control: no-store and Pragma: no-cache`;
}

describe('hostile input across every route', () => {
  it(`answers ${RUNS} malformed requests without a 5xx, a crash or a body outside the error contract`, async ({ signal }) => {
    const crashes: string[] = [];
    const onCrash = (err: unknown) => crashes.push(String(err instanceof Error ? err.stack : err));
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);

    const requests = fc.sample(requestArbitrary(spec, routes, liveIds), { numRuns: RUNS, seed: SEED });
    const byClass: Record<string, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    const byRoute = new Map<string, number>();
    const problems: string[] = [];
    let sent = 0;
    let clientRefused = 0;
    let asAdmin = 0;
    const started = Date.now();

    let next = 0;
    const worker = async () => {
      // A timed-out run stops here rather than keep writing while the aftermath test counts half-written rows.
      while (next < requests.length && !signal.aborted) {
        const r = requests[next++];
        if (next % 500 === 0 && !(await adminStillSignedIn())) admin = await createStaffWithSession(t, { role: 'admin' });
        const headers = { ...r.headers };
        if (r.asAdmin) {
          asAdmin++;
          const cookie = admin.headers.cookie;
          const [name, value] = cookie.split('=');
          headers.cookie =
            {
              session: cookie,
              none: '',
              garbage: `${name}=${'x'.repeat(43)}`,
              huge: `${name}=${value}; pad=${'p'.repeat(7000)}`,
              malformed: `=;;=${value};${name}`,
              'wrong-name': `session=${value}`,
            }[r.cookieKind] ?? cookie;
          if (!headers.cookie) delete headers.cookie;
          if (r.csrfKind === 'valid') headers['x-csrf-token'] = admin.headers['x-csrf-token'];
          else if (r.csrfKind === 'garbage') headers['x-csrf-token'] = 'f'.repeat(64);
        } else if (r.cookieKind === 'garbage' || r.cookieKind === 'malformed') {
          headers.cookie = r.cookieKind === 'garbage' ? `staff_session=${'A'.repeat(43)}` : '==;;;staff_session';
        }
        let res;
        try {
          res = await t.inject({ method: r.method as 'GET', url: r.url, headers, payload: r.payload, remoteAddress: r.remoteAddress });
        } catch {
          // light-my-request refusing to build the request (e.g. an invalid header) is the client, not the service.
          clientRefused++;
          continue;
        }
        sent++;
        byRoute.set(r.route, (byRoute.get(r.route) ?? 0) + 1);
        byClass[`${Math.floor(res.statusCode / 100)}xx`] = (byClass[`${Math.floor(res.statusCode / 100)}xx`] ?? 0) + 1;
        const problem =
          contractProblem(r, res.statusCode, String(res.headers['content-type'] ?? ''), res.body) ?? oauthCacheProblem(r.url, res.statusCode, res.headers);
        if (problem && problems.length < 5000) {
          const body = r.payload === undefined ? '' : ` body ${JSON.stringify(String(r.payload).slice(0, 200))}`;
          problems.push(
            `${r.method} ${r.url.slice(0, 160)} [${r.asAdmin ? `admin, cookie ${r.cookieKind}, csrf ${r.csrfKind}` : 'anonymous'}, ${headers['content-type'] ?? 'no content-type'}]${body} -> ${problem} (correlation ${String(res.headers['x-correlation-id'])})`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const distinct = [...new Set(problems.map((p) => p.replace(/^(\S+) (\S+?)(\?\S*)? .*-> (\d{3}).*$/, '$1 $4')))];
    process.stdout.write(
      `[proof] hostile input: seed ${SEED}, ${sent} requests sent (${asAdmin} as signed-in admin, ${clientRefused} refused by the test client) over ${byRoute.size}/${routes.length} routes in ${seconds}s; ` +
        `by class ${JSON.stringify(byClass)}; 5xx: ${byClass['5xx']}; contract violations: ${problems.length}; crashes: ${crashes.length}\n`,
    );
    const serverErrors = t.logs
      .filter((l) => l.includes('unhandled error'))
      .map((l) => {
        try {
          const j = JSON.parse(l) as { err?: { message?: string; stack?: string; type?: string }; route?: string; correlationId?: string };
          return `${j.route ?? '?'} ${j.correlationId ?? ''}: ${j.err?.type ?? ''} ${(j.err?.message ?? '').slice(0, 300)} | ${(j.err?.stack ?? '').split('\n').slice(1, 4).join(' | ')}`;
        } catch {
          return l.slice(0, 300);
        }
      });
    if (serverErrors.length)
      process.stdout.write(`[proof] server errors logged (${serverErrors.length}):\n  ${[...new Set(serverErrors)].slice(0, 10).join('\n  ')}\n`);
    if (problems.length)
      process.stdout.write(`[proof] first violations:\n  ${problems.slice(0, 25).join('\n  ')}\n  distinct: ${distinct.slice(0, 20).join(', ')}\n`);
    expect(sent).toBeGreaterThanOrEqual(Math.min(RUNS, 10_000) * 0.98);
    expect(crashes).toEqual([]);
    expect(byClass['5xx']).toBe(0);
    expect(problems.slice(0, 25)).toEqual([]);
  }, 180_000);

  it('answers the cases the generator found once, every time, in the error contract', async () => {
    // Each of these was a 5xx or a body outside the contract in an earlier run; kept as fixed regressions.
    const fresh = await createStaffWithSession(t, { role: 'admin' }); // the run above may have signed the admin out
    const json = { ...fresh.headers, 'content-type': 'application/json', accept: 'application/json' };
    const cases: Array<{ what: string; method: 'POST' | 'GET'; url: string; headers: Record<string, string>; payload?: string }> = [
      {
        what: 'a body nested 3,000 deep (class-transformer stack overflow)',
        method: 'POST',
        url: '/api/staff',
        headers: json,
        payload: '['.repeat(3000) + ']'.repeat(3000),
      },
      {
        what: 'a nested "constructor" key (class-transformer crash)',
        method: 'POST',
        url: '/console/sign-in',
        headers: { 'content-type': 'application/json' },
        payload: '{"email":{"constructor":"x"}}',
      },
      {
        what: 'a lone surrogate in an email field (validator URIError)',
        method: 'POST',
        url: '/apply',
        headers: { 'content-type': 'application/json' },
        payload: '{"contactEmail":"a\\ud83db"}',
      },
      { what: 'a NUL character in a query', method: 'GET', url: '/api/audit-events?subjectId=%00', headers: fresh.headers },
      { what: 'a malformed percent-encoding in a plugin path', method: 'GET', url: '/assets/%ED%A0%80', headers: {} },
      { what: "Swagger UI's /docs/LICENSE (a 404 thrown outside Nest)", method: 'GET', url: '/docs/LICENSE', headers: {} },
      {
        what: 'approving a rotation from the console without credentialId',
        method: 'POST',
        url: '/console/rotations/00000000-0000-4000-8000-000000000000/approve',
        headers: json,
        payload: '{}',
      },
    ];
    const failures: string[] = [];
    for (const c of cases) {
      const res = await t.inject({ method: c.method, url: c.url, headers: c.headers, payload: c.payload });
      const problem = contractProblem({ url: c.url } as FuzzRequest, res.statusCode, String(res.headers['content-type'] ?? ''), res.body);
      if (problem || res.statusCode < 400) failures.push(`${c.what}: ${res.statusCode} ${problem ?? ''} ${res.body.slice(0, 120)}`);
    }
    process.stdout.write(`[proof] hostile input: ${cases.length} recorded cases replayed, ${failures.length} outside the contract\n`);
    expect(failures).toEqual([]);
  });

  it('answers NUL and control characters in OAuth credentials with 401 invalid_client, and unreadable bodies in RFC 6749 shape, never cached', async () => {
    const issued = seededCredential;
    const raw = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
    const formCt = { 'content-type': 'application/x-www-form-urlencoded' };
    const failures: string[] = [];
    let sent = 0;
    for (const ep of ['token', 'introspect', 'revoke']) {
      const url = `/oauth/acceptance/${ep}`;
      const params = ep === 'token' ? 'grant_type=client_credentials' : 'token=x';
      const credentialCases: Array<{ what: string; headers: Record<string, string>; payload: string }> = [];
      for (const bad of ['%00', '%01', '%0A', '%0D%0A', '%1F', '%7F', '%09']) {
        credentialCases.push(
          { what: `Basic client_id with ${bad}`, headers: { ...formCt, authorization: raw(`acc_${bad}AAAAAAAAAAAAAAAAAAA`, 'x') }, payload: params },
          {
            what: `Basic secret with ${bad}`,
            headers: { ...formCt, authorization: raw(issued.clientId, `${encodeURIComponent(issued.secret)}${bad}`) },
            payload: params,
          },
          { what: `post client_id with ${bad}`, headers: formCt, payload: `${params}&client_id=acc_${bad}AAAAAAAAAAAAAAAAAAA&client_secret=x` },
          {
            what: `post secret with ${bad}`,
            headers: formCt,
            payload: `${params}&client_id=${issued.clientId}&client_secret=${encodeURIComponent(issued.secret)}${bad}`,
          },
        );
      }
      for (const c of credentialCases) {
        const res = await t.inject({ method: 'POST', url, headers: c.headers, payload: c.payload });
        sent++;
        const error = res.headers['content-type']?.toString().includes('json') ? (res.json() as { error?: string }).error : undefined;
        if (res.statusCode !== 401 || error !== 'invalid_client' || res.headers['cache-control'] !== 'no-store')
          failures.push(`${ep} ${c.what}: ${res.statusCode} ${res.body.slice(0, 120)}`);
      }
      const auth = { authorization: raw(issued.clientId, encodeURIComponent(issued.secret)) };
      const bodyCases: Array<{ what: string; headers: Record<string, string>; payload: string }> = [
        ...RAW_BODIES.map((p, i) => ({ what: `raw body #${i} as JSON`, headers: { ...auth, 'content-type': 'application/json' }, payload: p })),
        ...RAW_BODIES.map((p, i) => ({ what: `raw body #${i} form-encoded`, headers: { ...auth, ...formCt }, payload: p })),
        ...CONTENT_TYPES.map((ct) => ({ what: `content type ${ct}`, headers: { ...auth, 'content-type': ct }, payload: '{"grant_type":' })),
        { what: 'an oversized body', headers: { ...auth, ...formCt }, payload: `${params}&pad=${'p'.repeat(300 * 1024)}` },
      ];
      for (const c of bodyCases) {
        const res = await t.inject({ method: 'POST', url, headers: c.headers, payload: c.payload });
        sent++;
        if (res.statusCode < 400) continue; // e.g. a form body the endpoint could read after all
        let shaped = false;
        try {
          const b = res.json() as Record<string, unknown>;
          shaped = typeof b.error === 'string' && typeof b.error_description === 'string' && b.code === undefined;
        } catch {
          /* not JSON */
        }
        if (res.statusCode >= 500 || !shaped || res.headers['cache-control'] !== 'no-store' || res.headers.pragma !== 'no-cache')
          failures.push(`${ep} ${c.what}: ${res.statusCode} ${res.headers['cache-control']} ${res.body.slice(0, 120)}`);
      }
    }
    process.stdout.write(`[proof] hostile OAuth credentials and bodies: ${sent} requests, ${failures.length} outside RFC 6749 shape, 401 or no-store\n`);
    expect(failures).toEqual([]);
  });

  it('leaves nothing half-written in the database, and the audit chain verifies', async () => {
    const admin = await t.db.admin();
    try {
      const checks: Array<[string, string]> = [
        [
          'partner without a technical contact',
          `SELECT count(*)::int AS n FROM partner p WHERE NOT EXISTS (SELECT 1 FROM technical_contact c WHERE c.partner_id = p.id)`,
        ],
        // The partner seeded straight through the credentials service (no request) is the one expected exception.
        [
          'partner without an onboarding request',
          `SELECT count(*)::int AS n FROM partner p WHERE NOT EXISTS (SELECT 1 FROM onboarding_request r WHERE r.partner_id = p.id) AND p.id::text <> '${seededPartnerId}'`,
        ],
        [
          'onboarding request without items',
          `SELECT count(*)::int AS n FROM onboarding_request r WHERE NOT EXISTS (SELECT 1 FROM onboarding_request_item i WHERE i.request_id = r.id)`,
        ],
        [
          'onboarding request without an audit event',
          `SELECT count(*)::int AS n FROM onboarding_request r WHERE NOT EXISTS (SELECT 1 FROM audit_event a WHERE a.subject_id = r.id::text)`,
        ],
        [
          'staff account created without an audit event',
          `SELECT count(*)::int AS n FROM staff_account s WHERE s.id NOT IN (SELECT staff_id FROM staff_session) AND NOT EXISTS (SELECT 1 FROM audit_event a WHERE a.subject_id = s.id::text)`,
        ],
        ['unsealed audit event', `SELECT count(*)::int AS n FROM audit_event WHERE seq IS NULL OR hash IS NULL`],
        [
          'credential without a secret',
          `SELECT count(*)::int AS n FROM credential c WHERE NOT EXISTS (SELECT 1 FROM credential_secret s WHERE s.credential_id = c.id)`,
        ],
        [
          'credential without an audit event',
          `SELECT count(*)::int AS n FROM credential c WHERE NOT EXISTS (SELECT 1 FROM audit_event a WHERE a.subject_id = c.id::text)`,
        ],
        [
          'credential with more than two active secrets',
          `SELECT count(*)::int AS n FROM (SELECT credential_id FROM credential_secret WHERE state = 'active' GROUP BY credential_id HAVING count(*) > 2) x`,
        ],
        ['pending secret without a delivery', `SELECT count(*)::int AS n FROM credential_secret WHERE state = 'pending_delivery' AND delivery_id IS NULL`],
      ];
      const counts: Record<string, number> = {};
      for (const [name, sql] of checks) counts[name] = (await admin.query<{ n: number }>(sql)).rows[0].n;
      const totals = (
        await admin.query<Record<string, number>>(
          `SELECT (SELECT count(*)::int FROM partner) AS partners, (SELECT count(*)::int FROM onboarding_request) AS requests, (SELECT count(*)::int FROM staff_account) AS staff, (SELECT count(*)::int FROM audit_event) AS events, (SELECT count(*)::int FROM credential) AS credentials, (SELECT count(*)::int FROM delivery) AS deliveries`,
        )
      ).rows[0];
      const verify = await t.app.get(AuditService).verify();
      process.stdout.write(
        `[proof] hostile input aftermath: rows ${JSON.stringify(totals)}; half-written: ${JSON.stringify(counts)}; audit verify ${JSON.stringify({ ok: verify.ok, checked: verify.checked })}\n`,
      );
      expect(counts).toEqual(Object.fromEntries(checks.map(([n]) => [n, 0])));
      expect(verify.ok).toBe(true);
    } finally {
      await admin.end();
    }
  });
});
