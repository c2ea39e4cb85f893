import { ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { InvalidInputError } from './domain-error.js';

/** The global DTO validation: unknown fields refused, every failing field named in `details.fields`. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) =>
      new InvalidInputError('request/validation_failed', 'Some fields are missing or not valid.', { fields: fieldMessages(errors) }),
  });
}

function fieldMessages(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out[path] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, fieldMessages(e.children, path));
  }
  return out;
}
