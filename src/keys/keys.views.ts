import { ApiProperty } from '@nestjs/swagger';
import type { Environment } from '../generated/prisma/enums.js';
import type { KeyStatus } from './key-rotation.service.js';

// What the JSON API answers about the service's own keys: key ids and counts, never key material.

const COUNTS = { type: 'object', additionalProperties: { type: 'integer' }, description: 'key id (or `v1`, before key ids) -> how many' } as const;
const NULLABLE_DATE = { type: String, format: 'date-time', nullable: true } as const;

export class SealedColumnView {
  @ApiProperty({ example: 'notification' }) table!: string;
  @ApiProperty({ example: 'payload_enc' }) column!: string;
  @ApiProperty(COUNTS) byKey!: Record<string, number>;
}

export class MasterKeyStatusView {
  @ApiProperty({ example: '50ba775008f1', description: 'Id of MASTER_KEY' }) current!: string;
  @ApiProperty({ type: [String], description: 'Ids of MASTER_KEY and MASTER_KEY_PREVIOUS' }) configured!: string[];
  @ApiProperty({ type: [SealedColumnView] }) sealed!: SealedColumnView[];
  @ApiProperty({ description: 'Sealed values not under the current key: `keys:rotate` brings this to 0' }) notCurrent!: number;
}

export class SecretHashKeyStatusView {
  @ApiProperty({ description: 'Id of SECRET_HASH_KEY' }) current!: string;
  @ApiProperty({ type: [String], description: 'Ids of SECRET_HASH_KEY_PREVIOUS' }) previous!: string[];
  @ApiProperty({ ...COUNTS, description: 'Pending and active client secrets by the id of the key that made their hash' }) clientSecretsByKey!: Record<
    string,
    number
  >;
  @ApiProperty({ description: 'Pending and active client secrets not yet re-hashed under the current key' }) notCurrent!: number;
}

export class KeyStatusView {
  @ApiProperty({ type: MasterKeyStatusView }) masterKey!: MasterKeyStatusView;
  @ApiProperty({ type: SecretHashKeyStatusView }) secretHashKey!: SecretHashKeyStatusView;
}

export function toKeyStatusView(s: KeyStatus): KeyStatusView {
  return {
    masterKey: {
      current: s.masterKey.current,
      configured: s.masterKey.configured,
      sealed: s.masterKey.sealed.map((c) => ({ table: c.table, column: c.column, byKey: c.byKey })),
      notCurrent: s.masterKey.notCurrent,
    },
    secretHashKey: {
      current: s.secretHashKey.current,
      previous: s.secretHashKey.previous,
      clientSecretsByKey: s.secretHashKey.clientSecretsByKey,
      notCurrent: s.secretHashKey.notCurrent,
    },
  };
}

export class SigningKeyView {
  @ApiProperty({ example: 'acc-2026-12-03-1a2b3c4d' }) kid!: string;
  @ApiProperty({ enum: ['acceptance', 'production'] }) environment!: Environment;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'Signs until then' }) signUntil!: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'In the JWKS until then' }) publishUntil!: string;
  @ApiProperty(NULLABLE_DATE) withdrawnAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) withdrawnReason!: string | null;
}

export function toSigningKeyView(k: {
  kid: string;
  environment: Environment;
  createdAt: Date;
  signUntil: Date;
  publishUntil: Date;
  withdrawnAt: Date | null;
  withdrawnReason: string | null;
}): SigningKeyView {
  return {
    kid: k.kid,
    environment: k.environment,
    createdAt: k.createdAt.toISOString(),
    signUntil: k.signUntil.toISOString(),
    publishUntil: k.publishUntil.toISOString(),
    withdrawnAt: k.withdrawnAt?.toISOString() ?? null,
    withdrawnReason: k.withdrawnReason,
  };
}

export class WithdrawnSigningKeyView {
  @ApiProperty() kid!: string;
  @ApiProperty({ enum: ['acceptance', 'production'] }) environment!: Environment;
  @ApiProperty({ description: 'The key that signs now' }) signingKid!: string;
}
