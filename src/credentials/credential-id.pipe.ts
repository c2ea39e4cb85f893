import { uuidParam } from '../common/uuid-param.js';

/** A malformed id names nothing: 404, never a database cast error. */
export const UuidPipe = uuidParam('request/not_found', 'Nothing has this id.');
