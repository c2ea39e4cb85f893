import { ENVIRONMENT_LABELS, type Lang } from '../../common/i18n.js';

/** The public environments page: what each environment is and where each API lives in it. */
export const ENVIRONMENTS_TEXT = {
  en: {
    env: ENVIRONMENT_LABELS.en,
    switchLabel: 'Language',
    otherLangName: 'Nederlands',
    otherLang: 'nl',
    title: 'Environments',
    intro: 'Every API has two environments, each with its own credentials: a client_id for one environment does not work in the other.',
    acceptanceTitle: 'Acceptance',
    acceptanceBody:
      'For building and testing. Acceptance processes no orders and sends no emails or SMS: nothing you do there reaches real people or real money. Its data may be reset.',
    productionTitle: 'Production',
    productionBody: 'The live service, with real orders and real messages. Production access is approved separately, after you have worked with Acceptance.',
    baseUrl: 'API base URL',
    audience: 'Audience (send as resource)',
    issuer: 'Issuer',
    tokenEndpoint: 'Token endpoint',
    metadata: 'Issuer metadata',
    jwks: 'JWKS',
    docs: 'Documentation',
    apply: 'Request API access',
  },
  nl: {
    env: ENVIRONMENT_LABELS.nl,
    switchLabel: 'Taal',
    otherLangName: 'English',
    otherLang: 'en',
    title: 'Omgevingen',
    intro: 'Elke API heeft twee omgevingen, elk met eigen inloggegevens: een client_id voor de ene omgeving werkt niet in de andere.',
    acceptanceTitle: 'Acceptatie',
    acceptanceBody:
      "Om te bouwen en te testen. Acceptatie verwerkt geen bestellingen en verstuurt geen e-mails of sms'jes: niets wat u daar doet bereikt echte mensen of echt geld. De gegevens kunnen worden gewist.",
    productionTitle: 'Productie',
    productionBody:
      'De echte dienst, met echte bestellingen en echte berichten. Toegang tot Productie wordt apart goedgekeurd, nadat u met Acceptatie hebt gewerkt.',
    baseUrl: 'Basis-URL van de API',
    audience: 'Audience (meesturen als resource)',
    issuer: 'Issuer',
    tokenEndpoint: 'Token-endpoint',
    metadata: 'Issuer-metadata',
    jwks: 'JWKS',
    docs: 'Documentatie',
    apply: 'API-toegang aanvragen',
  },
} as const satisfies Record<Lang, unknown>;
