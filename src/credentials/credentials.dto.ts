import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const ENVIRONMENTS = ['acceptance', 'production'] as const;

export class IssueCredentialsDto {
  @ApiProperty({ enum: ENVIRONMENTS, description: 'The approved environment to issue credentials for' })
  @IsIn(ENVIRONMENTS, { message: 'Choose acceptance or production' })
  environment!: 'acceptance' | 'production';
}

export class UpdateCatalogueEntryDto {
  @ApiProperty({ example: 'https://business-api.acceptance.example.com' })
  @Transform(trim)
  @IsString({ message: 'Enter the base URL' })
  @MinLength(8, { message: 'Enter the base URL' })
  @MaxLength(300, { message: 'Base URL must be 300 characters or fewer' })
  baseUrl!: string;

  @ApiProperty({ example: 'https://business-api.acceptance.example.com' })
  @Transform(trim)
  @IsString({ message: 'Enter the audience' })
  @MinLength(3, { message: 'Enter the audience' })
  @MaxLength(300, { message: 'Audience must be 300 characters or fewer' })
  audience!: string;
}

export class ListCredentialsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID('all', { message: 'partnerId must be a UUID' })
  partnerId?: string;

  @ApiPropertyOptional({ enum: ENVIRONMENTS })
  @IsOptional()
  @IsIn(ENVIRONMENTS, { message: 'Choose acceptance or production' })
  environment?: 'acceptance' | 'production';

  @ApiPropertyOptional({ enum: ['pending_delivery', 'active', 'revoked'] })
  @IsOptional()
  @IsIn(['pending_delivery', 'active', 'revoked'], { message: 'Choose a state' })
  state?: 'pending_delivery' | 'active' | 'revoked';

  @ApiPropertyOptional({ example: 'business' })
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,40}$/, { message: 'Choose an API' })
  api?: string;

  @ApiPropertyOptional({ description: 'client_id or partner name contains' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class RevokeDto {
  @ApiProperty({ description: 'Why (kept in the audit trail)' })
  @Transform(trim)
  @IsString({ message: 'Say why you revoke' })
  @MinLength(3, { message: 'Say why you revoke (at least 3 characters)' })
  @MaxLength(500, { message: 'Reason must be 500 characters or fewer' })
  reason!: string;
}

export class StartRotationDto {
  @ApiPropertyOptional({ description: 'Days both secrets work after the new one is revealed (default OVERLAP_DAYS)', minimum: 0, maximum: 90 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'Give a whole number of days' })
  @Min(0, { message: 'Give 0 to 90 days' })
  @Max(90, { message: 'Give 0 to 90 days' })
  overlapDays?: number;

  @ApiPropertyOptional({
    description: 'Cancel a rotation already in progress (not yet in overlap) and start this one instead. An unconfirmed partner request is always superseded.',
  })
  @IsOptional()
  @IsBoolean({ message: 'supersede must be true or false' })
  supersede?: boolean;
}

export class CancelRotationDto {
  @ApiPropertyOptional({ description: 'Why (kept in the audit trail)', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class RotationRequestDto {
  @ApiProperty({ example: 'acc_Z3x9QkT2mB7rYp1LwH4c' })
  @IsString({ message: 'Enter the client_id' })
  @MaxLength(100)
  clientId!: string;
}

export class RotationConfirmDto {
  @ApiProperty({ description: 'The token from the emailed link' })
  @IsString()
  @MaxLength(100)
  token!: string;
}
