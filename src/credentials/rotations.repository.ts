import { Injectable } from '@nestjs/common';
import type { Environment, RotationOrigin } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';

export interface RotationRow {
  id: string;
  credentialId: string;
  state: 'awaiting_confirmation' | 'awaiting_approval' | 'delivering' | 'overlap' | 'completed' | 'cancelled';
  requestedByType: 'staff' | 'partner_contact' | 'system';
  requestedById: string | null;
  approvedById: string | null;
  approvedAt: Date | null;
  overlapDays: number;
  oldSecretId: string | null;
  newSecretId: string | null;
  earlyEndRequestedById: string | null;
  earlyEndRequestedAt: Date | null;
  /** 'leak': an emergency rotation opened because a secret of the credential leaked. */
  origin: RotationOrigin;
  createdAt: Date;
  updatedAt: Date;
}

/** Rotations leave the repository without the confirmation token's hash: it is compared in SQL only. */
const WITHOUT_HASH = { confirmTokenHash: true } as const;

@Injectable()
export class RotationsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async insert(
    tx: Tx,
    data: {
      id: string;
      credentialId: string;
      state: RotationRow['state'];
      requestedByType: RotationRow['requestedByType'];
      requestedById: string | null;
      overlapDays: number;
      origin?: RotationRow['origin'];
    },
  ): Promise<void> {
    await tx.credentialRotation.create({ data });
  }

  async lock(tx: Tx, id: string): Promise<RotationRow | null> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM credential_rotation WHERE id = ${id}::uuid FOR UPDATE`;
    if (!rows.length) return null;
    return await tx.credentialRotation.findUnique({ where: { id }, omit: WITHOUT_HASH });
  }

  async credentialOf(tx: Tx, rotationId: string): Promise<string | null> {
    return (await tx.credentialRotation.findUnique({ where: { id: rotationId }, select: { credentialId: true } }))?.credentialId ?? null;
  }

  async byId(id: string): Promise<RotationRow | null> {
    return await this.prisma.credentialRotation.findUnique({ where: { id }, omit: WITHOUT_HASH });
  }

  async byNewSecret(tx: Tx, secretId: string): Promise<RotationRow | null> {
    return await tx.credentialRotation.findFirst({ where: { newSecretId: secretId }, omit: WITHOUT_HASH });
  }

  async openFor(db: Tx | PrismaService, credentialId: string): Promise<RotationRow | null> {
    return await db.credentialRotation.findFirst({
      where: { credentialId, state: { in: ['awaiting_confirmation', 'awaiting_approval', 'delivering', 'overlap'] } },
      omit: WITHOUT_HASH,
    });
  }

  async listFor(credentialId: string): Promise<RotationRow[]> {
    return await this.prisma.credentialRotation.findMany({ where: { credentialId }, orderBy: { createdAt: 'desc' }, omit: WITHOUT_HASH });
  }

  async insertPartnerRequest(
    tx: Tx,
    data: { id: string; credentialId: string; overlapDays: number; confirmTokenHash: string; confirmExpiresAt: Date },
  ): Promise<void> {
    await tx.credentialRotation.create({ data: { ...data, state: 'awaiting_confirmation', requestedByType: 'partner_contact' } });
  }

  /**
   * Closes what time has ended, so it no longer blocks a new rotation: unconfirmed partner requests whose
   * link lapsed are cancelled, and a rotation whose overlap window ran out on its own is completed.
   */
  async closeLapsed(tx: Tx, credentialId: string, now: Date): Promise<void> {
    await tx.$executeRaw`UPDATE credential_rotation SET state = 'cancelled', updated_at = ${now}
      WHERE credential_id = ${credentialId}::uuid AND state = 'awaiting_confirmation' AND confirm_expires_at <= ${now}`;
    await tx.$executeRaw`UPDATE credential_rotation r SET state = 'completed', updated_at = ${now}
      WHERE r.credential_id = ${credentialId}::uuid AND r.state = 'overlap'
        AND NOT EXISTS (SELECT 1 FROM credential_secret s WHERE s.credential_id = r.credential_id AND s.state = 'active' AND s.retires_at > ${now})`;
  }

  /** Consumes the confirmation link in one conditional statement; the credential's technical contact is the requester. */
  async confirm(tx: Tx, tokenHash: string, now: Date): Promise<{ id: string; credentialId: string; contactId: string; environment: Environment } | null> {
    const rows = await tx.$queryRaw<Array<{ id: string; credential_id: string; contact_id: string; environment: Environment }>>`
      UPDATE credential_rotation r SET state = 'awaiting_approval', confirmed_at = ${now}, confirm_token_hash = NULL, requested_by_id = c.contact_id, updated_at = ${now}
      FROM credential c
      WHERE c.id = r.credential_id AND r.confirm_token_hash = ${tokenHash} AND r.state = 'awaiting_confirmation' AND r.confirm_expires_at > ${now}
      RETURNING r.id::text, r.credential_id::text, c.contact_id::text, c.environment::text AS environment`;
    const r = rows[0];
    return r ? { id: r.id, credentialId: r.credential_id, contactId: r.contact_id, environment: r.environment } : null;
  }

  async credentialIdByClientId(db: Tx | PrismaService, clientId: string): Promise<string | null> {
    return (await db.credential.findUnique({ where: { clientId }, select: { id: true } }))?.id ?? null;
  }

  /** Cancels an open rotation in one conditional statement (its confirmation link dies with it). */
  async cancel(tx: Tx, id: string, from: ReadonlyArray<RotationRow['state']>, now: Date): Promise<boolean> {
    const n = await tx.$executeRaw`UPDATE credential_rotation SET state = 'cancelled', confirm_token_hash = NULL, updated_at = ${now}
      WHERE id = ${id}::uuid AND state::text = ANY(${[...from]}::text[])`;
    return n === 1;
  }

  async update(
    tx: Tx,
    id: string,
    data: Partial<Pick<RotationRow, 'state' | 'approvedById' | 'approvedAt' | 'oldSecretId' | 'newSecretId' | 'earlyEndRequestedById' | 'earlyEndRequestedAt'>>,
  ): Promise<void> {
    await tx.credentialRotation.update({ where: { id }, data });
  }
}
