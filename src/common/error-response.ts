import { HttpException } from '@nestjs/common';
import { isDatabaseUnavailable, isWriteConflict } from './database-unavailable.js';
import { DomainError, RateLimitedError } from './domain-error.js';
import { statusOf, type ErrorCode } from './error-codes.js';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  correlationId: string;
  details?: Record<string, unknown>;
}

export interface MappedError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** true when the cause is ours (5xx): the caller gets a generic message, the log gets the error. */
  internal: boolean;
}

const FASTIFY_CODES: Record<string, [number, ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'request/unsupported_media_type', 'This content type is not accepted here.'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'request/body_too_large', 'The request body is too large.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'request/malformed_body', 'The JSON body is empty.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'request/malformed_body', 'The Content-Length does not match the body.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'request/malformed_body', 'The body is not valid JSON.'],
  FST_ERR_BAD_URL: [400, 'request/bad_url', 'The URL is malformed.'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'request/bad_request', 'The request could not be routed.'],
};

const PRISMA_CODES: Record<string, [number, ErrorCode, string]> = {
  P2002: [409, 'request/conflict', 'This conflicts with something that already exists.'],
  P2025: [404, 'request/not_found', 'The record was not found.'],
  P2034: [409, 'request/conflict', 'A concurrent change won; please retry.'],
};

/** The single mapping from anything thrown to the `{ code, message, correlationId }` contract. */
export function mapError(err: unknown, correlationId: string): MappedError {
  const headers: Record<string, string> = {};
  if (err instanceof DomainError) {
    if (err instanceof RateLimitedError) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
    return {
      status: statusOf(err.code),
      body: { code: err.code, message: err.message, correlationId, ...(err.details ? { details: err.details } : {}) },
      headers,
      internal: false,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code: ErrorCode =
      status === 404
        ? 'request/not_found'
        : status === 405
          ? 'request/method_not_allowed'
          : status === 413
            ? 'request/body_too_large'
            : status === 429
              ? 'request/rate_limited'
              : status >= 500
                ? 'internal/error'
                : 'request/bad_request';
    const message = status === 404 ? 'No such route or resource.' : status >= 500 ? 'Something went wrong on our side.' : err.message;
    return { status, body: { code, message, correlationId }, headers, internal: status >= 500 };
  }
  if (isDatabaseUnavailable(err)) {
    headers['retry-after'] = '2';
    return {
      status: 503,
      body: {
        code: 'service/database_unavailable',
        message: 'The service cannot reach its database right now. Nothing was changed; please retry shortly.',
        correlationId,
      },
      headers,
      internal: true,
    };
  }
  if (isWriteConflict(err)) {
    // A deadlock victim or a serialization failure (raw queries included): nothing of the request stands.
    headers['retry-after'] = '1';
    const [status, code, message] = PRISMA_CODES.P2034;
    return { status, body: { code, message, correlationId }, headers, internal: false };
  }
  const e = err as { code?: unknown; statusCode?: unknown; name?: unknown };
  if (typeof e?.code === 'string' && FASTIFY_CODES[e.code]) {
    const [status, code, message] = FASTIFY_CODES[e.code];
    return { status, body: { code, message, correlationId }, headers, internal: false };
  }
  if (typeof e?.code === 'string' && PRISMA_CODES[e.code]) {
    const [status, code, message] = PRISMA_CODES[e.code];
    return { status, body: { code, message, correlationId }, headers, internal: false };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Fastify's own 4xx (e.g. a malformed form body, a JSON parse error): keep the status, not the raw text.
    const status = e.statusCode;
    return {
      status,
      body: {
        code: status === 413 ? 'request/body_too_large' : status === 415 ? 'request/unsupported_media_type' : 'request/malformed_body',
        message: 'The request could not be read.',
        correlationId,
      },
      headers,
      internal: false,
    };
  }
  return {
    status: 500,
    body: { code: 'internal/error', message: 'Something went wrong on our side. Quote the correlation id when you contact us.', correlationId },
    headers,
    internal: true,
  };
}
