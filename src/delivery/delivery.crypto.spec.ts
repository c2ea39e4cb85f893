import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  hotpCode,
  hotpVerify,
  linkTokenHash,
  newHotpSecret,
  newLinkToken,
  openSecret,
  parseCode,
  parseLinkToken,
  sealHotpSecret,
  sealSecret,
} from './delivery.crypto.js';
import { Keyring } from '../common/keyring.js';

describe('delivery crypto', () => {
  it('seals the secret under the link token and the delivery id; anything else fails to open it', () => {
    const token = newLinkToken();
    const id = randomUUID();
    const sealed = sealSecret(token, id, 'cs_live_secret');
    expect(sealed).not.toContain('cs_live_secret');
    expect(openSecret(token, id, sealed)).toBe('cs_live_secret');
    expect(() => openSecret(newLinkToken(), id, sealed)).toThrow();
    expect(() => openSecret(token, randomUUID(), sealed)).toThrow();
  });

  it('makes 256-bit link tokens and keyed hashes of them', () => {
    const token = newLinkToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const key = randomBytes(32);
    expect(linkTokenHash(key, token)).toMatch(/^[0-9a-f]{64}$/);
    expect(linkTokenHash(randomBytes(32), token)).not.toBe(linkTokenHash(key, token));
  });

  it('reads the token from the bare token or the whole link, and rejects anything else without echoing it', () => {
    const token = newLinkToken();
    expect(parseLinkToken(token)).toBe(token);
    expect(parseLinkToken(` https://x.example/delivery#${token} `)).toBe(token);
    for (const bad of ['', 'abc', `${token}x`, `https://x.example/delivery?t=${token}`, 42, null]) {
      expect(() => parseLinkToken(bad)).toThrow(expect.objectContaining({ code: 'delivery/invalid_link' }));
    }
    let thrown: unknown;
    try {
      parseLinkToken('not-a-token-but-long-enough-to-notice-0000');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'delivery/invalid_link' });
    expect((thrown as Error).message).not.toContain('not-a-token');
  });

  it('makes 8-digit HOTP codes valid only for their own counter', () => {
    const master = new Keyring(randomBytes(32));
    const id = randomUUID();
    const sealed = sealHotpSecret(master, id, newHotpSecret());
    const c1 = hotpCode(master, id, sealed, 1);
    expect(c1).toMatch(/^\d{8}$/);
    expect(hotpVerify(master, id, sealed, 1, c1)).toBe(true);
    expect(hotpVerify(master, id, sealed, 2, c1)).toBe(false);
    expect(hotpVerify(master, id, sealed, 1, String((Number(c1) + 1) % 1e8).padStart(8, '0'))).toBe(false);
    expect(parseCode('1234 5678')).toBe('12345678');
    expect(() => parseCode('1234567')).toThrow(expect.objectContaining({ code: 'delivery/invalid_code' }));
  });
});
