import { isISO31661Alpha2 } from 'class-validator';
import { getCountries } from 'libphonenumber-js/max';
import { fieldErrorsOf, formText, validateForm, type FieldErrors } from '../common/form.js';
import type { DomainError } from '../common/domain-error.js';
import type { Environment, Language } from '../generated/prisma/enums.js';
import { nationalToE164 } from '../partners/partner.validation.js';
import { CreateOnboardingRequestDto } from './onboarding.dto.js';
import type { CatalogueEntry, SubmitInput } from './onboarding.types.js';

/** The intake form's fields, in page order (the error summary follows it). */
export const INTAKE_FIELDS = [
  'legalName',
  'registrationNumber',
  'country',
  'businessRepresentative',
  'contactName',
  'contactEmail',
  'contactMobile',
  'language',
  'items',
  'purpose',
] as const;
export type IntakeField = (typeof INTAKE_FIELDS)[number];

export type IntakeValues = Record<Exclude<IntakeField, 'items'>, string> & { items: string[] };

const DTO_PATH_TO_FIELD: Record<string, IntakeField> = {
  'partner.legalName': 'legalName',
  'partner.registrationNumber': 'registrationNumber',
  'partner.country': 'country',
  'partner.businessRepresentative': 'businessRepresentative',
  'contact.name': 'contactName',
  'contact.email': 'contactEmail',
  'contact.mobile': 'contactMobile',
  language: 'language',
  purpose: 'purpose',
  items: 'items',
};

const MAX_FIELD = 5000;

/** The form also reads national numbers, so its format message names both ways of writing one. */
export const FORM_MOBILE_FORMAT = 'Enter a mobile phone number, like 06 12345678, or in international format, like +31 6 12345678';

/** Reads a urlencoded form body into strings only; anything else (objects, arrays where a string belongs) becomes ''. */
export function readIntakeForm(body: unknown): IntakeValues {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const str = (k: string) => formText(b, k, MAX_FIELD + 1);
  const rawItems = Array.isArray(b.items) ? b.items : typeof b.items === 'string' ? [b.items] : [];
  return {
    legalName: str('legalName'),
    registrationNumber: str('registrationNumber'),
    country: str('country'),
    businessRepresentative: str('businessRepresentative'),
    contactName: str('contactName'),
    contactEmail: str('contactEmail'),
    contactMobile: str('contactMobile'),
    language: str('language'),
    purpose: str('purpose'),
    items: rawItems.filter((i): i is string => typeof i === 'string').slice(0, 50),
  };
}

/** Validates with the same DTO as the JSON API, and maps its messages onto the form's fields. */
export async function validateIntake(
  values: IntakeValues,
  catalogue: CatalogueEntry[],
): Promise<{ input?: SubmitInput; errors: Partial<Record<IntakeField, string>> }> {
  const items = values.items.map((v) => {
    const [api, environment] = v.split(':');
    return { api: api ?? '', environment: (environment ?? '') as Environment };
  });
  const plain = {
    partner: {
      legalName: values.legalName,
      registrationNumber: values.registrationNumber,
      country: values.country,
      ...(values.businessRepresentative.trim() ? { businessRepresentative: values.businessRepresentative } : {}),
    },
    // People type their mobile number the national way; it is read in the form's country and kept as E.164.
    contact: {
      name: values.contactName,
      email: values.contactEmail,
      mobile: nationalToE164(values.contactMobile, values.country || 'NL') ?? values.contactMobile,
    },
    language: values.language,
    purpose: values.purpose,
    items,
  };
  const form = await validateForm(CreateOnboardingRequestDto, plain, { fieldIds: intakeFieldOf });
  const errors: Partial<Record<IntakeField, string>> = form.ok ? {} : { ...form.errors };
  if (errors.contactMobile?.startsWith('Enter the mobile number in international format')) errors.contactMobile = FORM_MOBILE_FORMAT;
  if (!errors.items && items.some((i) => !catalogue.some((c) => c.apiKey === i.api && c.environment === i.environment))) {
    errors.items = 'Choose APIs and environments from the list';
  }
  if (!items.length) errors.items = 'Choose at least one API and environment';
  if (!form.ok || Object.keys(errors).length) return { errors: ordered(errors) };
  const dto = form.value;
  return {
    errors: {},
    input: {
      partner: {
        legalName: dto.partner.legalName,
        registrationNumber: dto.partner.registrationNumber,
        country: dto.partner.country,
        businessRepresentative: dto.partner.businessRepresentative ?? null,
      },
      contact: { name: dto.contact.name, email: dto.contact.email, mobile: dto.contact.mobile },
      language: dto.language,
      purpose: dto.purpose,
      items: dto.items.map((i) => ({ api: i.api, environment: i.environment })),
    },
  };
}

/** Service-side field errors (e.g. `onboarding/unknown_api`) onto the form. */
export function fieldErrorsFrom(err: DomainError): FieldErrors {
  return fieldErrorsOf(err, { fieldIds: intakeFieldOf });
}

function intakeFieldOf(path: string): IntakeField | undefined {
  return DTO_PATH_TO_FIELD[path] ?? (path.startsWith('items') ? 'items' : undefined);
}

function ordered(errors: Partial<Record<IntakeField, string>>): Partial<Record<IntakeField, string>> {
  return Object.fromEntries(INTAKE_FIELDS.filter((f) => errors[f]).map((f) => [f, errors[f]]));
}

/** API catalogue grouped for checkboxes: one fieldset per API, one box per environment. */
export function catalogueGroups(catalogue: CatalogueEntry[]) {
  const groups = new Map<string, { apiKey: string; apiName: string; options: Array<{ value: string; environment: Environment; id: string }> }>();
  for (const c of catalogue) {
    const g = groups.get(c.apiKey) ?? { apiKey: c.apiKey, apiName: c.apiName, options: [] };
    g.options.push({ value: `${c.apiKey}:${c.environment}`, environment: c.environment, id: `item-${c.apiKey}-${c.environment}` });
    groups.set(c.apiKey, g);
  }
  return [...groups.values()];
}

const countryCache = new Map<Language, Array<{ code: string; name: string }>>();
/** ISO 3166-1 alpha-2 countries named in the page's language, sorted by name. */
export function countryOptions(lang: Language = 'en'): Array<{ code: string; name: string }> {
  let list = countryCache.get(lang);
  if (!list) {
    const names = new Intl.DisplayNames([lang], { type: 'region' });
    list = getCountries()
      .filter((c) => isISO31661Alpha2(c))
      .map((code) => ({ code, name: names.of(code) ?? code }))
      .sort((a, b) => a.name.localeCompare(b.name, lang));
    countryCache.set(lang, list);
  }
  return list;
}

/** An empty form; the contact's language starts as the language the page is read in. */
export function emptyIntake(language: Language = 'nl'): IntakeValues {
  return {
    legalName: '',
    registrationNumber: '',
    country: 'NL',
    businessRepresentative: '',
    contactName: '',
    contactEmail: '',
    contactMobile: '',
    language,
    purpose: '',
    items: [],
  };
}
