import { ValidationPipe } from '@nestjs/common';
import type { ValidationError, ValidatorOptions } from 'class-validator';
import { InvalidInputError } from './domain-error.js';

/** What the JSON API and the page forms (common/form.ts) both validate with: unknown fields refused, every failing field named. */
export const VALIDATION_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: false } as const satisfies ValidatorOptions;

/** The global DTO validation: every failing field named in `details.fields`. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATION_OPTIONS,
    transform: true,
    exceptionFactory: (errors) =>
      new InvalidInputError('request/validation_failed', 'Some fields are missing or not valid.', { fields: fieldMessages(errors) }),
  });
}

/** Validation errors by property path (`contact.mobile`, `items.0.api`), every message of each. */
export function fieldMessages(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out[path] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, fieldMessages(e.children, path));
  }
  return out;
}
