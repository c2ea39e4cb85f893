import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateBy, isISO8601 } from 'class-validator';

/**
 * ISO 8601 that JavaScript's Date reads too: week and ordinal dates (`2026-W01`, `2026-123`) and the basic
 * format pass `IsDateString` but become an Invalid Date, which the query would then fail on.
 */
const IsReadableDate = () =>
  ValidateBy({
    name: 'isReadableDate',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && isISO8601(v, { strict: true }) && !Number.isNaN(Date.parse(v)),
      defaultMessage: () => '$property must be an ISO 8601 date or date-time (YYYY-MM-DD[THH:MM[:SS[.sss]]][Z|±HH:MM])',
    },
  });

export class AuditQueryDto {
  @ApiPropertyOptional({ example: 'onboarding_request' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  subjectType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(128)
  subjectId?: string;

  @ApiPropertyOptional({ description: 'Staff id or partner contact id' })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ example: 'onboarding.approved' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z_]+(\.[a-z_]+)*$/)
  action?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:-]{8,128}$/)
  correlationId?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' })
  @IsOptional()
  @IsReadableDate()
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, exclusive' })
  @IsOptional()
  @IsReadableDate()
  to?: string;

  @ApiPropertyOptional({ description: "Cursor: the previous page's nextBefore" })
  @IsOptional()
  @Matches(/^[0-9]{1,18}$/)
  before?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}
