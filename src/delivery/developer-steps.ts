import { formatTimeIn } from '../common/i18n.js';
import type { DeliveryDisplay } from './delivery.types.js';

/**
 * The first token request, ready to paste. The secret is shown once, on the secret page: this example names
 * it only as a shell variable (what the .env file defines), so no second copy of it exists anywhere.
 */
export function tokenRequestExample(d: Pick<DeliveryDisplay, 'clientId' | 'tokenEndpoint' | 'developer'>): string {
  const lines = [`curl -sS -X POST '${d.tokenEndpoint}'`, `  -u "${d.clientId}:$CLIENT_SECRET"`, `  -d grant_type=client_credentials`];
  if (d.developer) lines.push(`  -d scope=${d.developer.scope}`, `  --data-urlencode 'resource=${d.developer.audience}'`);
  return lines.join(' \\\n');
}

/** What the retrieval notice adds: the developer's next steps, and for a replacement when the old secret stops. */
export function revealNoticeExtras(d: DeliveryDisplay, previousSecretEndsAt: Date | null) {
  return {
    replacement: d.reason !== 'issued',
    previousSecretEndsAt: previousSecretEndsAt ? formatTimeIn(previousSecretEndsAt) : null,
    tokenEndpoint: d.tokenEndpoint,
    tokenRequest: tokenRequestExample(d),
    developer: d.developer ? { ...d.developer, tokenTtlMinutes: Math.round(d.developer.tokenTtlSeconds / 60) } : null,
  };
}
