import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ENVIRONMENTS } from '../credentials/credential-format.js';
import type { Environment } from '../generated/prisma/enums.js';
import { EXPLAIN_REASONS, type TokenExplanation } from './token-explain.types.js';

export class ExplainTokenDto {
  @ApiProperty({
    description:
      'The access token as sent in `Authorization: Bearer …` (the `Bearer ` prefix may be included). Never stored or logged. Never paste a client secret.',
  })
  @IsString({ message: 'Paste the access token' })
  @MinLength(1, { message: 'Paste the access token' })
  @MaxLength(10000, { message: 'An access token from us is well under 10,000 characters' })
  token!: string;

  @ApiPropertyOptional({ example: 'business', description: 'The API you called (its catalogue key), to check the token is meant for it' })
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,40}$/, { message: 'Choose an API' })
  api?: string;

  @ApiPropertyOptional({ enum: ENVIRONMENTS, description: 'The environment you called, to check the token comes from its issuer' })
  @IsOptional()
  @IsIn(ENVIRONMENTS, { message: 'Choose acceptance or production' })
  environment?: Environment;
}

const NULLABLE_DATE = { type: String, format: 'date-time', nullable: true } as const;

export class ExplainFindingView {
  @ApiProperty({ enum: [...EXPLAIN_REASONS, 'secret_replaced'] }) code!: string;
  @ApiProperty() message!: string;
}

export class ExplainedTokenView {
  @ApiProperty({ nullable: true, type: String }) clientId!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'business' }) apiKey!: string | null;
  @ApiProperty({ nullable: true, type: String }) apiName!: string | null;
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty({ nullable: true, type: String }) audience!: string | null;
  @ApiProperty({ nullable: true, type: String }) issuer!: string | null;
  @ApiProperty() kid!: string;
  @ApiProperty(NULLABLE_DATE) issuedAt!: string | null;
  @ApiProperty(NULLABLE_DATE) notBefore!: string | null;
  @ApiProperty(NULLABLE_DATE) expiresAt!: string | null;
}

export class ExplainUrlsView {
  @ApiProperty({ enum: ENVIRONMENTS }) environment!: Environment;
  @ApiProperty() issuer!: string;
  @ApiProperty() tokenEndpoint!: string;
  @ApiProperty() jwksUri!: string;
  @ApiProperty({ nullable: true, type: String }) apiName!: string | null;
  @ApiProperty({ nullable: true, type: String }) apiBaseUrl!: string | null;
}

export class TokenExplanationView {
  @ApiProperty({ enum: EXPLAIN_REASONS, description: 'The first reason that applies, in the order of the enum' }) reason!: string;
  @ApiProperty() valid!: boolean;
  @ApiProperty({ description: 'The answer in plain language' }) summary!: string;
  @ApiProperty({ type: [ExplainFindingView], description: 'Every reason that applies, the deciding one first; `secret_replaced` is advice only' })
  findings!: ExplainFindingView[];
  @ApiProperty({ type: [String] }) nextSteps!: string[];
  @ApiProperty({ type: ExplainedTokenView, nullable: true, description: 'What the token says, once its signature is known to be ours' })
  token!: ExplainedTokenView | null;
  @ApiProperty({ type: ExplainUrlsView, nullable: true, description: "Issuer and token endpoint of the environment called (or the token's own)" })
  urls!: ExplainUrlsView | null;
  @ApiProperty({ description: 'How long our access tokens live' }) tokenLifetimeSeconds!: number;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toTokenExplanationView(e: TokenExplanation): TokenExplanationView {
  const t = e.token;
  const u = e.urls;
  return {
    reason: e.reason,
    valid: e.valid,
    summary: e.summary,
    findings: e.findings.map((f) => ({ code: f.code, message: f.message })),
    nextSteps: [...e.nextSteps],
    token: t
      ? {
          clientId: t.clientId,
          apiKey: t.apiKey,
          apiName: t.apiName,
          environment: t.environment,
          audience: t.audience,
          issuer: t.issuer,
          kid: t.kid,
          issuedAt: iso(t.issuedAt),
          notBefore: iso(t.notBefore),
          expiresAt: iso(t.expiresAt),
        }
      : null,
    urls: u
      ? { environment: u.environment, issuer: u.issuer, tokenEndpoint: u.tokenEndpoint, jwksUri: u.jwksUri, apiName: u.apiName, apiBaseUrl: u.apiBaseUrl }
      : null,
    tokenLifetimeSeconds: e.tokenLifetimeSeconds,
  };
}
