import { InvalidInputError } from './domain-error.js';

// class-transformer recurses without a limit and trips over nested `constructor` keys; validator's isEmail
// throws on lone surrogates; PostgreSQL refuses NUL in text. Such input is refused before any DTO or query sees
// it (a 400, not a 500).
const MAX_BODY_DEPTH = 32;
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const MALFORMED_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function inputShapeError(input: unknown): InvalidInputError | undefined {
  const stack: Array<[unknown, number]> = [[input, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string' && MALFORMED_TEXT.test(value))
      return new InvalidInputError('request/malformed_text', 'The request holds text with a NUL character or broken Unicode.');
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) continue;
    if (depth >= MAX_BODY_DEPTH) return new InvalidInputError('request/too_deeply_nested', `The request body is nested deeper than ${MAX_BODY_DEPTH} levels.`);
    for (const key of Object.keys(value)) {
      if (POISON_KEYS.has(key)) return new InvalidInputError('request/forbidden_field', `The field name "${key}" is not accepted.`);
      if (MALFORMED_TEXT.test(key))
        return new InvalidInputError('request/malformed_text', 'The request holds a field name with a NUL character or broken Unicode.');
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}
