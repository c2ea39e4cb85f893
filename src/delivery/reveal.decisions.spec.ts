import { describe, expect, it } from 'vitest';
import { LIMITS } from './delivery.limits.js';
import { done, noCodeRefusal, refusedCounted, refuseRollingBack, valueOf, wrongCodeRefusal } from './reveal.decisions.js';
import { InvalidInputError } from '../common/domain-error.js';

const now = new Date('2026-05-01T10:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);

describe('how a partner step settles', () => {
  it('a done value comes back; a counted refusal is thrown only after the commit; a rolling-back refusal throws at once', () => {
    expect(valueOf(done(42))).toBe(42);
    const err = new InvalidInputError('delivery/wrong_code', 'no');
    const counted = refusedCounted(err);
    expect(counted).toEqual({ outcome: 'refused_counted', error: err, lockAfter: undefined });
    expect(() => valueOf(counted)).toThrow(err);
    expect(() => refuseRollingBack(err)).toThrow(err);
  });
});

describe('a wrong code', () => {
  it('tells how many tries this code has left, and does not lock', () => {
    const r = wrongCodeRefusal({ codeWrong: 2, codesSent: 1, voided: false }, null, now);
    expect(r).toMatchObject({
      outcome: 'refused_counted',
      lockDelivery: false,
      error: { code: 'delivery/wrong_code', details: { attemptsLeft: LIMITS.wrongPerCode - 2 } },
    });
    expect(wrongCodeRefusal({ codeWrong: LIMITS.wrongPerCode - 1, codesSent: 1, voided: false }, null, now).error.message).toContain('1 more time with');
  });

  it('voids the code at its limit; locks the delivery when that was its last code', () => {
    expect(wrongCodeRefusal({ codeWrong: LIMITS.wrongPerCode, codesSent: 1, voided: true }, null, now)).toMatchObject({
      lockDelivery: false,
      error: { code: 'delivery/code_voided' },
    });
    expect(wrongCodeRefusal({ codeWrong: LIMITS.wrongPerCode, codesSent: LIMITS.codesPerDelivery, voided: true }, null, now)).toMatchObject({
      lockDelivery: true,
      error: { code: 'delivery/locked' },
    });
  });

  it('an address blocked by this wrong code hears how long it waits (the lock of a last code comes first)', () => {
    expect(wrongCodeRefusal({ codeWrong: 1, codesSent: 1, voided: false }, later(600_000), now)).toMatchObject({
      lockDelivery: false,
      error: { code: 'delivery/too_many_attempts', retryAfterSeconds: 600 },
    });
    expect(wrongCodeRefusal({ codeWrong: 1, codesSent: 1, voided: false }, later(-1), now).error.code).toBe('delivery/wrong_code');
    expect(wrongCodeRefusal({ codeWrong: 5, codesSent: LIMITS.codesPerDelivery, voided: true }, later(600_000), now).lockDelivery).toBe(true);
  });

  it('a code whose counter moved on (no row counted) is answered as used up, not as a free try', () => {
    expect(wrongCodeRefusal(null, null, now)).toMatchObject({ error: { code: 'delivery/wrong_code', details: { attemptsLeft: 0 } } });
  });
});

describe('no code could be issued', () => {
  it('too soon after the last one: how many seconds to wait, nothing locked', () => {
    const r = noCodeRefusal({ codesSent: 1, codeSentAt: later(-10_000), codeExpiresAt: later(60_000) }, now);
    expect(r).toMatchObject({ lockAfter: undefined, error: { code: 'delivery/code_resend_too_soon', retryAfterSeconds: LIMITS.resendAfterMs / 1000 - 10 } });
  });

  it('all codes used: use the last one while it works; lock the delivery once it does not', () => {
    const spent = { codesSent: LIMITS.codesPerDelivery, codeSentAt: later(-100_000) };
    expect(noCodeRefusal({ ...spent, codeExpiresAt: later(1000) }, now)).toMatchObject({ lockAfter: false, error: { code: 'delivery/no_codes_left' } });
    expect(noCodeRefusal({ ...spent, codeExpiresAt: null }, now)).toMatchObject({ lockAfter: true, error: { code: 'delivery/no_codes_left' } });
  });
});
