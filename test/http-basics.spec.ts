import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('cross-cutting HTTP behaviour', () => {
  it('answers /health with database readiness', async () => {
    const res = await t.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', database: 'up' });
  });

  it('echoes a well-formed correlation id and replaces a malformed one', async () => {
    const kept = await t.inject({ method: 'GET', url: '/health', headers: { 'x-correlation-id': 'partner-req-12345' } });
    expect(kept.headers['x-correlation-id']).toBe('partner-req-12345');
    const replaced = await t.inject({ method: 'GET', url: '/health', headers: { 'x-correlation-id': 'bad id <script>' } });
    expect(replaced.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every error the { code, message, correlationId } body, never a stack trace', async () => {
    const cases = [
      { method: 'GET' as const, url: '/no/such/route', status: 404, code: 'request/not_found' },
      { method: 'POST' as const, url: '/health', status: 404, code: 'request/not_found' },
      { method: 'GET' as const, url: '/api/audit-events', status: 401, code: 'auth/signin_required' },
    ];
    for (const c of cases) {
      const res = await t.inject({ method: c.method, url: c.url, headers: { 'x-correlation-id': 'corr-0000001' } });
      expect(res.statusCode, c.url).toBe(c.status);
      expect(res.json()).toEqual({ code: c.code, message: expect.any(String), correlationId: 'corr-0000001' });
      expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
    }
    const badJson = await t.inject({ method: 'GET', url: '/api/audit-events', headers: { 'content-type': 'application/json' }, payload: '{oops' });
    expect(badJson.statusCode).toBeGreaterThanOrEqual(400);
    expect(badJson.statusCode).toBeLessThan(500);
    expect(badJson.json()).toMatchObject({ code: expect.any(String), correlationId: expect.any(String) });
    const huge = await t.inject({
      method: 'POST',
      url: '/health',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ a: 'x'.repeat(400_000) }),
    });
    expect([404, 413]).toContain(huge.statusCode);
    expect(huge.json()).toMatchObject({ code: expect.any(String), correlationId: expect.any(String) });
  });

  it('serves an HTML error page to browsers', async () => {
    const res = await t.inject({ method: 'GET', url: '/no/such/page', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('request/not_found');
    expect(res.body).toContain(res.headers['x-correlation-id'] as string);
  });

  it('sets security headers with a strict Content-Security-Policy and no Referer', async () => {
    const res = await t.inject({ method: 'GET', url: '/health' });
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('publishes OpenAPI and Swagger UI at /docs, and Prometheus metrics at /metrics', async () => {
    const spec = await t.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(spec.statusCode).toBe(200);
    expect(Object.keys(spec.json().paths)).toContain('/api/audit-events');
    expect((await t.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(200);
    await t.inject({ method: 'GET', url: '/health' });
    const metrics = await t.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/http_requests_total\{method="GET",route="\/health",status="200"\}/);
  });

  it('logs requests by route template without query strings, and redacts credential-like fields', async () => {
    await t.inject({ method: 'GET', url: '/health?token=leaky-token-value&code=7654321', headers: { authorization: 'Bearer sekrit-bearer' } });
    const { createLogger } = await import('../src/common/logger.js');
    const lines: string[] = [];
    const logger = createLogger('info', { write: (s: string) => lines.push(s) });
    logger.info({ password: 'hunter2', nested: { clientSecret: 'cs_abc', authorization: 'Bearer x' }, ok: 'visible' }, 'probe');
    const all = t.logs.join('') + lines.join('');
    expect(all).toContain('"route":"/health"');
    expect(all).toContain('visible');
    for (const leaked of ['leaky-token-value', '7654321', 'sekrit-bearer', 'hunter2', 'cs_abc']) expect(all).not.toContain(leaked);
  });
});
