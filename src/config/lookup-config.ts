import { flag, wholeNumber } from './env-values.js';

/** Twilio Lookup v2's `line_type_intelligence.type` values. */
export const LINE_TYPES = [
  'mobile',
  'landline',
  'fixedVoip',
  'nonFixedVoip',
  'personal',
  'tollFree',
  'premium',
  'sharedCost',
  'uan',
  'voicemail',
  'pager',
  'unknown',
] as const;
export type LineType = (typeof LINE_TYPES)[number];

/** Checks of the technical contact's number (Twilio Lookup v2) before it is accepted and before each SMS code. */
export interface LookupConfig {
  /** TWILIO_LOOKUP_ENABLED; on by default when a Twilio account is configured, off otherwise (the development sinks). */
  enabled: boolean;
  /** TWILIO_LOOKUP_BASE_URL: a stand-in for lookups.twilio.com (tests, trial setups); defaults to TWILIO_API_BASE_URL. */
  baseUrl?: string;
  /** TWILIO_LOOKUP_TIMEOUT_MS (3000): an answer slower than this counts as no answer. */
  timeoutMs: number;
  /** TWILIO_LOOKUP_CACHE_SECONDS (300): how long one number's answer is reused. */
  cacheSeconds: number;
  /** SIM_SWAP_WINDOW_DAYS (7): a SIM change this recent holds every SMS code until staff verified the person. */
  simSwapWindowDays: number;
  /** ALLOWED_LINE_TYPES (mobile,personal): line types that can receive a code reliably. */
  allowedLineTypes: LineType[];
  /** TWILIO_LOOKUP_FAIL_OPEN (false): send a code anyway when Lookup gives no usable answer. */
  failOpen: boolean;
}

export function lookupConfig(env: NodeJS.ProcessEnv, problems: string[], twilioAccount: boolean, twilioApiBaseUrl?: string): LookupConfig {
  const baseUrl = env.TWILIO_LOOKUP_BASE_URL?.trim().replace(/\/+$/, '') || twilioApiBaseUrl;
  if (baseUrl && !/^https?:\/\//.test(baseUrl)) problems.push('TWILIO_LOOKUP_BASE_URL must be an http(s) URL');
  const enabled = flag(env, problems, 'TWILIO_LOOKUP_ENABLED', twilioAccount);
  if (enabled && !twilioAccount) problems.push('TWILIO_LOOKUP_ENABLED needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
  const rawTypes = env.ALLOWED_LINE_TYPES?.trim() || 'mobile,personal';
  const allowedLineTypes: LineType[] = [];
  for (const t of rawTypes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if ((LINE_TYPES as readonly string[]).includes(t)) allowedLineTypes.push(t as LineType);
    else problems.push(`ALLOWED_LINE_TYPES: "${t}" is not a Twilio line type (${LINE_TYPES.join(', ')})`);
  }
  if (!allowedLineTypes.length) problems.push('ALLOWED_LINE_TYPES must name at least one line type');
  return {
    enabled,
    baseUrl,
    timeoutMs: wholeNumber(env, problems, 'TWILIO_LOOKUP_TIMEOUT_MS', 3000, 100, 30000),
    cacheSeconds: wholeNumber(env, problems, 'TWILIO_LOOKUP_CACHE_SECONDS', 300, 0, 86400),
    simSwapWindowDays: wholeNumber(env, problems, 'SIM_SWAP_WINDOW_DAYS', 7, 1, 365),
    allowedLineTypes,
    failOpen: flag(env, problems, 'TWILIO_LOOKUP_FAIL_OPEN', false),
  };
}
