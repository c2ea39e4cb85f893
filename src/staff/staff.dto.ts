import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import type { StaffRole } from '../generated/prisma/enums.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.js';

const ROLES: StaffRole[] = ['viewer', 'reviewer', 'admin'];
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class SignInDto {
  @ApiProperty({ example: 'j.jansen@example.com' })
  @IsString({ message: 'Enter your email address' })
  @Length(1, 320, { message: 'Enter your email address' })
  @Transform(trim)
  email!: string;

  @ApiProperty({ format: 'password' })
  @IsString({ message: 'Enter your password' })
  @Length(1, PASSWORD_MAX_LENGTH, { message: 'Enter your password' })
  password!: string;
}

export class SecondFactorDto {
  @ApiProperty({ description: '6-digit TOTP code, or a recovery code like abcde-fghij', example: '123456' })
  @IsString({ message: 'Enter the code from your authenticator app, or a recovery code' })
  @Length(6, 20, { message: 'Enter the 6-digit code from your authenticator app, or a recovery code' })
  @Transform(trim)
  code!: string;
}

export class EnrolDto {
  @IsString({ message: 'Enter the 6-digit code from your authenticator app' })
  @Matches(/^[0-9]{6}$/, { message: 'Enter the 6-digit code from your authenticator app' })
  @Transform(trim)
  code!: string;

  @ApiPropertyOptional()
  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value))
  @IsOptional()
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, { message: `Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` })
  newPassword?: string;

  @Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value))
  @IsOptional()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  confirmPassword?: string;
}

export class CreateStaffDto {
  @ApiProperty({ example: 'Jan Jansen' })
  @Transform(trim)
  @IsString({ message: 'Enter a name' })
  @Length(1, 200, { message: 'Enter a name (up to 200 characters)' })
  name!: string;

  @ApiProperty({ example: 'j.jansen@example.com' })
  @Transform(trim)
  @IsEmail({}, { message: 'Enter an email address like name@example.com' })
  @MaxLength(320)
  email!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: 'Choose a role' })
  role!: StaffRole;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: 'Choose a role' })
  role!: StaffRole;
}

export class TotpCodeDto {
  @ApiProperty({ description: 'A current code from the authenticator app', example: '123456' })
  @Transform(trim)
  @IsString()
  @Matches(/^[0-9]{6}$/, { message: 'Enter the 6-digit code from your authenticator app' })
  code!: string;
}

/** The account page's password form (its code field is passwordCode: the recovery-code form there has its own "code"). */
export class ChangePasswordDto {
  @IsString({ message: 'Enter your current password' })
  @MaxLength(PASSWORD_MAX_LENGTH, { message: 'Your current password or the code is not right' })
  currentPassword!: string;

  @IsString({ message: 'Enter the 6-digit code from your authenticator app' })
  @MaxLength(20, { message: 'Enter the 6-digit code from your authenticator app' })
  passwordCode!: string;

  @IsString({ message: `Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` })
  @MaxLength(PASSWORD_MAX_LENGTH, { message: `Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` })
  newPassword!: string;

  @IsString({ message: 'Confirm your new password' })
  @MaxLength(PASSWORD_MAX_LENGTH, { message: 'The two new passwords do not match' })
  confirmPassword!: string;
}

export class StaffMemberView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: StaffRole;
  @ApiProperty({ description: 'Has a confirmed TOTP second factor' }) enrolled!: boolean;
  @ApiProperty() mustChangePassword!: boolean;
  @ApiProperty() disabled!: boolean;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
}

export class CreatedStaffMemberView {
  @ApiProperty({ type: StaffMemberView }) member!: StaffMemberView;
  @ApiProperty({ description: 'Shown once; the member replaces it at first sign-in' }) oneTimePassword!: string;
}

export class RecoveryCodesView {
  @ApiProperty({ type: [String], description: 'Shown once; each works once' }) recoveryCodes!: string[];
}

export class SignedOutView {
  @ApiProperty() sessionsEnded!: number;
}
