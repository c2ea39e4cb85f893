import { describe, expect, it } from 'vitest';
import { lookupConfig } from './lookup-config.js';

describe('lookupConfig', () => {
  it('is on when a Twilio account is configured and off otherwise (the development sinks)', () => {
    const problems: string[] = [];
    expect(lookupConfig({}, problems, false)).toMatchObject({
      enabled: false,
      simSwapWindowDays: 7,
      allowedLineTypes: ['mobile', 'personal'],
      failOpen: false,
      timeoutMs: 3000,
    });
    expect(lookupConfig({}, problems, true, 'http://stand-in:8026')).toMatchObject({ enabled: true, baseUrl: 'http://stand-in:8026' });
    expect(lookupConfig({ TWILIO_LOOKUP_ENABLED: 'false' }, problems, true).enabled).toBe(false);
    expect(problems).toEqual([]);
  });

  it('refuses settings it cannot honour', () => {
    const problems: string[] = [];
    lookupConfig(
      {
        TWILIO_LOOKUP_ENABLED: 'true',
        ALLOWED_LINE_TYPES: 'mobile,cellular',
        TWILIO_LOOKUP_FAIL_OPEN: 'yes',
        SIM_SWAP_WINDOW_DAYS: '0',
        TWILIO_LOOKUP_BASE_URL: 'ftp://x',
      },
      problems,
      false,
    );
    expect(problems.join('\n')).toMatch(/TWILIO_LOOKUP_ENABLED needs TWILIO_ACCOUNT_SID/);
    expect(problems.join('\n')).toMatch(/"cellular" is not a Twilio line type/);
    expect(problems.join('\n')).toMatch(/TWILIO_LOOKUP_FAIL_OPEN must be true or false/);
    expect(problems.join('\n')).toMatch(/SIM_SWAP_WINDOW_DAYS must be a whole number/);
    expect(problems.join('\n')).toMatch(/TWILIO_LOOKUP_BASE_URL must be an http\(s\) URL/);
  });
});
