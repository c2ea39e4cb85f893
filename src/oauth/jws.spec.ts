import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, importJWK, jwtVerify } from 'jose';
import { SignJWT } from 'jose';
import { signEs256Jwt, verifyEs256Jwt } from './jws.js';

describe('signEs256Jwt', () => {
  it('produces a compact JWS that jose verifies, and that fails once tampered', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = signEs256Jwt(
      { typ: 'at+jwt', kid: 'k1' },
      { iss: 'https://issuer.example', sub: 'acc_x', exp: Math.floor(Date.now() / 1000) + 60 },
      privateKey,
    );
    const key = await importJWK(await exportJWK(publicKey), 'ES256');
    const { payload, protectedHeader } = await jwtVerify(token, key, { issuer: 'https://issuer.example', typ: 'at+jwt' });
    expect(payload.sub).toBe('acc_x');
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'k1' });
    const [h, p, s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: 'https://issuer.example', sub: 'acc_y', exp: 9999999999 })).toString('base64url')}.${s}`;
    await expect(jwtVerify(forged, key)).rejects.toThrow();
    void p;
  });
});

describe('verifyEs256Jwt', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = (kid: string) => (kid === 'k1' ? publicKey : kid === 'k2' ? other.publicKey : undefined);
  const token = signEs256Jwt({ typ: 'at+jwt', kid: 'k1' }, { iss: 'https://issuer.example', sub: 'acc_x' }, privateKey);

  it('returns the header and claims of a token signed by the key of its kid', () => {
    expect(verifyEs256Jwt(token, keys)).toEqual({
      header: { alg: 'ES256', typ: 'at+jwt', kid: 'k1' },
      claims: { iss: 'https://issuer.example', sub: 'acc_x' },
    });
  });

  it('verifies what jose signs, so it is not merely the inverse of our own signer', async () => {
    const joseToken = await new SignJWT({ sub: 'acc_y' }).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }).sign(privateKey);
    expect(verifyEs256Jwt(joseToken, keys)?.claims.sub).toBe('acc_y');
  });

  it('refuses tampered claims, another key, an unknown kid, alg none and malformed input', () => {
    const [h, , s] = token.split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ iss: 'https://issuer.example', sub: 'acc_y' })).toString('base64url');
    expect(verifyEs256Jwt(`${h}.${forgedClaims}.${s}`, keys)).toBeNull();
    const relabelled = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'k2' })).toString('base64url');
    expect(verifyEs256Jwt(`${relabelled}.${token.split('.')[1]}.${s}`, keys)).toBeNull();
    expect(verifyEs256Jwt(signEs256Jwt({ kid: 'k9' }, { sub: 'x' }, privateKey), keys)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1' })).toString('base64url');
    expect(verifyEs256Jwt(`${none}.${token.split('.')[1]}.`, keys)).toBeNull();
    for (const bad of ['', '.', '..', 'a.b.c', 'a.b.c.d', `${token}.x`, token.slice(0, -3), `${h}.bm90IGpzb24.${s}`, 'x'.repeat(9000)])
      expect(verifyEs256Jwt(bad, keys)).toBeNull();
  });
});
