import { uuidParam } from '../common/uuid-param.js';

/** A malformed id names no delivery: 404, like an unknown one. */
export const DeliveryIdPipe = uuidParam('delivery/not_found', 'No such delivery.');
