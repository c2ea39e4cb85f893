import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/** The house error body, as `mapError` builds it. */
export class ErrorView {
  @ApiProperty({ example: 'request/validation_failed', description: 'Stable and machine-readable: `area/what_went_wrong`' }) code!: string;
  @ApiProperty({ description: 'For people; never contains a secret, token, code or password' }) message!: string;
  @ApiProperty({ description: 'Also in the X-Correlation-Id header, the logs and the audit trail' }) correlationId!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'e.g. `fields`: messages per invalid field' }) details?: Record<
    string,
    unknown
  >;
}

/** RFC 6749 §5.2: the only error shape the OAuth endpoints answer with. */
export class OAuthErrorView {
  @ApiProperty({ example: 'invalid_client', description: 'RFC 6749 §5.2 / RFC 7009 error code' }) error!: string;
  @ApiProperty({ description: 'What is wrong and what to do about it' }) error_description!: string;
}

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 423 | 429 | 503;

/**
 * Error responses with their schema, the codes a client can meet named per status:
 * `@ApiErrors({ 404: 'credential/not_found', 409: 'credential/already_revoked' })`.
 */
export const ApiErrors = (codes: Partial<Record<ErrorStatus, string>>) =>
  applyDecorators(...Object.entries(codes).map(([status, description]) => ApiResponse({ status: Number(status), type: ErrorView, description })));

/** The same for the OAuth endpoints, in the RFC 6749 §5.2 shape. */
export const ApiOAuthErrors = (codes: Partial<Record<ErrorStatus, string>>) =>
  applyDecorators(...Object.entries(codes).map(([status, description]) => ApiResponse({ status: Number(status), type: OAuthErrorView, description })));

/** Every JSON body is checked by the validation pipe: its 400. */
export const INVALID = 'request/validation_failed (details.fields), request/malformed_body, request/malformed_text';
