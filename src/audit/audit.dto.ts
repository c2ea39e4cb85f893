import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

export class AuditQueryDto {
  @ApiPropertyOptional({ example: 'onboarding_request' })
  @IsOptional() @IsString() @MaxLength(64)
  subjectType?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(128)
  subjectId?: string;

  @ApiPropertyOptional({ description: 'Staff id or partner contact id' })
  @IsOptional() @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ example: 'onboarding.approved' })
  @IsOptional() @IsString() @MaxLength(64) @Matches(/^[a-z_]+(\.[a-z_]+)*$/)
  action?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9._:-]{8,128}$/)
  correlationId?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' })
  @IsOptional() @IsDateString()
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, exclusive' })
  @IsOptional() @IsDateString()
  to?: string;

  @ApiPropertyOptional({ description: 'Cursor: the previous page\'s nextBefore' })
  @IsOptional() @Matches(/^[0-9]{1,18}$/)
  before?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;
}

export class AuditVerifyQueryDto {
  @ApiPropertyOptional({ enum: ['json'] })
  @IsOptional() @IsIn(['json'])
  format?: 'json';
}
