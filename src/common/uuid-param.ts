import { ParseUUIDPipe, type ArgumentMetadata } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from './domain-error.js';
import type { ErrorCodeWithStatus } from './error-codes.js';

/** Nest's UUID check whose refusal is one of our DomainErrors (the JSON error contract, or the error page); ids go on lower-cased. */
class UuidParamPipe extends ParseUUIDPipe {
  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    const id = await super.transform(value, metadata);
    return typeof id === 'string' ? id.toLowerCase() : id!;
  }
}

/** A path id that is not a UUID names nothing: 404 with the resource's own code, like an unknown id (never a database cast error). */
export function uuidParam(code: ErrorCodeWithStatus<404>, message: string): ParseUUIDPipe {
  return new UuidParamPipe({ exceptionFactory: () => new NotFoundError(code, message) });
}

/** A path id that is not a UUID is a malformed request: 400 `request/bad_request`. */
export function uuidParamOrBadRequest(): ParseUUIDPipe {
  return new UuidParamPipe({ exceptionFactory: () => new InvalidInputError('request/bad_request', 'Validation failed (uuid is expected)') });
}
