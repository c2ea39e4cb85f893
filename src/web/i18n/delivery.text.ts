import { ENVIRONMENT_LABELS, type Lang } from '../../common/i18n.js';

type Vars = Record<string, string | number>;
const fill = (text: string, vars: Vars) => text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));

/** The secret delivery pages (start, details, secret), in the technical contact's language. */
export const DELIVERY_TEXT = {
  en: {
    env: ENVIRONMENT_LABELS.en,
    switchLabel: 'Language',
    otherLangName: 'Nederlands',
    otherLang: 'nl',
    problem: 'There is a problem',
    startTitle: 'Retrieve your API credentials',
    startIntro:
      'You received an email with a one-time link. Opening it brings you here. You will also need your mobile phone: we send a code to it by text message.',
    linkLabel: 'The link from the email',
    linkHint: 'Paste the whole link. Nothing is used up by opening it.',
    continue: 'Continue',
    detailsTitle: '{api} ({env}) credentials',
    detailsHeading: '{api} credentials',
    partner: 'Partner',
    api: 'API',
    environment: 'Environment',
    clientId: 'Client ID',
    mobile: 'Mobile number',
    linkValidUntil: 'Link valid until',
    replacementNotice: 'This is a new secret that replaces your current one. Your current secret keeps working for a while after you retrieve this one.',
    alreadyTitle: 'Already retrieved',
    alreadyBody: 'This secret was already retrieved on {time}. It is shown only once. If that was not you, contact your Business Journeys contact right away.',
    expiredTitle: 'This link has expired',
    expiredBody: 'Ask your Business Journeys contact to send a new one.',
    lockedTitle: 'This link is locked',
    lockedBody: 'Too many wrong codes were entered. Business Journeys has been told and will send you a new secret.',
    cancelledTitle: 'This link is no longer valid',
    cancelledBody: 'A newer link was sent to you. Use the most recent email.',
    enterCode: 'Enter the code',
    codeLabel: 'The 8-digit code from the text message to {mobile}',
    codeValid: 'Valid until {time}. The secret is shown once, on the next page.',
    showSecret: 'Show the secret',
    noCode: 'No code received?',
    getCode: 'Get a code',
    codeIntro: 'We send a one-time code by text message to',
    nextCodeAfter: 'You can ask for another code after {time}.',
    codesLeft: '{n} codes left for this link.',
    codesLeftOne: '1 code left for this link.',
    sendNewCode: 'Send me a new code',
    sendCode: 'Send me the code',
    noMoreCodes: 'No more codes can be sent for this link. Contact your Business Journeys contact for a new one.',
    codeSent: 'We sent a code to {mobile}. It is valid until {time}.',
    secretTitle: 'Your API credentials',
    secretHeading: 'Your {api} credentials',
    replacementHeading: 'Your new {api} secret',
    copyNow: 'Copy the secret now: this page shows it only once.',
    copyNowMore: 'Reloading or opening the link again will not show it. Store it in your secret store, not in email or chat.',
    replacesUntil: 'This secret replaces your current one. The old secret keeps working until {time}; switch before then. After that only this secret works.',
    replacesNow: 'This secret replaces your current one, which no longer works.',
    clientSecret: 'Client secret',
    issuer: 'Issuer',
    tokenEndpoint: 'Token endpoint',
    baseUrl: 'API base URL',
    copy: 'Copy',
    copied: 'Copied',
    download: 'Download as .env file',
    envFileSummary: 'Show as a .env file',
    nextHeading: 'Next steps for your developer',
    nextIntro:
      'Request an access token with the client credentials grant. Put the secret in the variable CLIENT_SECRET (the .env file above does that); this example does not contain it.',
    tokenRequest: 'Token request',
    scope: 'Scope',
    audience: 'Audience (send as resource)',
    tokenLifetime: 'Token lifetime',
    minutes: '{n} minutes; request a new token when it expires',
    metadata: 'Issuer metadata',
    jwks: 'JWKS (public keys to verify tokens)',
    docs: 'API documentation',
    environments: 'All environments and their addresses',
    retrievedOn: 'Retrieved on {time}. We emailed the technical contact a notice of this retrieval.',
    heldHeading: 'No code can be sent right now',
    heldBody:
      'For your security no code was sent: the SIM card of this mobile number was changed recently. Contact your Business Journeys contact; once they have confirmed it is you, you can ask for a code here again.',
    explainBefore: 'An API call answered 401 later on?',
    explainLink: 'Find out why the access token was refused',
    explainAfter: '(paste the token, never this secret).',
  },
  nl: {
    env: ENVIRONMENT_LABELS.nl,
    switchLabel: 'Taal',
    otherLangName: 'English',
    otherLang: 'en',
    problem: 'Er is een probleem',
    startTitle: 'Haal uw API-inloggegevens op',
    startIntro:
      'U hebt een e-mail ontvangen met een eenmalige link. Die brengt u hier. U hebt ook uw mobiele telefoon nodig: we sturen er een code naartoe per sms.',
    linkLabel: 'De link uit de e-mail',
    linkHint: 'Plak de hele link. Openen verbruikt niets.',
    continue: 'Verder',
    detailsTitle: 'Inloggegevens {api} ({env})',
    detailsHeading: 'Inloggegevens {api}',
    partner: 'Partner',
    api: 'API',
    environment: 'Omgeving',
    clientId: 'Client ID',
    mobile: 'Mobiel nummer',
    linkValidUntil: 'Link geldig tot',
    replacementNotice: 'Dit is een nieuw secret dat uw huidige vervangt. Uw huidige secret blijft nog een tijd werken nadat u dit hebt opgehaald.',
    alreadyTitle: 'Al opgehaald',
    alreadyBody:
      'Dit secret is al opgehaald op {time}. Het wordt maar één keer getoond. Was u dat niet, neem dan direct contact op met uw contactpersoon bij Business Journeys.',
    expiredTitle: 'Deze link is verlopen',
    expiredBody: 'Vraag uw contactpersoon bij Business Journeys om een nieuwe.',
    lockedTitle: 'Deze link is geblokkeerd',
    lockedBody: 'Er zijn te veel verkeerde codes ingevoerd. Business Journeys is op de hoogte en stuurt u een nieuw secret.',
    cancelledTitle: 'Deze link is niet meer geldig',
    cancelledBody: 'Er is een nieuwere link naar u gestuurd. Gebruik de meest recente e-mail.',
    enterCode: 'Voer de code in',
    codeLabel: 'De code van 8 cijfers uit de sms naar {mobile}',
    codeValid: 'Geldig tot {time}. Het secret wordt één keer getoond, op de volgende pagina.',
    showSecret: 'Toon het secret',
    noCode: 'Geen code ontvangen?',
    getCode: 'Vraag een code aan',
    codeIntro: 'We sturen een eenmalige code per sms naar',
    nextCodeAfter: 'U kunt na {time} een nieuwe code aanvragen.',
    codesLeft: 'Nog {n} codes voor deze link.',
    codesLeftOne: 'Nog 1 code voor deze link.',
    sendNewCode: 'Stuur mij een nieuwe code',
    sendCode: 'Stuur mij de code',
    noMoreCodes: 'Voor deze link kunnen geen codes meer worden gestuurd. Vraag uw contactpersoon bij Business Journeys om een nieuwe.',
    codeSent: 'We hebben een code gestuurd naar {mobile}. Die is geldig tot {time}.',
    secretTitle: 'Uw API-inloggegevens',
    secretHeading: 'Uw inloggegevens voor {api}',
    replacementHeading: 'Uw nieuwe secret voor {api}',
    copyNow: 'Kopieer het secret nu: deze pagina toont het maar één keer.',
    copyNowMore: 'Herladen of de link opnieuw openen toont het niet meer. Bewaar het in uw secret store, niet in e-mail of chat.',
    replacesUntil: 'Dit secret vervangt uw huidige. Het oude secret blijft werken tot {time}; stap voor dat moment over. Daarna werkt alleen dit secret.',
    replacesNow: 'Dit secret vervangt uw huidige, dat niet meer werkt.',
    clientSecret: 'Client secret',
    issuer: 'Issuer',
    tokenEndpoint: 'Token-endpoint',
    baseUrl: 'Basis-URL van de API',
    copy: 'Kopieer',
    copied: 'Gekopieerd',
    download: 'Download als .env-bestand',
    envFileSummary: 'Toon als .env-bestand',
    nextHeading: 'Volgende stappen voor uw ontwikkelaar',
    nextIntro:
      'Vraag een access token aan met de client credentials grant. Zet het secret in de variabele CLIENT_SECRET (het .env-bestand hierboven doet dat); dit voorbeeld bevat het niet.',
    tokenRequest: 'Tokenaanvraag',
    scope: 'Scope',
    audience: 'Audience (meesturen als resource)',
    tokenLifetime: 'Geldigheid van een token',
    minutes: '{n} minuten; vraag daarna een nieuw token aan',
    metadata: 'Issuer-metadata',
    jwks: 'JWKS (publieke sleutels om tokens te controleren)',
    docs: 'API-documentatie',
    environments: 'Alle omgevingen en hun adressen',
    retrievedOn: 'Opgehaald op {time}. We hebben de technisch contactpersoon hiervan per e-mail op de hoogte gebracht.',
    heldHeading: 'Er kan nu geen code worden gestuurd',
    heldBody:
      'Voor uw veiligheid is er geen code gestuurd: de simkaart van dit mobiele nummer is kort geleden vervangen. Neem contact op met uw contactpersoon bij Business Journeys; zodra die heeft bevestigd dat u het bent, kunt u hier weer een code aanvragen.',
    explainBefore: 'Geeft een API-aanroep later een 401?',
    explainLink: 'Zoek uit waarom het access token werd geweigerd (pagina in het Engels)',
    explainAfter: '(plak het token, nooit dit secret).',
  },
} as const satisfies Record<Lang, unknown>;

/**
 * Delivery's refusals are written in English by the service (the JSON API answers with them); the Dutch pages
 * show them by code. `details` carries what a message names (attempts left, a time).
 */
export const DELIVERY_ERRORS_NL: Record<string, string> = {
  'delivery/not_found': 'Deze link is niet geldig. Controleer of u de hele link uit de e-mail hebt gekopieerd.',
  'delivery/invalid_link': 'Deze link is niet geldig. Controleer of u de hele link uit de e-mail hebt gekopieerd.',
  'delivery/already_revealed': 'Dit secret is al opgehaald. Het wordt maar één keer getoond.',
  'delivery/expired': 'Deze link is verlopen. Vraag uw contactpersoon bij Business Journeys om een nieuwe.',
  'delivery/cancelled': 'Deze link is niet meer geldig: er is een nieuwere gestuurd.',
  'delivery/locked': 'Deze link is geblokkeerd na te veel verkeerde codes. Business Journeys is op de hoogte en stuurt u een nieuwe.',
  'delivery/no_codes_left': 'Er kunnen geen codes meer worden gestuurd. Gebruik de laatste code die u ontving, of wacht op een nieuwe link.',
  'delivery/code_resend_too_soon': 'Er is net een code gestuurd. Even wachten voordat u een nieuwe aanvraagt.',
  'delivery/too_many_code_requests': 'Er zijn te veel codes aangevraagd vanaf uw netwerk. Probeer het later opnieuw.',
  'delivery/code_expired': 'Deze code is niet meer geldig. Vraag een nieuwe code aan.',
  'delivery/code_voided': 'Deze code is te vaak verkeerd ingevoerd en werkt niet meer. Vraag een nieuwe code aan.',
  'delivery/wrong_code': 'Deze code klopt niet. U kunt het nog {attemptsLeft} keer proberen met deze code.',
  'delivery/invalid_code': 'Vul de code van 8 cijfers uit de sms in.',
  'delivery/too_many_attempts': 'Te veel verkeerde codes vanaf uw netwerk. Probeer het later opnieuw.',
  'delivery/sim_swap_held':
    'Voor uw veiligheid is er geen code gestuurd: de simkaart van dit mobiele nummer is kort geleden vervangen. Neem contact op met uw contactpersoon bij Business Journeys; zodra die heeft bevestigd dat u het bent, kunt u hier weer een code aanvragen.',
  'delivery/number_not_mobile':
    'Er is geen code gestuurd: het mobiele nummer dat wij van u hebben is geen lijn die codes betrouwbaar ontvangt ({lineType}). Neem contact op met uw contactpersoon bij Business Journeys om uw nummer te bevestigen.',
  'delivery/number_check_unavailable':
    'We konden uw mobiele nummer nu niet controleren, dus er is geen code gestuurd. Probeer het over een paar minuten opnieuw.',
  'delivery/not_revealed': 'Het secret kon niet worden opgehaald. Herlaad de pagina en probeer het opnieuw.',
};

type TextKey = Exclude<keyof (typeof DELIVERY_TEXT)['en'], 'env'>;

export function deliveryText(lang: Lang) {
  const t = DELIVERY_TEXT[lang];
  return { ...t, fmt: (key: TextKey, vars: Vars) => fill(t[key], vars) };
}

/** A refusal in the page's language: English as the service wrote it, Dutch by its code. */
export function deliveryErrorText(lang: Lang, code: string, message: string, details?: Record<string, unknown>): string {
  if (lang === 'en') return message;
  const nl = DELIVERY_ERRORS_NL[code];
  return nl ? fill(nl, Object.fromEntries(Object.entries(details ?? {}).map(([k, v]) => [k, String(v)]))) : message;
}
