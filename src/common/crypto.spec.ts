import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { constantTimeEqual, open, randomToken, seal } from './crypto.js';

describe('crypto helpers', () => {
  it('seals and opens with AES-256-GCM, bound to its associated data', () => {
    const key = randomBytes(32);
    const sealed = seal(key, 'plaintext', 'row-1');
    expect(sealed).not.toContain('plaintext');
    expect(open(key, sealed, 'row-1').toString()).toBe('plaintext');
    expect(() => open(key, sealed, 'row-2')).toThrow();
    expect(() => open(randomBytes(32), sealed, 'row-1')).toThrow();
  });

  it('compares in constant time and treats different lengths as unequal', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });

  it('makes URL-safe tokens of the requested entropy', () => {
    expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(16)).not.toBe(randomToken(16));
  });
});
