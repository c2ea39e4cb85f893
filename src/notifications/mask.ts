import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** `jane.doe@example.com` -> `j•••@example.com`: enough for staff and the partner to recognise, not to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${email[0]}•••${email.slice(at)}`;
}

/** `+31612345678` -> `+31 •••• ••78`: the country calling code and the last two digits. */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/[^\d]/g, '');
  if (digits.length < 6) return '•••';
  const cc = parsePhoneNumberFromString(e164)?.countryCallingCode;
  return `${cc ? `+${cc} ` : ''}•••• ••${digits.slice(-2)}`;
}
