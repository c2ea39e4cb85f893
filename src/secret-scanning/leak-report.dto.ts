import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SECRET_SHAPE } from '../credentials/leak.service.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** The leak report forms (public and staff). */
export class ReportLeakDto {
  @Transform(trim)
  @IsString({ message: 'Paste the secret you found.' })
  @Matches(SECRET_SHAPE, { message: 'Our client secrets start with cbsk_acc_ or cbsk_prd_ followed by 43 characters. Paste the whole secret.' })
  secret!: string;

  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'Enter the address where you found it' })
  @MaxLength(2000, { message: 'The address must be 2000 characters or fewer' })
  url?: string;

  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'Say where you found it' })
  @MaxLength(300, { message: 'Where you found it must be 300 characters or fewer' })
  source?: string;
}
