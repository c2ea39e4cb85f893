import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';

function projectDir() {
  const d = mkdtempSync(join(tmpdir(), 'cfg-'));
  mkdirSync(join(d, 'prisma/migrations'), { recursive: true });
  return d;
}
const key = Buffer.alloc(32, 7).toString('base64');
const prod = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://x/y',
  SECRET_HASH_KEY: key,
  MASTER_KEY: key,
  METRICS_TOKEN: 't',
  PUBLIC_BASE_URL: 'https://x.example',
  AUDIT_CHAIN_KEY: Buffer.alloc(32, 8).toString('base64'),
  AUDIT_CHECKPOINT_KEY: Buffer.alloc(32, 9).toString('base64'),
  SMTP_URL: 'smtp://mail.example:587',
  TWILIO_ACCOUNT_SID: 'AC123',
  TWILIO_AUTH_TOKEN: 'tok',
  TWILIO_FROM: '+3197010000000',
  STAFF_ALERT_EMAIL: 'bj@x.example',
};

describe('notification and delivery settings', () => {
  it('turns the dev outbox on in development only, and refuses it in production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }, projectDir()).devOutbox).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgresql://x/y' }, projectDir()).devOutbox).toBe(false);
    expect(loadConfig(prod, projectDir()).devOutbox).toBe(false);
    expect(() => loadConfig({ ...prod, DEV_OUTBOX: 'true' }, projectDir())).toThrow(/DEV_OUTBOX cannot be enabled in production/);
  });

  it('runs workers outside tests unless told otherwise', () => {
    expect(loadConfig(prod, projectDir()).notificationWorkers).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgresql://x/y' }, projectDir()).notificationWorkers).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgresql://x/y', NOTIFICATION_WORKERS: 'true' }, projectDir()).notificationWorkers).toBe(true);
  });

  it('reads SMTP, Twilio and delivery settings and refuses malformed ones', () => {
    const c = loadConfig(
      {
        ...prod,
        SMTP_URL: 'smtps://u:p@mail.example:465',
        TWILIO_ACCOUNT_SID: 'AC1',
        TWILIO_AUTH_TOKEN: 'tok',
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE_URL: 'https://api.dublin.ie1.twilio.com/',
        DELIVERY_TTL_DAYS: '3',
        STAFF_ALERT_EMAIL: 'bj@x.example',
      },
      projectDir(),
    );
    expect(c).toMatchObject({
      smtpUrl: 'smtps://u:p@mail.example:465',
      deliveryTtlDays: 3,
      staffAlertEmail: 'bj@x.example',
      twilio: { accountSid: 'AC1', from: '+15005550006', apiBaseUrl: 'https://api.dublin.ie1.twilio.com' },
    });
    expect(() => loadConfig({ ...prod, SMTP_URL: 'http://mail' }, projectDir())).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ ...prod, DELIVERY_TTL_DAYS: '0' }, projectDir())).toThrow(/DELIVERY_TTL_DAYS/);
    expect(() => loadConfig({ ...prod, TWILIO_API_BASE_URL: 'ftp://x' }, projectDir())).toThrow(/TWILIO_API_BASE_URL/);
  });
});
