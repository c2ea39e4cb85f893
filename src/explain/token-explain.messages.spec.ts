import { describe, expect, it } from 'vitest';
import { duration, findingMessage, nextSteps, type FindingFacts, type StepContext } from './token-explain.messages.js';
import { EXPLAIN_REASONS } from './token-explain.types.js';

const at = new Date('2026-12-03T14:05:09Z');
const FACTS: FindingFacts[] = [
  { code: 'client_secret' },
  { code: 'malformed' },
  { code: 'token_revoked' },
  { code: 'not_signed_by_us', iss: 'https://elsewhere.example' },
  { code: 'signature_invalid', env: 'acceptance', kid: 'k1' },
  { code: 'key_withdrawn', env: 'production', kid: 'k2', withdrawnAt: at },
  { code: 'other_environment', env: 'acceptance', issuer: 'https://a', called: 'production', calledIssuer: 'https://p' },
  { code: 'wrong_audience', apiName: null, audience: null, expectedApiName: 'Business API', expectedAudience: 'https://b' },
  { code: 'client_revoked', clientId: 'acc_x', revokedAt: at },
  { code: 'expired', expiresAt: at, agoSeconds: 600, ttlSeconds: 900 },
  { code: 'not_yet_valid', notBefore: at, inSeconds: 30 },
  { code: 'valid', apiName: 'Business API', audience: 'https://b', env: 'acceptance', expiresAt: at },
  { code: 'secret_replaced', clientId: 'acc_x', issuedAt: at, replacedAt: at },
];

describe('token explainer messages', () => {
  it('says every finding in English and in Dutch, with the same facts', () => {
    for (const f of FACTS) {
      const en = findingMessage(f, 'en');
      const nl = findingMessage(f, 'nl');
      expect(en, f.code).not.toBe(nl);
      expect(nl.trim(), f.code).not.toBe('');
      for (const fact of ['2026-12-03 14:05:09 UTC', 'acc_x', 'k1', 'k2', 'https://p']) if (en.includes(fact)) expect(nl, `${f.code}: ${fact}`).toContain(fact);
    }
    expect(findingMessage(FACTS[11], 'nl')).toBe('Dit token is in orde voor Business API in Acceptatie, tot 2026-12-03 14:05:09 UTC.');
    expect(findingMessage(FACTS[7], 'nl')).toContain('audience (geen)');
  });

  it('gives next steps for every reason in both languages', () => {
    const c: StepContext = {
      token: null,
      urls: null,
      ttlSeconds: 900,
      tokenEndpoints: [{ environment: 'acceptance', url: 'http://x/oauth/acceptance/token' }],
    };
    for (const reason of EXPLAIN_REASONS) {
      const en = nextSteps(reason, c, 'en');
      const nl = nextSteps(reason, c, 'nl');
      expect(nl).toHaveLength(en.length);
      nl.forEach((s, i) => expect(s, `${reason}[${i}]`).not.toBe(en[i]));
    }
    expect(nextSteps('expired', c, 'nl')[0]).toContain('Acceptatie http://x/oauth/acceptance/token');
    expect(duration(3600, 'nl')).toBe('60 minuten');
    expect(duration(3600)).toBe('60 minutes');
  });
});
