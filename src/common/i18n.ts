/** The two languages partners read pages, emails and SMS in. */
export type Lang = 'en' | 'nl';
export const LANGS: readonly Lang[] = ['en', 'nl'];

export function isLang(value: unknown): value is Lang {
  return value === 'en' || value === 'nl';
}

/** `value` when it names a language, else the fallback (query strings and form fields arrive untyped). */
export function langOr(value: unknown, fallback: Lang = 'en'): Lang {
  const v: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return isLang(v) ? v : fallback;
}

/**
 * The language of a page that cannot yet know whose it is (the delivery link's token is in the URL fragment,
 * which the server never sees): `?lang=` when given, else the browser's first preference of the two.
 */
export function pageLang(query: unknown, acceptLanguage: string | undefined): Lang {
  const asked = (query as Record<string, unknown> | undefined)?.lang;
  if (isLang(asked)) return asked;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (isLang(tag)) return tag;
  }
  return 'en';
}

/**
 * The one vocabulary for environments: pages, emails, SMS and the .env comment all use these words, so a
 * partner never reads "Acceptance" on a page and "Acceptatie" in the email about it in the same language.
 */
export const ENVIRONMENT_LABELS = {
  en: { acceptance: 'Acceptance', production: 'Production' },
  nl: { acceptance: 'Acceptatie', production: 'Productie' },
} as const satisfies Record<Lang, Record<'acceptance' | 'production', string>>;

export function environmentName(environment: string, lang: Lang = 'en'): string {
  return environment === 'acceptance' || environment === 'production' ? ENVIRONMENT_LABELS[lang][environment] : environment;
}

/** Times for people, always in UTC so the partner and the service speak of the same moment. */
export function formatTimeIn(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A date for people ("3 December 2026" / "3 december 2026"), in the service's home time zone. */
export function formatDateIn(d: Date, lang: Lang = 'en'): string {
  return d.toLocaleDateString(lang === 'nl' ? 'nl-NL' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Amsterdam' });
}
