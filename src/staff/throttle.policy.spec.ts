import { describe, expect, it } from 'vitest';
import { ACCOUNT_POLICY, IP_POLICY, lockDurationMs } from './throttle.policy.js';

describe('sign-in back-off', () => {
  it('does not lock below the threshold', () => {
    for (let f = 0; f < ACCOUNT_POLICY.threshold; f++) expect(lockDurationMs(ACCOUNT_POLICY, f)).toBe(0);
  });

  it('locks one minute at the threshold and doubles per further failure', () => {
    expect(lockDurationMs(ACCOUNT_POLICY, 5)).toBe(60_000);
    expect(lockDurationMs(ACCOUNT_POLICY, 6)).toBe(120_000);
    expect(lockDurationMs(ACCOUNT_POLICY, 7)).toBe(240_000);
    expect(lockDurationMs(ACCOUNT_POLICY, 8)).toBe(480_000);
  });

  it('never locks longer than the cap, however many failures', () => {
    expect(lockDurationMs(ACCOUNT_POLICY, 9)).toBe(15 * 60_000);
    expect(lockDurationMs(ACCOUNT_POLICY, 40)).toBe(15 * 60_000);
    expect(lockDurationMs(ACCOUNT_POLICY, 1_000_000)).toBe(15 * 60_000);
  });

  it('gives an address more room than an account', () => {
    expect(lockDurationMs(IP_POLICY, 19)).toBe(0);
    expect(lockDurationMs(IP_POLICY, 20)).toBe(60_000);
  });

  it('treats nonsense counts as no lock', () => {
    expect(lockDurationMs(ACCOUNT_POLICY, -1)).toBe(0);
    expect(lockDurationMs(ACCOUNT_POLICY, Number.NaN)).toBe(0);
  });
});
