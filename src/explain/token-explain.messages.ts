import type { EnvironmentUrls, ExplainReason, TokenFacts } from './token-explain.types.js';

/** A moment as people read it in a support conversation: `2026-12-03 14:05:09 UTC`. */
export function when(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} seconds`;
  if (s < 7200) return `${Math.round(s / 60)} minutes`;
  if (s < 172_800) return `${Math.round(s / 3600)} hours`;
  return `${Math.round(s / 86_400)} days`;
}

export interface StepContext {
  token: TokenFacts | null;
  urls: EnvironmentUrls | null;
  ttlSeconds: number;
  /** Token endpoints of both environments, for answers that cannot tell which one is meant. */
  tokenEndpoints: string;
}

/** What to do next, for the reason that decides the answer. */
export function nextSteps(reason: ExplainReason, c: StepContext): string[] {
  const fetchNew = c.urls
    ? `Get a new token from ${c.urls.tokenEndpoint} (grant_type=client_credentials with your ${c.urls.label} client_id and client_secret).`
    : `Get a new token from the token endpoint of the environment you call: ${c.tokenEndpoints}.`;
  const lifetime = `Tokens live ${duration(c.ttlSeconds)}: keep one until shortly before expires_in runs out, then fetch the next.`;
  switch (reason) {
    case 'client_secret':
      return [
        'Do not share a client secret with anyone, us included; we never ask for it.',
        'If it was pasted somewhere others can read (a ticket, a chat, a public repository), ask for a new secret at /rotate, or contact us to revoke it at once.',
        'Paste the access_token the token endpoint gave you instead: three parts separated by dots, starting with eyJ.',
      ];
    case 'malformed':
      return [
        "Paste only the access_token value from the token endpoint's JSON response: three base64url parts separated by dots, starting with eyJ.",
        'Send it as the header Authorization: Bearer <access_token>, with exactly one space after Bearer and nothing else around it.',
        fetchNew,
      ];
    case 'not_signed_by_us':
      return ['Tokens for our APIs come only from our token endpoints; a token from another provider or a test tool is refused.', fetchNew];
    case 'signature_invalid':
      return ['The token was changed after we issued it, or only part of it was copied. Never edit a token; copy it whole.', fetchNew];
    case 'key_withdrawn':
      return [
        'Tokens signed with a withdrawn key are refused everywhere, even before they expire.',
        fetchNew,
        'If your API client caches our JWKS, let it reload the key set.',
      ];
    case 'other_environment':
      return [
        c.urls
          ? `Use a ${c.urls.label} token: get it from ${c.urls.tokenEndpoint} (issuer ${c.urls.issuer}) with your ${c.urls.label} client_id (it starts with ${c.urls.environment === 'production' ? 'prd_' : 'acc_'}).`
          : fetchNew,
        'Acceptance and Production have separate credentials, issuers and tokens; a token is accepted only in the environment that issued it.',
      ];
    case 'wrong_audience':
      return [
        'A token is for one API: its aud names that API. Use the client_id issued for the API you call (one credential per API and environment).',
        c.urls?.apiName ? `For ${c.urls.apiName} in ${c.urls.label}, get the token from ${c.urls.tokenEndpoint}.` : fetchNew,
      ];
    case 'client_revoked':
      return [
        'The client behind this token no longer works, and no new token can be fetched with it.',
        'Contact the Business Journeys team (dev-business@coolblue.nl) for new credentials.',
      ];
    case 'token_revoked':
      return ['This token was revoked through the revocation endpoint, by the client that holds it.', fetchNew];
    case 'expired':
      return [fetchNew, lifetime];
    case 'not_yet_valid':
      return [
        "Wait until the time shown, or check that your server's clock is right (NTP): a clock that runs behind reads new tokens as not yet valid.",
        fetchNew,
      ];
    case 'valid':
      return [
        'Send it as the header Authorization: Bearer <access_token>.',
        c.urls?.apiBaseUrl
          ? `Call ${c.urls.apiName ?? 'the API'} in ${c.urls.label} at ${c.urls.apiBaseUrl}.`
          : 'Call the API of the environment that issued it.',
        'If the API still answers 401, send us the correlation id of that response and the time of the call.',
        lifetime,
      ];
  }
}
