import { uuidParam } from '../common/uuid-param.js';

/** A malformed id names no request: 404, like an unknown one (never a database cast error). */
export const RequestIdPipe = uuidParam('onboarding/not_found', 'No onboarding request with this id.');
