import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';

function projectDir() {
  const d = mkdtempSync(join(tmpdir(), 'cfg-'));
  mkdirSync(join(d, 'prisma/migrations'), { recursive: true });
  return d;
}
const key = Buffer.alloc(32, 7).toString('base64');
const auditKeys = { AUDIT_CHAIN_KEY: Buffer.alloc(32, 8).toString('base64'), AUDIT_CHECKPOINT_KEY: Buffer.alloc(32, 9).toString('base64') };

describe('loadConfig', () => {
  it('refuses to start in production without a database, keys or metrics token', () => {
    try {
      loadConfig({ NODE_ENV: 'production' }, projectDir());
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/DATABASE_URL is required/);
      expect(problems).toMatch(/SECRET_HASH_KEY is required/);
      expect(problems).toMatch(/MASTER_KEY is required/);
      expect(problems).toMatch(/METRICS_TOKEN/);
      expect(problems).toMatch(/SMTP_URL is required/);
      expect(problems).toMatch(/TWILIO_AUTH_TOKEN is required/);
      expect(problems).toMatch(/STAFF_ALERT_EMAIL is required/);
      expect(problems).toMatch(/AUDIT_CHAIN_KEY is required/);
      expect(problems).toMatch(/AUDIT_CHECKPOINT_KEY is required/);
    }
  });

  it('refuses to start with a database but no NODE_ENV, and says which to set', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://x/y' }, projectDir())).toThrow(/NODE_ENV is not set while DATABASE_URL is: set NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'postgresql://x/y' }, projectDir()).nodeEnv).toBe('development');
    expect(loadConfig({}, projectDir()).nodeEnv).toBe('development');
  });

  it('refuses the dev outbox in production (it would show one-time links and codes on a page)', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DEV_OUTBOX: 'true' }, projectDir())).toThrow(/DEV_OUTBOX cannot be enabled in production/);
  });

  it('refuses placeholder and short keys', () => {
    expect(() =>
      loadConfig(
        {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgresql://x/y',
          SECRET_HASH_KEY: 'changeme',
          MASTER_KEY: 'c2hvcnQ=',
          METRICS_TOKEN: 't',
          PUBLIC_BASE_URL: 'https://x.example',
        },
        projectDir(),
      ),
    ).toThrow(/SECRET_HASH_KEY is a placeholder[\s\S]*MASTER_KEY must decode to exactly 32 bytes/);
  });

  it('refuses a master key longer than 32 bytes rather than ignoring the rest, and reads earlier keys for rotation', () => {
    const env = { NODE_ENV: 'test', DATABASE_URL: 'postgresql://x/y', SECRET_HASH_KEY: key };
    expect(() => loadConfig({ ...env, MASTER_KEY: Buffer.alloc(48, 7).toString('base64') }, projectDir())).toThrow(
      /MASTER_KEY must decode to exactly 32 bytes of base64 \(got 48\)/,
    );
    const older = Buffer.alloc(32, 1).toString('base64');
    const c = loadConfig(
      { ...env, MASTER_KEY: key, MASTER_KEY_PREVIOUS: `${older}, ${Buffer.alloc(32, 2).toString('base64')}`, SECRET_HASH_KEY_PREVIOUS: older },
      projectDir(),
    );
    expect(c.masterKeys.ids).toHaveLength(3);
    expect(c.secretHashKeysPrevious).toHaveLength(1);
    expect(() => loadConfig({ ...env, MASTER_KEY: key, MASTER_KEY_PREVIOUS: 'c2hvcnQ=' }, projectDir())).toThrow(
      /MASTER_KEY_PREVIOUS: key 1 must decode to exactly 32 bytes/,
    );
  });

  it('refuses plain http as the public URL in production', () => {
    expect(() =>
      loadConfig(
        {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgresql://x/y',
          SECRET_HASH_KEY: key,
          MASTER_KEY: key,
          METRICS_TOKEN: 't',
          PUBLIC_BASE_URL: 'http://x.example',
        },
        projectDir(),
      ),
    ).toThrow(/https/);
  });

  it('accepts a complete production configuration', () => {
    const c = loadConfig(
      {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgresql://x/y',
        SECRET_HASH_KEY: key,
        MASTER_KEY: key,
        METRICS_TOKEN: 't',
        PUBLIC_BASE_URL: 'https://x.example/',
        SMTP_URL: 'smtp://mail.example:587',
        TWILIO_ACCOUNT_SID: 'AC123',
        TWILIO_AUTH_TOKEN: 'tok',
        TWILIO_FROM: '+3197010000000',
        STAFF_ALERT_EMAIL: 'bj@x.example',
        ...auditKeys,
      },
      projectDir(),
    );
    expect(c.publicBaseUrl).toBe('https://x.example');
    expect(c.secureCookies).toBe(true);
    expect(c.secretHashKey).toHaveLength(32);
    expect(c.audit.checkpointDir).toMatch(/\.data\/audit-checkpoints$/);
  });

  it('keeps the audit keys apart from the master key and each other', () => {
    const base = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://x/y',
      SECRET_HASH_KEY: key,
      MASTER_KEY: key,
      METRICS_TOKEN: 't',
      PUBLIC_BASE_URL: 'https://x.example/',
      SMTP_URL: 'smtp://m.example',
      TWILIO_ACCOUNT_SID: 'AC1',
      TWILIO_AUTH_TOKEN: 't',
      TWILIO_FROM: '+3197010000000',
      STAFF_ALERT_EMAIL: 'bj@x.example',
    };
    expect(() => loadConfig({ ...base, AUDIT_CHAIN_KEY: key, AUDIT_CHECKPOINT_KEY: auditKeys.AUDIT_CHECKPOINT_KEY }, projectDir())).toThrow(
      /three different keys/,
    );
    expect(() => loadConfig({ ...base, ...auditKeys, AUDIT_CHECKPOINT_KEY: Buffer.alloc(48, 1).toString('base64') }, projectDir())).toThrow(
      /AUDIT_CHECKPOINT_KEY must decode to exactly 32 bytes/,
    );
  });

  it('generates development keys once and keeps them', () => {
    const dir = projectDir();
    const a = loadConfig({ NODE_ENV: 'development' }, dir);
    const b = loadConfig({ NODE_ENV: 'development' }, dir);
    expect(a.databaseUrl).toBeUndefined();
    expect(a.masterKey.equals(b.masterKey)).toBe(true);
    expect(a.secretHashKey.equals(a.masterKey)).toBe(false);
    expect(a.audit.chainKey.equals(b.audit.chainKey)).toBe(true);
    expect(a.audit.checkpointKey.equals(b.audit.checkpointKey)).toBe(true);
    expect(a.audit.chainKey.equals(a.masterKey)).toBe(false);
  });

  it('rejects malformed values with a message naming the variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'staging' }, projectDir())).toThrow(/NODE_ENV/);
    expect(() => loadConfig({ PORT: 'eighty' }, projectDir())).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' }, projectDir())).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ TWILIO_TIMEOUT_MS: 'soon' }, projectDir())).toThrow(/TWILIO_TIMEOUT_MS must be a whole number from 100/);
    expect(() => loadConfig({ DELIVERY_TTL_DAYS: '31' }, projectDir())).toThrow(/DELIVERY_TTL_DAYS must be a whole number from 1 to 30/);
  });

  it('treats an empty number setting as unset, like every other number', () => {
    const c = loadConfig({ NODE_ENV: 'development', DELIVERY_TTL_DAYS: '', TWILIO_TIMEOUT_MS: '' }, projectDir());
    expect(c.deliveryTtlDays).toBe(7);
    expect(c.twilio.timeoutMs).toBe(15000);
  });
});
