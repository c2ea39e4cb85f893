/**
 * Every column sealed under the master keys, with the associated data its owner binds the value to. A new
 * sealed column belongs here too, or `keys:rotate` leaves it under the old key.
 */
export interface SealedColumn {
  table: string;
  idColumn: string;
  column: string;
  aad(id: string): string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'oauth_signing_key', idColumn: 'kid', column: 'private_key_enc', aad: (kid) => kid },
  { table: 'staff_account', idColumn: 'id', column: 'totp_secret_enc', aad: (id) => `staff-totp:${id}` },
  { table: 'staff_pending_login', idColumn: 'id', column: 'totp_secret_enc', aad: (id) => `staff-pending-totp:${id}` },
  { table: 'delivery', idColumn: 'id', column: 'hotp_secret_enc', aad: (id) => `delivery-hotp:${id}` },
  { table: 'notification', idColumn: 'id', column: 'payload_enc', aad: (id) => `notification:${id}` },
  { table: 'onboarding_request', idColumn: 'id', column: 'status_token_enc', aad: (id) => `onboarding-status:${id}` },
];
