import { describe, expect, it } from 'vitest';
import { mobileNumberProblem, nationalToE164, normaliseMobile, normaliseRegistrationNumber, normaliseEmail } from './partner.validation.js';

describe('technical contact mobile numbers', () => {
  it.each(['+31612345678', '+31 6 1234 5678', '+447911123456', '+4915112345678', '+14155552671'])('accepts %s', (n) => {
    expect(mobileNumberProblem(n)).toBeNull();
  });
  it('normalises to E.164', () => expect(normaliseMobile('+31 6 1234 5678')).toBe('+31612345678'));
  it('refuses VoIP numbers (NIST SP 800-63B)', () => expect(mobileNumberProblem('+31851234567')).toMatch(/VoIP/));
  it('refuses landlines', () => expect(mobileNumberProblem('+442071838750')).toMatch(/landline/));
  it.each(['0612345678', '+3120123456', 'call me', '', '+31 6 1234 5678 ext 5', 12345])('refuses %s', (n) => {
    expect(mobileNumberProblem(n)).not.toBeNull();
  });
});

describe('national mobile numbers', () => {
  it.each([
    ['06 12345678', 'NL', '+31612345678'],
    ['0612-345678', 'NL', '+31612345678'],
    ['0031 6 12345678', 'DE', '+31612345678'],
    ['07911 123456', 'GB', '+447911123456'],
    ['0151 12345678', 'DE', '+4915112345678'],
  ])('reads %s in %s as %s', (typed, country, e164) => expect(nationalToE164(typed, country)).toBe(e164));
  it('leaves international and unreadable numbers to the check', () => {
    expect(nationalToE164('+31612345678', 'NL')).toBeNull();
    expect(nationalToE164('06 12', 'NL')).toBeNull();
    expect(nationalToE164('call me', 'NL')).toBeNull();
  });
  it('still refuses a national VoIP number once read', () => expect(mobileNumberProblem(nationalToE164('085 123 4567', 'NL'))).toMatch(/VoIP/));
});

describe('normalising identifiers', () => {
  it('compares registration numbers without separators', () => expect(normaliseRegistrationNumber(' 1234.56-78 ')).toBe('12345678'));
  it('lower-cases only the email domain', () => expect(normaliseEmail(' Jan.Smit@Example.COM ')).toBe('Jan.Smit@example.com'));
});
