/** An RFC 6749 §5.2 error: sent as `{ error, error_description }`, never in the house `{ code }` shape. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
    /** Why, for the failure counters and the audit summary (never shown beyond `description`). */
    readonly reason?: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}
