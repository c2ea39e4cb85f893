import type { Lang } from '../../common/i18n.js';

/**
 * The shared layout's own words (header, skip link, menu, footer, the title suffix): a Dutch page says
 * them in Dutch too. Staff pages have no language of their own and use English.
 */
export const LAYOUT_TEXT = {
  en: {
    siteName: 'Partner API credentials',
    skipLink: 'Skip to main content',
    deploymentBadge: 'Service:',
    deploymentHint: 'This is not the live service',
    menu: 'Menu',
    navLabel: 'Console',
    menuLabel: 'Console menu',
    correlationId: 'Correlation id:',
    correlationHint: 'Quote it when you contact the Business Journeys team.',
    problem: 'There is a problem',
    errorCode: 'Error code:',
  },
  nl: {
    siteName: 'Partner-API-inloggegevens',
    skipLink: 'Naar de inhoud',
    deploymentBadge: 'Dienst:',
    deploymentHint: 'Dit is niet de echte dienst',
    menu: 'Menu',
    navLabel: 'Console',
    menuLabel: 'Consolemenu',
    correlationId: 'Correlatie-id:',
    correlationHint: 'Noem deze als u contact opneemt met het Business Journeys-team.',
    problem: 'Er is een probleem',
    errorCode: 'Foutcode:',
  },
} as const satisfies Record<Lang, Record<string, string>>;

export type LayoutText = (typeof LAYOUT_TEXT)[Lang];

export function layoutText(lang: unknown): LayoutText {
  return lang === 'nl' ? LAYOUT_TEXT.nl : LAYOUT_TEXT.en;
}
