import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { getMetadataStorage, validate, ValidationTypes, type ValidationError } from 'class-validator';
import { DomainError, InvalidInputError } from './domain-error.js';
import { VALIDATION_OPTIONS, fieldMessages } from './validation.js';

/** Form field id -> the message the GOV.UK error summary links to it. */
export type FieldErrors = Record<string, string>;

export type FormResult<T> = { ok: true; value: T; errors?: undefined } | { ok: false; value?: undefined; errors: FieldErrors };

export interface FormOptions {
  /** Fields the page adds that are not the DTO's (its language, a honeypot, a signed time ...); dropped unread. */
  pageFields?: readonly string[];
  /** DTO property path (`contact.email`, `items.0.api`) -> the form field's id; a path without one keeps its name. */
  fieldIds?: (path: string) => string | undefined;
  /** The message in the page's language (messages are written once, in English, on the DTO). */
  translate?: (message: string) => string;
}

/** Every form carries these; they are checked (CSRF) or read (language) elsewhere. */
const ALWAYS_PAGE_FIELDS = ['_csrf'];

/**
 * Reads a urlencoded form body into the DTO the JSON API validates, with the same options as the global
 * ValidationPipe. A field the person can correct comes back as a message for the error summary; a field no page
 * of ours sends (a hand-made or hostile form) is refused like in the JSON API: 400 `request/validation_failed`.
 * A blank optional field is an unanswered question, not an empty answer: it is left out.
 */
export async function readForm<T extends object>(dto: ClassConstructor<T>, body: unknown, options: FormOptions = {}): Promise<FormResult<T>> {
  const plain: Record<string, unknown> = {};
  const skip = new Set([...ALWAYS_PAGE_FIELDS, ...(options.pageFields ?? [])]);
  const optional = optionalProperties(dto);
  for (const [key, value] of Object.entries(formObject(body))) {
    if (skip.has(key) || (value === '' && optional.has(key))) continue;
    plain[key] = value;
  }
  return validateForm(dto, plain, options);
}

/** Like `readForm` for a plain object the page has already shaped (a flat form read into a nested DTO). */
export async function validateForm<T extends object>(dto: ClassConstructor<T>, plain: object, options: FormOptions = {}): Promise<FormResult<T>> {
  const value = plainToInstance(dto, plain);
  const problems = await validate(value, VALIDATION_OPTIONS);
  if (!problems.length) return { ok: true, value };
  const unknown = unknownFields(problems);
  if (unknown.length)
    throw new InvalidInputError('request/validation_failed', 'Some fields are missing or not valid.', { fields: pick(fieldMessages(problems), unknown) });
  return { ok: false, errors: toFieldErrors(fieldMessages(problems), options) };
}

/** A service's refusal naming fields (`details.fields`), as messages for the same form. */
export function fieldErrorsOf(err: DomainError, options: FormOptions & { fallback?: string } = {}): FieldErrors {
  const fields = (err.details?.fields ?? {}) as Record<string, string[] | string>;
  const out = toFieldErrors(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Array.isArray(v) ? v : [String(v)]])), options);
  if (!Object.keys(out).length && options.fallback) out[options.fallback] = options.translate ? options.translate(err.message) : err.message;
  return out;
}

/** One text field of a form or query string, for showing back on the page: '' unless it is a single string. */
export function formText(source: unknown, name: string, max = 500): string {
  const v = formObject(source)[name];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
}

function formObject(source: unknown): Record<string, unknown> {
  return source && typeof source === 'object' && !Array.isArray(source) ? (source as Record<string, unknown>) : {};
}

function toFieldErrors(messages: Record<string, string[]>, options: FormOptions): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, list] of Object.entries(messages)) {
    const id = options.fieldIds ? options.fieldIds(path) : path;
    // class-validator lists a property's failures from its last decorator up: the rule written first comes last.
    const first = list.at(-1);
    if (!id || out[id] || !first) continue;
    out[id] = options.translate ? options.translate(first) : first;
  }
  return out;
}

function unknownFields(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints?.[ValidationTypes.WHITELIST] ? [path] : [];
    return [...own, ...unknownFields(e.children ?? [], path)];
  });
}

function pick(messages: Record<string, string[]>, paths: string[]): Record<string, string[]> {
  return Object.fromEntries(paths.map((p) => [p, messages[p] ?? []]));
}

const optionalCache = new Map<ClassConstructor<object>, Set<string>>();
function optionalProperties(dto: ClassConstructor<object>): Set<string> {
  let props = optionalCache.get(dto);
  if (!props) {
    const metas = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
    props = new Set(metas.filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION).map((m) => m.propertyName));
    optionalCache.set(dto, props);
  }
  return props;
}
