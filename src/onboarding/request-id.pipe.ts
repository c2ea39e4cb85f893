import { Injectable, type PipeTransform } from '@nestjs/common';
import { NotFoundError } from '../common/domain-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id names no request: 404, like an unknown one (never a database cast error). */
@Injectable()
export class RequestIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID.test(value)) throw new NotFoundError('onboarding/not_found', 'No onboarding request with this id.');
    return value.toLowerCase();
  }
}
