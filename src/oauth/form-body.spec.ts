import { parse as fastQuerystring } from 'fast-querystring';
import { describe, expect, it } from 'vitest';
import { parseForm, plainFormLength } from './form-body.js';

const plain = (o: object) => JSON.stringify(Object.entries(o));

describe('parseForm', () => {
  it('reads a form as the Fastify body parser (fast-querystring) does, odd input included', () => {
    const cases = [
      'grant_type=client_credentials&resource=https%3A%2F%2Fapi.example%2Fv1',
      'a=1&a=2&a=3',
      'a+b=c+d&%41=%zz&=v&k&&x=%E2%82%AC&y=%E2%82&z=a=b',
      '',
      '&',
      '__proto__=x&constructor=y',
      'scope=business%20communities&client_id=acc_1%2B2',
    ];
    const alphabet = ['a', 'b', '=', '&', '+', '%', '2', '0', 'F', 'E2', '%82', 'é', '\u0000', '_'];
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = Math.floor(Math.random() * 14);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
      cases.push(s);
    }
    for (const c of cases) expect(plain(parseForm(c)), c).toBe(plain(fastQuerystring(c)));
    expect(Object.getPrototypeOf(parseForm('a=1'))).toBeNull();
    expect(Object.hasOwn(parseForm('__proto__=x'), '__proto__')).toBe(true);
  });
});

describe('plainFormLength', () => {
  const form = 'application/x-www-form-urlencoded';
  it('takes a plain form body of declared length within the limit, and leaves anything else to Fastify', () => {
    expect(plainFormLength({ 'content-type': form, 'content-length': '29' }, 100)).toBe(29);
    expect(plainFormLength({ 'content-type': `${form}; charset=UTF-8`, 'content-length': '0' }, 100)).toBe(0);
    expect(plainFormLength({ 'content-type': ' Application/X-WWW-Form-Urlencoded ', 'content-length': '5' }, 100)).toBe(5);
    expect(plainFormLength({ 'content-type': form, 'content-length': '101' }, 100)).toBe(-1);
    expect(plainFormLength({ 'content-type': form }, 100)).toBe(-1);
    expect(plainFormLength({ 'content-type': form, 'content-length': '5', 'transfer-encoding': 'chunked' }, 100)).toBe(-1);
    expect(plainFormLength({ 'content-type': form, 'content-length': '5', 'content-encoding': 'gzip' }, 100)).toBe(-1);
    expect(plainFormLength({ 'content-type': `${form}x`, 'content-length': '5' }, 100)).toBe(-1);
    expect(plainFormLength({ 'content-type': 'application/json', 'content-length': '5' }, 100)).toBe(-1);
    expect(plainFormLength({ 'content-type': form, 'content-length': '-1' }, 100)).toBe(-1);
  });
});
