import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import type { StaffRole } from '../generated/prisma/enums.js';

export interface StaffAccountRecord {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  passwordHash: string;
  totpSecretEnc: string | null;
  totpEnrolledAt: Date | null;
  disabledAt: Date | null;
  mustChangePassword: boolean;
  /** A one-time password stops working at this time. */
  passwordExpiresAt: Date | null;
  createdAt: Date;
}

const ACCOUNT_SELECT = {
  id: true,
  email: true,
  name: true,
  role: true,
  passwordHash: true,
  totpSecretEnc: true,
  totpEnrolledAt: true,
  disabledAt: true,
  mustChangePassword: true,
  passwordExpiresAt: true,
  createdAt: true,
} as const;

@Injectable()
export class StaffRepository {
  constructor(private readonly prisma: PrismaService) {}

  findByEmail(email: string, tx: Tx = this.prisma): Promise<StaffAccountRecord | null> {
    return tx.staffAccount.findUnique({ where: { email }, select: ACCOUNT_SELECT });
  }

  findById(id: string, tx: Tx = this.prisma): Promise<StaffAccountRecord | null> {
    return tx.staffAccount.findUnique({ where: { id }, select: ACCOUNT_SELECT });
  }

  list(): Promise<StaffAccountRecord[]> {
    return this.prisma.staffAccount.findMany({ select: ACCOUNT_SELECT, orderBy: [{ disabledAt: { sort: 'asc', nulls: 'first' } }, { email: 'asc' }] });
  }

  anyAdmin(): Promise<boolean> {
    return this.prisma.staffAccount.count({ where: { role: 'admin' } }).then((n) => n > 0);
  }

  async create(
    tx: Tx,
    a: {
      email: string;
      name: string;
      role: StaffRole;
      passwordHash: string;
      mustChangePassword: boolean;
      passwordExpiresAt?: Date | null;
      now: Date;
      id?: string;
    },
  ): Promise<string> {
    const id = a.id ?? randomUUID();
    await tx.staffAccount.create({
      data: {
        id,
        email: a.email,
        name: a.name,
        role: a.role,
        passwordHash: a.passwordHash,
        mustChangePassword: a.mustChangePassword,
        passwordExpiresAt: a.passwordExpiresAt ?? null,
        createdAt: a.now,
        updatedAt: a.now,
      },
    });
    return id;
  }

  /** Only an account without a second factor can be enrolled; returns false when it already was. */
  async enrol(tx: Tx, id: string, e: { totpSecretEnc: string; step: number; now: Date; passwordHash?: string }): Promise<boolean> {
    const r = await tx.staffAccount.updateMany({
      where: { id, totpEnrolledAt: null, disabledAt: null },
      data: {
        totpSecretEnc: e.totpSecretEnc,
        totpEnrolledAt: e.now,
        totpLastStep: BigInt(e.step),
        ...(e.passwordHash ? { passwordHash: e.passwordHash, mustChangePassword: false, passwordExpiresAt: null } : {}),
        updatedAt: e.now,
      },
    });
    return r.count === 1;
  }

  /** A TOTP time step is accepted once per account: the step only ever moves forward, in one statement. */
  async useTotpStep(tx: Tx, id: string, step: number): Promise<boolean> {
    const n = await tx.$executeRaw`
      UPDATE staff_account SET totp_last_step = ${BigInt(step)}
       WHERE id = ${id}::uuid AND totp_enrolled_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ${BigInt(step)})`;
    return n === 1;
  }

  async replaceRecoveryCodes(tx: Tx, staffId: string, codeHashes: string[]): Promise<void> {
    await tx.staffRecoveryCode.deleteMany({ where: { staffId } });
    await tx.staffRecoveryCode.createMany({ data: codeHashes.map((codeHash) => ({ id: randomUUID(), staffId, codeHash })) });
  }

  /** Consumes one unused recovery code in one conditional UPDATE. */
  /** `codeHashes`: the code under each configured hash key, so codes from before a key rotation still work. */
  async useRecoveryCode(tx: Tx, staffId: string, codeHashes: string[], now: Date): Promise<boolean> {
    const r = await tx.staffRecoveryCode.updateMany({ where: { staffId, codeHash: { in: codeHashes }, usedAt: null }, data: { usedAt: now } });
    return r.count === 1;
  }

  unusedRecoveryCodes(staffId: string, tx: Tx = this.prisma): Promise<number> {
    return tx.staffRecoveryCode.count({ where: { staffId, usedAt: null } });
  }

  async setRole(tx: Tx, id: string, role: StaffRole, now: Date): Promise<void> {
    await tx.staffAccount.update({ where: { id }, data: { role, updatedAt: now } });
  }

  async setDisabled(tx: Tx, id: string, disabledAt: Date | null, now: Date): Promise<void> {
    await tx.staffAccount.update({ where: { id }, data: { disabledAt, updatedAt: now } });
  }

  async setOneTimePassword(tx: Tx, id: string, passwordHash: string, expiresAt: Date, now: Date): Promise<void> {
    await tx.staffAccount.update({ where: { id }, data: { passwordHash, mustChangePassword: true, passwordExpiresAt: expiresAt, updatedAt: now } });
  }

  /** The member's own new password: it replaces any one-time password and its expiry. */
  async setPassword(tx: Tx, id: string, passwordHash: string, now: Date): Promise<void> {
    await tx.staffAccount.update({ where: { id }, data: { passwordHash, mustChangePassword: false, passwordExpiresAt: null, updatedAt: now } });
  }

  async clearTotp(tx: Tx, id: string, now: Date): Promise<void> {
    await tx.staffAccount.update({ where: { id }, data: { totpSecretEnc: null, totpEnrolledAt: null, totpLastStep: null, updatedAt: now } });
    await tx.staffRecoveryCode.deleteMany({ where: { staffId: id } });
  }

  /**
   * Serialises changes to the set of admins (a transaction-scoped advisory lock), so two admins
   * demoting each other at once cannot leave nobody in charge.
   */
  async lockAdminSet(tx: Tx): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('staff_admin_set'))`;
  }

  enabledAdminsOtherThan(tx: Tx, id: string): Promise<number> {
    return tx.staffAccount.count({ where: { role: 'admin', disabledAt: null, id: { not: id } } });
  }
}
