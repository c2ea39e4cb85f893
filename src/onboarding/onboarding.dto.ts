import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsISO31661Alpha2,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { IsMobileNumber } from '../partners/partner.validation.js';
import { ONBOARDING_STATES } from './onboarding-request.state.js';

const ENVIRONMENTS = ['acceptance', 'production'] as const;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class RequestedItemDto {
  @ApiProperty({ example: 'business', description: 'An API key from the catalogue (business, cafetariaplan, communities)' })
  @IsString({ message: 'Choose an API' })
  @Matches(/^[a-z0-9-]{1,40}$/, { message: 'Choose an API from the catalogue' })
  api!: string;

  @ApiProperty({ enum: ENVIRONMENTS })
  @IsIn(ENVIRONMENTS, { message: 'Choose acceptance or production' })
  environment!: 'acceptance' | 'production';
}

export class PartnerDto {
  @ApiProperty({ example: 'Voorbeeld Software B.V.', maxLength: 200 })
  @Transform(trim)
  @IsString({ message: "Enter the organisation's legal name" })
  @MinLength(2, { message: "Enter the organisation's legal name" })
  @MaxLength(200, { message: 'Legal name must be 200 characters or fewer' })
  legalName!: string;

  @ApiProperty({ example: '12345678', description: 'Chamber of commerce (KvK) number or a similar registration number', maxLength: 40 })
  @Transform(trim)
  @IsString({ message: 'Enter the registration number' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 .\-/]{1,39}$/, {
    message: 'Enter the registration number using letters, digits, spaces, dots or dashes (2 to 40 characters)',
  })
  registrationNumber!: string;

  @ApiProperty({ example: 'NL', description: 'ISO 3166-1 alpha-2 country code' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value))
  @IsISO31661Alpha2({ message: 'Choose the country where the organisation is registered' })
  country!: string;

  @ApiPropertyOptional({ example: 'A. de Vries, director', maxLength: 200 })
  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'Business representative must be text' })
  @MaxLength(200, { message: 'Business representative must be 200 characters or fewer' })
  businessRepresentative?: string;
}

export class ContactDto {
  @ApiProperty({ example: 'Jan Smit', maxLength: 120 })
  @Transform(trim)
  @IsString({ message: "Enter the technical contact's name" })
  @MinLength(2, { message: "Enter the technical contact's name" })
  @MaxLength(120, { message: 'Name must be 120 characters or fewer' })
  name!: string;

  @ApiProperty({ example: 'jan.smit@example.com', maxLength: 254 })
  @Transform(trim)
  @IsString({ message: 'Enter an email address' })
  @MaxLength(254, { message: 'Email address must be 254 characters or fewer' })
  @IsEmail({}, { message: 'Enter an email address in the correct format, like name@example.com' })
  email!: string;

  @ApiProperty({ example: '+31612345678', description: 'Mobile number in E.164; receives the SMS codes for secrets. VoIP numbers are refused.' })
  @IsMobileNumber()
  mobile!: string;
}

export class CreateOnboardingRequestDto {
  @ApiProperty({ type: PartnerDto })
  @ValidateNested()
  @Type(() => PartnerDto)
  partner!: PartnerDto;

  @ApiProperty({ type: ContactDto })
  @ValidateNested()
  @Type(() => ContactDto)
  contact!: ContactDto;

  @ApiProperty({ enum: ['nl', 'en'], description: 'Language of the emails to the contact' })
  @IsIn(['nl', 'en'], { message: 'Choose Dutch (nl) or English (en)' })
  language!: 'nl' | 'en';

  @ApiProperty({ example: 'Employees order lunch through our app; we need the Cafetariaplan API.', minLength: 20, maxLength: 2000 })
  @Transform(trim)
  @IsString({ message: 'Describe what you will use the APIs for' })
  @MinLength(20, { message: 'Describe what you will use the APIs for (at least 20 characters)' })
  @MaxLength(2000, { message: 'Purpose must be 2000 characters or fewer' })
  purpose!: string;

  @ApiProperty({ type: [RequestedItemDto], description: 'APIs and environments from the catalogue' })
  @IsArray({ message: 'Choose at least one API and environment' })
  @ArrayMinSize(1, { message: 'Choose at least one API and environment' })
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => RequestedItemDto)
  items!: RequestedItemDto[];
}

export class EditOnboardingRequestDto {
  @ApiPropertyOptional({ minLength: 20, maxLength: 2000 })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(20, { message: 'Describe what you will use the APIs for (at least 20 characters)' })
  @MaxLength(2000, { message: 'Purpose must be 2000 characters or fewer' })
  purpose?: string;

  @ApiPropertyOptional({ type: [RequestedItemDto] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'Choose at least one API and environment' })
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => RequestedItemDto)
  items?: RequestedItemDto[];

  @ApiPropertyOptional({ description: 'The version you read; a newer one gives 409 onboarding/conflict' })
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}

export class VersionDto {
  @ApiPropertyOptional({ description: 'The version you read; a newer one gives 409 onboarding/conflict' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'version must be a whole number' })
  @Min(1)
  version?: number;
}

export class ApproveDto extends VersionDto {
  @ApiProperty({ enum: ENVIRONMENTS, description: 'Each environment is approved separately; Acceptance before Production when both are requested' })
  @IsIn(ENVIRONMENTS, { message: 'Choose acceptance or production' })
  environment!: 'acceptance' | 'production';
}

export class RejectDto extends VersionDto {
  @ApiProperty({ description: 'Shown to the partner', minLength: 5, maxLength: 2000 })
  @Transform(trim)
  @IsString({ message: 'Give a reason the partner will see' })
  @MinLength(5, { message: 'Give a reason the partner will see (at least 5 characters)' })
  @MaxLength(2000, { message: 'Reason must be 2000 characters or fewer' })
  reason!: string;
}

export class RequestChangesDto extends VersionDto {
  @ApiProperty({ description: 'What the partner must change; shown to them', minLength: 5, maxLength: 2000 })
  @Transform(trim)
  @IsString({ message: 'Say what the partner must change' })
  @MinLength(5, { message: 'Say what the partner must change (at least 5 characters)' })
  @MaxLength(2000, { message: 'Note must be 2000 characters or fewer' })
  note!: string;
}

export class WithdrawDto extends VersionDto {
  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(500, { message: 'Reason must be 500 characters or fewer' })
  reason?: string;
}

export class ListOnboardingRequestsDto {
  @ApiPropertyOptional({ description: 'Reference, partner name or contact email (part of)' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ enum: ONBOARDING_STATES })
  @IsOptional()
  @IsIn(ONBOARDING_STATES as string[])
  state?: (typeof ONBOARDING_STATES)[number];

  @ApiPropertyOptional({ example: 'business' })
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,40}$/)
  api?: string;

  @ApiPropertyOptional({ enum: ENVIRONMENTS })
  @IsOptional()
  @IsIn(ENVIRONMENTS)
  environment?: 'acceptance' | 'production';

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100000)
  offset?: number;
}

export class ContactLineOverrideDto {
  @ApiProperty({ description: 'How staff confirmed that the number receives text messages', minLength: 5, maxLength: 2000 })
  @IsString()
  @MaxLength(2000)
  reason!: string;
}
