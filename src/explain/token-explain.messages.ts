import { environmentName, type Lang } from '../common/i18n.js';
import type { Environment } from '../generated/prisma/enums.js';
import type { EnvironmentUrls, ExplainReason, TokenFacts } from './token-explain.types.js';

/** A moment as people read it in a support conversation: `2026-12-03 14:05:09 UTC`. */
export function when(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

const UNITS: Record<Lang, [string, string, string, string]> = {
  en: ['seconds', 'minutes', 'hours', 'days'],
  nl: ['seconden', 'minuten', 'uur', 'dagen'],
};

export function duration(seconds: number, lang: Lang = 'en'): string {
  const s = Math.abs(Math.round(seconds));
  const [sec, min, hour, day] = UNITS[lang];
  if (s < 120) return `${s} ${sec}`;
  if (s < 7200) return `${Math.round(s / 60)} ${min}`;
  if (s < 172_800) return `${Math.round(s / 3600)} ${hour}`;
  return `${Math.round(s / 86_400)} ${day}`;
}

/** What a finding is about, kept as facts so that its sentence can be said in either language. */
export type FindingFacts =
  | { code: 'client_secret' | 'malformed' | 'token_revoked' }
  | { code: 'not_signed_by_us'; iss: string | null }
  | { code: 'signature_invalid'; env: Environment; kid: string }
  | { code: 'key_withdrawn'; env: Environment; kid: string; withdrawnAt: Date }
  | { code: 'other_environment'; env: Environment; issuer: string; called: Environment; calledIssuer: string }
  | { code: 'wrong_audience'; apiName: string | null; audience: string | null; expectedApiName: string; expectedAudience: string }
  | { code: 'client_revoked'; clientId: string; revokedAt: Date | null }
  | { code: 'expired'; expiresAt: Date; agoSeconds: number; ttlSeconds: number }
  | { code: 'not_yet_valid'; notBefore: Date; inSeconds: number }
  | { code: 'valid'; apiName: string | null; audience: string | null; env: Environment; expiresAt: Date | null }
  | { code: 'secret_replaced'; clientId: string; issuedAt: Date; replacedAt: Date };

/** The sentence for one finding, in `lang` (the JSON API always answers in English). */
export function findingMessage(f: FindingFacts, lang: Lang = 'en'): string {
  const env = (e: Environment) => environmentName(e, lang);
  const nl = lang === 'nl';
  switch (f.code) {
    case 'client_secret':
      return nl
        ? 'Dit is een client secret, geen access token. Deel het met niemand: we hebben het niet opgezocht, en het wordt niet bewaard of gelogd.'
        : 'This is a client secret, not an access token. Do not share it: we did not look it up, and it is not stored or logged.';
    case 'malformed':
      return nl
        ? 'Dit is geen JWT: een access token van ons bestaat uit drie base64url-delen gescheiden door punten (header.claims.signature), en dit niet.'
        : 'This is not a JWT: an access token from us has three base64url parts separated by dots (header.claims.signature), and this does not.';
    case 'not_signed_by_us': {
      if (nl) {
        const says = f.iss ? `het zegt van ${f.iss} te komen, maar ` : '';
        return `Dit is een JWT, maar niet een die wij hebben ondertekend: ${says}de header noemt geen van onze ondertekensleutels (onze tokens zijn ES256, met een kid uit onze JWKS).`;
      }
      const says = f.iss ? `it says it comes from ${f.iss}, but ` : '';
      return `This is a JWT, but not one we signed: ${says}its header names none of our signing keys (our tokens are ES256, with a kid from our JWKS).`;
    }
    case 'signature_invalid':
      return nl
        ? `Dit token noemt onze ondertekensleutel ${f.kid} van ${env(f.env)}, maar de handtekening past niet bij de inhoud: het is gewijzigd of onvolledig.`
        : `This token names our ${env(f.env)} signing key ${f.kid}, but its signature does not match its contents: it was altered or is incomplete.`;
    case 'key_withdrawn':
      return nl
        ? `Dit token is ondertekend met onze sleutel ${f.kid} van ${env(f.env)}, die we op ${when(f.withdrawnAt)} hebben ingetrokken. Tokens die ermee zijn ondertekend worden niet meer geaccepteerd.`
        : `This token was signed by our ${env(f.env)} key ${f.kid}, which we withdrew on ${when(f.withdrawnAt)}. Tokens it signed are no longer accepted.`;
    case 'other_environment':
      return nl
        ? `Dit token is uitgegeven door de issuer van ${env(f.env)} (${f.issuer}), maar u riep ${env(f.called)} aan, dat alleen tokens van de eigen issuer accepteert (${f.calledIssuer}).`
        : `This token was issued by the ${env(f.env)} issuer (${f.issuer}), but you called ${env(f.called)}, which accepts only tokens of its own issuer (${f.calledIssuer}).`;
    case 'wrong_audience': {
      const none = nl ? '(geen)' : '(none)';
      const what = f.apiName ? `${f.apiName} (aud ${f.audience})` : `audience ${f.audience ?? none}`;
      return nl
        ? `Dit token is voor ${what}, niet voor ${f.expectedApiName} (aud ${f.expectedAudience}).`
        : `This token is for ${what}, not for ${f.expectedApiName} (aud ${f.expectedAudience}).`;
    }
    case 'client_revoked':
      return nl
        ? `De client ${f.clientId} is ingetrokken${f.revokedAt ? ` op ${when(f.revokedAt)}` : ''}; zijn tokens worden niet meer geaccepteerd.`
        : `The client ${f.clientId} was revoked${f.revokedAt ? ` on ${when(f.revokedAt)}` : ''}; its tokens are no longer accepted.`;
    case 'token_revoked':
      return nl
        ? 'Dit token is ingetrokken (via het revocation-endpoint) en wordt niet meer geaccepteerd.'
        : 'This token was revoked (through the revocation endpoint) and is no longer accepted.';
    case 'expired':
      return nl
        ? `Dit token is verlopen om ${when(f.expiresAt)}, ${duration(f.agoSeconds, lang)} geleden. Onze tokens zijn ${duration(f.ttlSeconds, lang)} geldig.`
        : `This token expired at ${when(f.expiresAt)}, ${duration(f.agoSeconds)} ago. Our tokens live ${duration(f.ttlSeconds)}.`;
    case 'not_yet_valid':
      return nl
        ? `Dit token is pas geldig vanaf ${when(f.notBefore)} (over ${duration(f.inSeconds, lang)}).`
        : `This token is not valid before ${when(f.notBefore)} (${duration(f.inSeconds)} from now).`;
    case 'valid': {
      const what = f.apiName ?? `audience ${f.audience}`;
      return nl
        ? `Dit token is in orde voor ${what} in ${env(f.env)}, tot ${f.expiresAt ? when(f.expiresAt) : 'het wordt ingetrokken'}.`
        : `This token is fine for ${what} in ${env(f.env)} until ${f.expiresAt ? when(f.expiresAt) : 'it is revoked'}.`;
    }
    case 'secret_replaced':
      return nl
        ? `Elk client_secret dat ${f.clientId} had toen dit token werd uitgegeven (${when(f.issuedAt)}) is inmiddels vervangen; de rotatie was klaar op ${when(f.replacedAt)}. Een token onthoudt niet met welk secret het is opgehaald, dus het token zelf blijft werken, maar voor nieuwe tokens is het nieuwe client_secret nodig (het oude wordt geweigerd met invalid_client).`
        : `Every client_secret ${f.clientId} had when this token was issued (${when(f.issuedAt)}) has since been replaced; the rotation completed on ${when(f.replacedAt)}. A token does not record which secret fetched it, so the token itself is unaffected, but new tokens need the new client_secret (the old one is refused with invalid_client).`;
  }
}

export interface StepContext {
  token: TokenFacts | null;
  urls: EnvironmentUrls | null;
  ttlSeconds: number;
  /** Token endpoints of both environments, for answers that cannot tell which one is meant. */
  tokenEndpoints: Array<{ environment: Environment; url: string }>;
}

/** What to do next, for the reason that decides the answer. */
export function nextSteps(reason: ExplainReason, c: StepContext, lang: Lang = 'en'): string[] {
  return lang === 'nl' ? nextStepsNl(reason, c) : nextStepsEn(reason, c);
}

function nextStepsEn(reason: ExplainReason, c: StepContext): string[] {
  const label = c.urls ? environmentName(c.urls.environment, 'en') : '';
  const endpoints = c.tokenEndpoints.map((e) => `${environmentName(e.environment, 'en')} ${e.url}`).join(', ');
  const fetchNew = c.urls
    ? `Get a new token from ${c.urls.tokenEndpoint} (grant_type=client_credentials with your ${label} client_id and client_secret).`
    : `Get a new token from the token endpoint of the environment you call: ${endpoints}.`;
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
          ? `Use a ${label} token: get it from ${c.urls.tokenEndpoint} (issuer ${c.urls.issuer}) with your ${label} client_id (it starts with ${c.urls.environment === 'production' ? 'prd_' : 'acc_'}).`
          : fetchNew,
        'Acceptance and Production have separate credentials, issuers and tokens; a token is accepted only in the environment that issued it.',
      ];
    case 'wrong_audience':
      return [
        'A token is for one API: its aud names that API. Use the client_id issued for the API you call (one credential per API and environment).',
        c.urls?.apiName ? `For ${c.urls.apiName} in ${label}, get the token from ${c.urls.tokenEndpoint}.` : fetchNew,
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
        c.urls?.apiBaseUrl ? `Call ${c.urls.apiName ?? 'the API'} in ${label} at ${c.urls.apiBaseUrl}.` : 'Call the API of the environment that issued it.',
        'If the API still answers 401, send us the correlation id of that response and the time of the call.',
        lifetime,
      ];
  }
}

function nextStepsNl(reason: ExplainReason, c: StepContext): string[] {
  const label = c.urls ? environmentName(c.urls.environment, 'nl') : '';
  const endpoints = c.tokenEndpoints.map((e) => `${environmentName(e.environment, 'nl')} ${e.url}`).join(', ');
  const fetchNew = c.urls
    ? `Haal een nieuw token op bij ${c.urls.tokenEndpoint} (grant_type=client_credentials met uw client_id en client_secret voor ${label}).`
    : `Haal een nieuw token op bij het token-endpoint van de omgeving die u aanroept: ${endpoints}.`;
  const lifetime = `Tokens zijn ${duration(c.ttlSeconds, 'nl')} geldig: gebruik er een tot kort voordat expires_in afloopt, en haal dan het volgende op.`;
  switch (reason) {
    case 'client_secret':
      return [
        'Deel een client secret met niemand, ook niet met ons; wij vragen er nooit om.',
        'Is het ergens geplakt waar anderen het kunnen lezen (een ticket, een chat, een openbare repository), vraag dan een nieuw secret aan via /rotate, of neem contact met ons op om het meteen in te trekken.',
        'Plak in plaats daarvan het access_token dat het token-endpoint u gaf: drie delen gescheiden door punten, beginnend met eyJ.',
      ];
    case 'malformed':
      return [
        'Plak alleen de waarde van access_token uit het JSON-antwoord van het token-endpoint: drie base64url-delen gescheiden door punten, beginnend met eyJ.',
        'Stuur het als de header Authorization: Bearer <access_token>, met precies één spatie na Bearer en verder niets eromheen.',
        fetchNew,
      ];
    case 'not_signed_by_us':
      return ['Tokens voor onze API’s komen alleen van onze token-endpoints; een token van een andere aanbieder of een testtool wordt geweigerd.', fetchNew];
    case 'signature_invalid':
      return [
        'Het token is gewijzigd nadat wij het uitgaven, of er is maar een deel van gekopieerd. Wijzig een token nooit; kopieer het in zijn geheel.',
        fetchNew,
      ];
    case 'key_withdrawn':
      return [
        'Tokens die zijn ondertekend met een ingetrokken sleutel worden overal geweigerd, ook voordat ze verlopen.',
        fetchNew,
        'Bewaart uw API-client onze JWKS, laat hem de sleutelset dan opnieuw laden.',
      ];
    case 'other_environment':
      return [
        c.urls
          ? `Gebruik een token van ${label}: haal het op bij ${c.urls.tokenEndpoint} (issuer ${c.urls.issuer}) met uw client_id voor ${label} (die begint met ${c.urls.environment === 'production' ? 'prd_' : 'acc_'}).`
          : fetchNew,
        'Acceptatie en Productie hebben elk eigen inloggegevens, issuers en tokens; een token wordt alleen geaccepteerd in de omgeving die het uitgaf.',
      ];
    case 'wrong_audience':
      return [
        'Een token is voor één API: de aud noemt die API. Gebruik de client_id die is uitgegeven voor de API die u aanroept (één set inloggegevens per API en omgeving).',
        c.urls?.apiName ? `Voor ${c.urls.apiName} in ${label} haalt u het token op bij ${c.urls.tokenEndpoint}.` : fetchNew,
      ];
    case 'client_revoked':
      return [
        'De client achter dit token werkt niet meer, en er kan geen nieuw token meer mee worden opgehaald.',
        'Neem contact op met het Business Journeys-team (dev-business@coolblue.nl) voor nieuwe inloggegevens.',
      ];
    case 'token_revoked':
      return ['Dit token is ingetrokken via het revocation-endpoint, door de client die het heeft.', fetchNew];
    case 'expired':
      return [fetchNew, lifetime];
    case 'not_yet_valid':
      return [
        'Wacht tot de genoemde tijd, of controleer of de klok van uw server goed staat (NTP): een klok die achterloopt ziet nieuwe tokens als nog niet geldig.',
        fetchNew,
      ];
    case 'valid':
      return [
        'Stuur het als de header Authorization: Bearer <access_token>.',
        c.urls?.apiBaseUrl ? `Roep ${c.urls.apiName ?? 'de API'} in ${label} aan op ${c.urls.apiBaseUrl}.` : 'Roep de API aan van de omgeving die het uitgaf.',
        'Antwoordt de API nog steeds met 401, stuur ons dan de correlatie-id van dat antwoord en het tijdstip van de aanroep.',
        lifetime,
      ];
  }
}
