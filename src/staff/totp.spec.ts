import { describe, expect, it } from 'vitest';
import { currentTotp, matchTotp, newRecoveryCode, newTotpSecret, normaliseRecoveryCode, totpUri } from './totp.js';

describe('TOTP helpers', () => {
  const now = new Date('2026-11-27T08:00:10Z');

  it('accepts the current code and a neighbouring step, and names the step', async () => {
    const secret = newTotpSecret();
    const code = await currentTotp(secret, now);
    const step = Math.floor(now.getTime() / 30_000);
    expect(await matchTotp(secret, code, now)).toBe(step);
    expect(await matchTotp(secret, code, new Date(now.getTime() + 30_000))).toBe(step);
    expect(await matchTotp(secret, code, new Date(now.getTime() + 90_000))).toBeNull();
  });

  it('refuses malformed codes without throwing', async () => {
    const secret = newTotpSecret();
    for (const bad of ['', '12345', '1234567', 'abcdef', '12 456']) expect(await matchTotp(secret, bad, now)).toBeNull();
  });

  it('builds an otpauth URI with issuer and label', () => {
    const uri = totpUri(newTotpSecret(), 'a@example.com');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Partner%20API%20credentials:a%40example\.com\?secret=[A-Z2-7]+/);
  });

  it('makes recovery codes that normalise back to themselves, however they are typed', () => {
    const codes = new Set(Array.from({ length: 50 }, newRecoveryCode));
    expect(codes.size).toBe(50);
    for (const c of codes) {
      expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
      expect(normaliseRecoveryCode(c.toUpperCase().replace('-', ' '))).toBe(c);
    }
    expect(normaliseRecoveryCode('short')).toBeNull();
    expect(normaliseRecoveryCode('0000000000')).toBeNull();
  });
});
