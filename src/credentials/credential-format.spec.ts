import { describe, expect, it } from 'vitest';
import { CLIENT_ID_PATTERN, environmentOfClientId, newClientId, newClientSecret, secretHint } from './credential-format.js';

describe('credential format', () => {
  it('puts the environment in the client id prefix', () => {
    const acc = newClientId('acceptance');
    const prd = newClientId('production');
    expect(acc).toMatch(/^acc_/);
    expect(prd).toMatch(/^prd_/);
    expect(acc).toMatch(CLIENT_ID_PATTERN);
    expect(environmentOfClientId(acc)).toBe('acceptance');
    expect(environmentOfClientId(prd)).toBe('production');
    expect(environmentOfClientId('xyz_abc')).toBeNull();
  });

  it('makes secrets of 256 random bits with a scanner-friendly prefix', () => {
    const s = newClientSecret('production');
    expect(s).toMatch(/^cbsk_prd_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(s.slice('cbsk_prd_'.length), 'base64url')).toHaveLength(32);
    expect(new Set(Array.from({ length: 200 }, () => newClientSecret('acceptance'))).size).toBe(200);
    expect(secretHint(s)).toBe(`cbsk_prd_…${s.slice(-4)}`);
  });
});
