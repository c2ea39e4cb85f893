import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isWriteConflict } from './database-unavailable.js';
import { mapError } from './error-response.js';

describe('database-unavailable errors', () => {
  it('recognises a lost connection anywhere in the cause chain', () => {
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable({ code: 'P1017', message: 'Server has closed the connection.' })).toBe(true);
    expect(
      isDatabaseUnavailable(new Error('driver failed', { cause: { originalCode: '57P01', message: 'terminating connection due to administrator command' } })),
    ).toBe(true);
    expect(isDatabaseUnavailable(new Error('x is not a function'))).toBe(false);
    expect(isDatabaseUnavailable({ code: 'P2002' })).toBe(false);
  });

  it('maps to a retryable 503 with a code, not a 500', () => {
    const m = mapError(new Error('Connection terminated unexpectedly'), 'corr-123456');
    expect(m.status).toBe(503);
    expect(m.headers['retry-after']).toBe('2');
    expect(m.body).toMatchObject({ code: 'service/database_unavailable', correlationId: 'corr-123456' });
    expect(mapError(new TypeError('bug'), 'corr-123456').status).toBe(500);
  });

  it('a deadlock victim or a serialization failure, from a raw query or a model query, is a 409 with a code and Retry-After, not a 500', () => {
    // The shape a raw query's error has through the pg driver adapter.
    const raw = Object.assign(new Error('Raw query failed'), {
      code: 'P2010',
      meta: { driverAdapterError: Object.assign(new Error('deadlock'), { cause: { originalCode: '40P01', kind: 'postgres' } }) },
    });
    for (const err of [raw, { code: 'P2034' }, new Error('x', { cause: { originalCode: '40001' } })]) {
      expect(isWriteConflict(err)).toBe(true);
      const m = mapError(err, 'corr-123456');
      expect(m.status).toBe(409);
      expect(m.headers['retry-after']).toBe('1');
      expect(m.body).toMatchObject({ code: 'request/conflict', correlationId: 'corr-123456' });
    }
    expect(isWriteConflict({ code: 'P2002' })).toBe(false);
    expect(isWriteConflict(new Error('x', { cause: { originalCode: '23505' } }))).toBe(false);
  });
});
