import type { ErrorCode, ErrorCodeWithStatus } from './error-codes.js';

/**
 * Services throw these; `ErrorFilter` is the one place that turns them into HTTP, by the code's entry in
 * ERROR_CODES. `code` is stable and machine-readable (`area/what_went_wrong`) and must be listed there, with
 * the status of the subclass's kind (checked by the compiler); `message` is for people and must never contain a
 * secret, token, code or password.
 */
export type ErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'gone' | 'locked' | 'rate_limited' | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends DomainError {
  constructor(code: ErrorCodeWithStatus<400>, message: string, details?: Record<string, unknown>) {
    super('invalid', code, message, details);
  }
}
export class UnauthenticatedError extends DomainError {
  constructor(code: ErrorCodeWithStatus<401>, message: string, details?: Record<string, unknown>) {
    super('unauthenticated', code, message, details);
  }
}
export class ForbiddenError extends DomainError {
  constructor(code: ErrorCodeWithStatus<403>, message: string, details?: Record<string, unknown>) {
    super('forbidden', code, message, details);
  }
}
export class NotFoundError extends DomainError {
  constructor(code: ErrorCodeWithStatus<404>, message: string, details?: Record<string, unknown>) {
    super('not_found', code, message, details);
  }
}
export class ConflictError extends DomainError {
  constructor(code: ErrorCodeWithStatus<409>, message: string, details?: Record<string, unknown>) {
    super('conflict', code, message, details);
  }
}
export class GoneError extends DomainError {
  constructor(code: ErrorCodeWithStatus<410>, message: string, details?: Record<string, unknown>) {
    super('gone', code, message, details);
  }
}
export class LockedError extends DomainError {
  constructor(code: ErrorCodeWithStatus<423>, message: string, details?: Record<string, unknown>) {
    super('locked', code, message, details);
  }
}
export class RateLimitedError extends DomainError {
  constructor(
    code: ErrorCodeWithStatus<429>,
    message: string,
    readonly retryAfterSeconds: number,
    details?: Record<string, unknown>,
  ) {
    super('rate_limited', code, message, details);
  }
}
export class UnavailableError extends DomainError {
  constructor(code: ErrorCodeWithStatus<503>, message: string, details?: Record<string, unknown>) {
    super('unavailable', code, message, details);
  }
}

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  locked: 423,
  rate_limited: 429,
  unavailable: 503,
};

/** True when `err` is a DomainError with one of these codes (the codes are checked against the registry). */
export function hasErrorCode<C extends ErrorCode>(err: unknown, ...codes: C[]): err is DomainError & { code: C } {
  return err instanceof DomainError && (codes as ErrorCode[]).includes(err.code);
}
