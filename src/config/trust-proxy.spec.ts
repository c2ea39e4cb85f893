import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';
import { fastifyTrustProxy, trustProxyFrom } from './trust-proxy.js';

const parse = (raw: string | undefined) => {
  const problems: string[] = [];
  return { setting: trustProxyFrom(raw, problems), problems };
};

describe('TRUST_PROXY', () => {
  it('refuses "trust everything" and says what to set instead', () => {
    for (const raw of ['true', 'TRUE', 'yes', '*']) {
      const { setting, problems } = parse(raw);
      expect(setting).toBe(false);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/would believe any X-Forwarded-For/);
      expect(problems[0]).toMatch(/TRUST_PROXY=1/);
      expect(problems[0]).toMatch(/TRUST_PROXY=10\.0\.0\.0\/8/);
    }
  });

  it('stops the service from starting with TRUST_PROXY=true', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    mkdirSync(join(dir, 'prisma/migrations'), { recursive: true });
    const key = Buffer.alloc(32, 7).toString('base64');
    const env = { NODE_ENV: 'test', DATABASE_URL: 'postgresql://x/y', SECRET_HASH_KEY: key, MASTER_KEY: key };
    expect(() => loadConfig({ ...env, TRUST_PROXY: 'true' }, dir)).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, TRUST_PROXY: 'true' }, dir)).toThrow(/TRUST_PROXY=true would believe any X-Forwarded-For/);
    expect(loadConfig({ ...env, TRUST_PROXY: '2' }, dir).trustProxy).toEqual({ hops: 2 });
  });

  it('takes a hop count', () => {
    expect(parse('1')).toEqual({ setting: { hops: 1 }, problems: [] });
    expect(parse('2')).toEqual({ setting: { hops: 2 }, problems: [] });
    expect(parse('11').problems[0]).toMatch(/hop count from 0 to 10/);
  });

  it('takes addresses and CIDR ranges, IPv4 and IPv6, and refuses anything else', () => {
    expect(parse(' 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::1, loopback')).toEqual({
      setting: { addresses: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1', 'loopback'] },
      problems: [],
    });
    const bad = parse('10.0.0.0/33,proxy.example,10.0.0.1/8/1,2001:db8::/129');
    expect(bad.setting).toBe(false);
    expect(bad.problems[0]).toContain('"10.0.0.0/33", "proxy.example", "10.0.0.1/8/1", "2001:db8::/129"');
  });

  it('is off when unset, empty, false or 0', () => {
    for (const raw of [undefined, '', 'false', '0']) expect(parse(raw)).toEqual({ setting: false, problems: [] });
  });

  it('as a hop count, trusts exactly that many addresses counted from the connection', () => {
    const trust = fastifyTrustProxy({ hops: 2 });
    expect(typeof trust).toBe('function');
    const f = trust as (a: string, i: number) => boolean;
    expect([0, 1, 2, 3].map((i) => f('10.0.0.1', i))).toEqual([true, true, false, false]);
    expect(fastifyTrustProxy(false)).toBe(false);
    expect(fastifyTrustProxy({ addresses: ['10.0.0.0/8'] })).toEqual(['10.0.0.0/8']);
  });
});
