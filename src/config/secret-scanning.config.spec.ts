import { describe, expect, it } from 'vitest';
import { GITHUB_SECRET_SCANNING_KEYS_URL, secretScanningConfig } from './secret-scanning.config.js';

describe('secretScanningConfig', () => {
  it('is off by default and reads GitHub’s key document', () => {
    const problems: string[] = [];
    const c = secretScanningConfig({}, problems);
    expect(problems).toEqual([]);
    expect(c).toMatchObject({ enabled: false, keysUrl: GITHUB_SECRET_SCANNING_KEYS_URL, keyRefreshSeconds: 60, replayHours: 24, reportsPerHour: 10 });
  });

  it('refuses unclear switches, a key URL that is not http(s), plain http in production and out-of-range numbers', () => {
    const problems: string[] = [];
    secretScanningConfig({ SECRET_SCANNING_ENABLED: 'yes', SECRET_SCANNING_KEYS_URL: 'ftp://keys', SECRET_SCANNING_MAX_BODY_BYTES: '10' }, problems);
    expect(problems.join('\n')).toMatch(/SECRET_SCANNING_ENABLED must be true or false/);
    expect(problems.join('\n')).toMatch(/SECRET_SCANNING_KEYS_URL must be an http\(s\) URL/);
    expect(problems.join('\n')).toMatch(/SECRET_SCANNING_MAX_BODY_BYTES must be a whole number/);
    const prod: string[] = [];
    secretScanningConfig({ NODE_ENV: 'production', SECRET_SCANNING_KEYS_URL: 'http://keys.example/meta' }, prod);
    expect(prod.join('\n')).toMatch(/https in production/);
  });
});
