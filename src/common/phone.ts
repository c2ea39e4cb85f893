import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';

/** What people put between digits: spaces, brackets, dots, dashes. */
const SEPARATORS = /[\s().-]/g;

/**
 * The one reader of phone numbers. Written the international way (`+31 6 1234 5678`) it needs no country; written
 * the national way (`06 12345678`, or `0031 6 ...`) it is read in `country`, and without one it is not read. The
 * whole text must be the number (no extension, no letters around it). Undefined when it cannot be read.
 */
export function readPhoneNumber(value: unknown, country?: string): PhoneNumber | undefined {
  if (typeof value !== 'string') return undefined;
  const raw = value.replace(SEPARATORS, '');
  if (!raw) return undefined;
  const international = raw.startsWith('+') ? raw : country && raw.startsWith('00') ? `+${raw.slice(2)}` : null;
  if (!international && !country) return undefined;
  const parsed = international
    ? parsePhoneNumberFromString(international, { extract: false })
    : parsePhoneNumberFromString(raw, { defaultCountry: country!.trim().toUpperCase() as CountryCode, extract: false });
  return parsed && !parsed.ext ? parsed : undefined;
}

/** The number in E.164 (`+31612345678`) when it is a valid one (see `readPhoneNumber`), else null. */
export function phoneToE164(value: unknown, country?: string): string | null {
  const parsed = readPhoneNumber(value, country);
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * True when `value` is written exactly in E.164 with a length some number of its country can have, as the SMS
 * senders are given it. Whether it is a mobile line in use is the intake's check and Twilio Lookup's, not this one's.
 */
export function isE164(value: unknown): boolean {
  const parsed = readPhoneNumber(value);
  return !!parsed?.isPossible() && parsed.number === value;
}
