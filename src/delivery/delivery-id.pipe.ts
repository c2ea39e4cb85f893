import { Injectable, type PipeTransform } from '@nestjs/common';
import { NotFoundError } from '../common/domain-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id names no delivery: 404, like an unknown one. */
@Injectable()
export class DeliveryIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID.test(value)) throw new NotFoundError('delivery/not_found', 'No such delivery.');
    return value.toLowerCase();
  }
}
