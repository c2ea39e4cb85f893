import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  REFERENCE_PATTERN,
  STATUS_TOKEN_PATTERN,
  newReference,
  newStatusToken,
  signFormIssuedAt,
  statusTokenHash,
  verifyFormIssuedAt,
} from './onboarding.tokens.js';

describe('onboarding references and tokens', () => {
  it('draws readable, distinct references', () => {
    const refs = new Set(Array.from({ length: 2000 }, newReference));
    expect(refs.size).toBe(2000);
    for (const r of refs) expect(r).toMatch(REFERENCE_PATTERN);
  });
  it('keys the status-token hash', () => {
    const token = newStatusToken();
    expect(token).toMatch(STATUS_TOKEN_PATTERN);
    expect(statusTokenHash(randomBytes(32), token)).not.toBe(statusTokenHash(randomBytes(32), token));
  });
  it('refuses a forged or altered form time', () => {
    const key = randomBytes(32);
    const signed = signFormIssuedAt(key, 1_790_000_000_000);
    expect(verifyFormIssuedAt(key, signed)).toBe(1_790_000_000_000);
    expect(verifyFormIssuedAt(key, signed.replace('1790', '1789'))).toBeNull();
    expect(verifyFormIssuedAt(randomBytes(32), signed)).toBeNull();
    expect(verifyFormIssuedAt(key, undefined)).toBeNull();
    // Two forms served in the same millisecond are still two forms (each can be sent once).
    expect(signFormIssuedAt(key, 1_790_000_000_000)).not.toBe(signed);
  });
});
