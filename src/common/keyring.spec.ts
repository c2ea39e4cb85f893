import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal } from './crypto.js';
import { keyId, Keyring } from './keyring.js';

describe('master keyring', () => {
  it('names the sealing key in every sealed value and opens with it', () => {
    const ring = new Keyring(randomBytes(32));
    const sealed = ring.seal('totp seed', 'staff:1');
    expect(sealed.split('.')[0]).toBe('v2');
    expect(Keyring.idOf(sealed)).toBe(ring.currentId);
    expect(ring.open(sealed, 'staff:1').toString()).toBe('totp seed');
    expect(() => ring.open(sealed, 'staff:2')).toThrow();
  });

  it('after a rotation, values sealed under the previous key still open; a dropped key is named in the error', () => {
    const old = randomBytes(32);
    const before = new Keyring(old).seal('payload', 'n:1');
    const rotated = new Keyring(randomBytes(32), [old]);
    expect(rotated.open(before, 'n:1').toString()).toBe('payload');
    expect(Keyring.idOf(rotated.seal('x'))).not.toBe(keyId(old));
    const dropped = new Keyring(randomBytes(32));
    expect(() => dropped.open(before, 'n:1')).toThrow(new RegExp(`key ${keyId(old)}, which is not configured`));
  });

  it('opens values sealed before key ids existed (v1) with whichever configured key fits', () => {
    const old = randomBytes(32);
    const legacy = seal(old, 'legacy', 'signing:kid');
    expect(legacy.startsWith('v1.')).toBe(true);
    expect(Keyring.idOf(legacy)).toBeNull();
    expect(new Keyring(randomBytes(32), [old]).open(legacy, 'signing:kid').toString()).toBe('legacy');
    expect(new Keyring(old).open(legacy, 'signing:kid').toString()).toBe('legacy');
    expect(() => new Keyring(randomBytes(32)).open(legacy, 'signing:kid')).toThrow(/none of the configured master keys/);
  });

  it('refuses a sealed value whose authentication tag was cut short', () => {
    const key = randomBytes(32);
    const ring = new Keyring(key);
    const cut = (sealed: string) => {
      const parts = sealed.split('.');
      parts[parts.length - 1] = Buffer.from(parts[parts.length - 1], 'base64url')
        .subarray(0, 4)
        .toString('base64url');
      return parts.join('.');
    };
    expect(() => ring.open(cut(ring.seal('seed', 'a:1')), 'a:1')).toThrow();
    expect(() => ring.open(cut(seal(key, 'seed', 'a:1')), 'a:1')).toThrow();
    expect(() => open(key, cut(seal(key, 'seed', 'a:1')), 'a:1')).toThrow();
  });

  it('refuses a key that is not exactly 32 bytes instead of cutting it', () => {
    expect(() => new Keyring(randomBytes(48))).toThrow(/exactly 32 bytes/);
  });
});
