import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone } from './mask.js';

describe('masking recipients', () => {
  it('keeps the first letter and the domain of an address', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j•••@example.com');
    expect(maskEmail('nope')).toBe('•••');
  });
  it('keeps the country code and the last two digits of a number', () => {
    expect(maskPhone('+31612345678')).toBe('+31 •••• ••78');
    expect(maskPhone('+14155550123')).toBe('+1 •••• ••23');
    expect(maskPhone('+12')).toBe('•••');
  });
});
