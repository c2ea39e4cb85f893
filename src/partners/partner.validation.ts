import type { NumberType } from 'libphonenumber-js/max';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { phoneToE164, readPhoneNumber } from '../common/phone.js';

// SMS is the second channel for secrets: the number must be a real mobile line. VoIP numbers are refused
// where the metadata can tell (NIST SP 800-63B 5.1.3.3); so are lines that cannot receive SMS.
const ACCEPTED_TYPES = new Set<NumberType | undefined>(['MOBILE', 'FIXED_LINE_OR_MOBILE', undefined]);

/** null when `value` is a usable E.164 mobile number, else a message for the person filling in the form. */
export function mobileNumberProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !value.trim()) return 'Enter a mobile phone number';
  const parsed = readPhoneNumber(value);
  if (!parsed?.isPossible()) return 'Enter the mobile number in international format, starting with + and the country code, like +31 6 12345678';
  if (!parsed.isValid()) return 'Enter a valid mobile phone number';
  const type: NumberType | undefined = parsed.getType();
  if (type === 'VOIP') return 'Internet (VoIP) numbers cannot be used: enter a mobile phone number that can receive SMS';
  if (!ACCEPTED_TYPES.has(type)) return 'Enter a mobile phone number that can receive SMS, not a landline or service number';
  return null;
}

/**
 * A number typed the way people write it at home ("06 12345678", "0612-345678", or "0031 6 ...") read in the
 * country of the form, as E.164; null when it cannot be read that way (the caller then checks it as typed,
 * so the VoIP and landline refusals above apply to it either way).
 */
export function nationalToE164(value: string, country: string): string | null {
  if (value.trim().startsWith('+')) return null;
  return phoneToE164(value, country.trim() || 'NL');
}

/** E.164 form of a number that passed `mobileNumberProblem`. */
export function normaliseMobile(value: string): string {
  return readPhoneNumber(value)!.number;
}

/** Chamber-of-commerce and similar numbers are compared without spaces, dots or dashes, upper case. */
export function normaliseRegistrationNumber(value: string): string {
  return value.replace(/[\s.\-/]/g, '').toUpperCase();
}

export function normaliseEmail(value: string): string {
  const trimmed = value.trim();
  const at = trimmed.lastIndexOf('@');
  return at < 0 ? trimmed : trimmed.slice(0, at) + '@' + trimmed.slice(at + 1).toLowerCase();
}

export function IsMobileNumber(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isMobileNumber',
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => mobileNumberProblem(value) === null,
        defaultMessage: (args) => mobileNumberProblem(args?.value) ?? 'Enter a valid mobile phone number',
      },
    });
}
