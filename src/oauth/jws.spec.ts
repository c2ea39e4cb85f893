import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, importJWK, jwtVerify } from 'jose';
import { signEs256Jwt } from './jws.js';

describe('signEs256Jwt', () => {
  it('produces a compact JWS that jose verifies, and that fails once tampered', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = signEs256Jwt({ typ: 'at+jwt', kid: 'k1' }, { iss: 'https://issuer.example', sub: 'acc_x', exp: Math.floor(Date.now() / 1000) + 60 }, privateKey);
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
