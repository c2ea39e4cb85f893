/**
 * Every column sealed under the master keys, with the associated data its owner binds the value to. A new
 * sealed column belongs here too, or `keys:rotate` leaves it under the old key.
 */
export interface SealedColumn {
  table: string;
  idColumn: string;
  /** The id column's SQL type: the re-seal walks each table in id order from the last id it read. */
  idType: 'uuid' | 'text';
  column: string;
  aad(id: string): string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'oauth_signing_key', idColumn: 'kid', idType: 'text', column: 'private_key_enc', aad: (kid) => kid },
  { table: 'staff_account', idColumn: 'id', idType: 'uuid', column: 'totp_secret_enc', aad: (id) => `staff-totp:${id}` },
  { table: 'staff_pending_login', idColumn: 'id', idType: 'uuid', column: 'totp_secret_enc', aad: (id) => `staff-pending-totp:${id}` },
  { table: 'delivery', idColumn: 'id', idType: 'uuid', column: 'hotp_secret_enc', aad: (id) => `delivery-hotp:${id}` },
  { table: 'notification', idColumn: 'id', idType: 'uuid', column: 'payload_enc', aad: (id) => `notification:${id}` },
  { table: 'onboarding_request', idColumn: 'id', idType: 'uuid', column: 'status_token_enc', aad: (id) => `onboarding-status:${id}` },
];
