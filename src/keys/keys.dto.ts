import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, MinLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class WithdrawSigningKeyDto {
  @ApiProperty({ description: 'Why (kept in the audit trail)' })
  @Transform(trim)
  @IsString({ message: 'Say why the key is withdrawn' })
  @MinLength(3, { message: 'Say why the key is withdrawn (at least 3 characters)' })
  @MaxLength(500, { message: 'Reason must be 500 characters or fewer' })
  reason!: string;
}
