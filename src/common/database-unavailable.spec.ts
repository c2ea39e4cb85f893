import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './database-unavailable.js';
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
});
