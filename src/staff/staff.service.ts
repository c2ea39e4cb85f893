import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Clock } from '../common/clock.js';
import { ConflictError, NotFoundError, UnauthenticatedError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import type { StaffRole } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { LoginThrottle } from './login-throttle.service.js';
import { generatePassword, hashPassword } from './password.js';
import { PendingLoginRepository } from './pending-login.repository.js';
import { SessionService } from './session.service.js';
import { normaliseEmail, SignInService, totpAad } from './sign-in.service.js';
import { StaffRepository, type StaffAccountRecord } from './staff.repository.js';
import { matchTotp, newRecoveryCode, newTotpSecret, RECOVERY_CODE_COUNT, totpUri } from './totp.js';

export interface StaffMemberView {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  /** Has a confirmed second factor; without one the next sign-in enrols it. */
  enrolled: boolean;
  mustChangePassword: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface CreatedStaffMember {
  member: StaffMemberView;
  /** Only when the service made it up; shown once. */
  oneTimePassword?: string;
  /** Only when enrolled at creation (the CLI): shown once. */
  otpauthUri?: string;
  recoveryCodes?: string[];
}

export function toView(a: StaffAccountRecord): StaffMemberView {
  return {
    id: a.id,
    email: a.email,
    name: a.name,
    role: a.role,
    enrolled: !!a.totpEnrolledAt,
    mustChangePassword: a.mustChangePassword,
    disabled: !!a.disabledAt,
    createdAt: a.createdAt.toISOString(),
  };
}

/** How long an admin-issued one-time password works before the member must have used it. */
export const ONE_TIME_PASSWORD_MS = 7 * 24 * 3600_000;

const codeRefused = () =>
  new UnauthenticatedError('auth/code_refused', 'That code is not right, or there have been too many attempts. Try again in a few minutes.');
const lastAdmin = () => new ConflictError('staff/last_admin', 'This would leave no enabled admin. Make someone else an admin first.');

/** Staff management (admins) and a member's own account actions. */
@Injectable()
export class StaffService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: StaffRepository,
    private readonly pending: PendingLoginRepository,
    private readonly sessions: SessionService,
    private readonly signIn: SignInService,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(): Promise<StaffMemberView[]> {
    return (await this.repo.list()).map(toView);
  }

  async get(id: string): Promise<StaffMemberView> {
    return toView(await this.mustFind(id));
  }

  async recoveryCodesLeft(staffId: string): Promise<number> {
    return this.repo.unusedRecoveryCodes(staffId);
  }

  /**
   * From the console: a generated one-time password, shown once to the admin; the member replaces it
   * and enrols TOTP at first sign-in. From the CLI (`enrolNow`): the account is enrolled at once, so
   * the operator's output alone is enough to sign in.
   */
  async create(
    ctx: RequestContext,
    input: { email: string; name: string; role: StaffRole },
    opts: { password?: string; enrolNow?: boolean; id?: string } = {},
  ): Promise<CreatedStaffMember> {
    const email = normaliseEmail(input.email);
    const now = this.clock.now();
    const oneTimePassword = opts.password === undefined ? generatePassword() : undefined;
    const passwordHash = await hashPassword(opts.password ?? oneTimePassword!);
    const secret = opts.enrolNow ? newTotpSecret() : undefined;
    const recoveryCodes = opts.enrolNow ? Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode) : undefined;
    const id = await this.prisma.transaction(async (tx) => {
      if (await this.repo.findByEmail(email, tx)) {
        throw new ConflictError('staff/email_taken', 'A staff member with this email address exists already.');
      }
      const oneTime = !opts.enrolNow && opts.password === undefined;
      const id = await this.repo.create(tx, {
        id: opts.id,
        email,
        name: input.name.trim(),
        role: input.role,
        passwordHash,
        mustChangePassword: oneTime,
        passwordExpiresAt: oneTime ? new Date(now.getTime() + ONE_TIME_PASSWORD_MS) : null,
        now,
      });
      if (secret) {
        // The step before now: the first real code the member types is then still accepted.
        await this.repo.enrol(tx, id, { totpSecretEnc: this.config.masterKeys.seal(secret, totpAad(id)), step: Math.floor(now.getTime() / 30_000) - 2, now });
        await this.repo.replaceRecoveryCodes(
          tx,
          id,
          recoveryCodes!.map((c) => this.signIn.recoveryHash(c)),
        );
      }
      await this.audit.record(tx, ctx, {
        action: 'staff.created',
        subjectType: 'staff_account',
        subjectId: id,
        detail: { role: input.role, enrolled: !!secret, via: opts.enrolNow ? 'cli' : 'console' },
      });
      return id;
    });
    return {
      member: toView((await this.repo.findById(id))!),
      oneTimePassword,
      otpauthUri: secret ? totpUri(secret, email) : undefined,
      recoveryCodes,
    };
  }

  async changeRole(ctx: RequestContext, id: string, role: StaffRole): Promise<StaffMemberView> {
    await this.prisma.transaction(async (tx) => {
      await this.repo.lockAdminSet(tx);
      const a = await this.mustFind(id, tx);
      if (a.role === role) return;
      if (a.role === 'admin' && !a.disabledAt && (await this.repo.enabledAdminsOtherThan(tx, id)) === 0) throw lastAdmin();
      await this.repo.setRole(tx, id, role, this.clock.now());
      await this.audit.record(tx, ctx, { action: 'staff.role_changed', subjectType: 'staff_account', subjectId: id, detail: { from: a.role, to: role } });
    });
    return this.get(id);
  }

  async disable(ctx: RequestContext, id: string): Promise<StaffMemberView> {
    await this.prisma.transaction(async (tx) => {
      await this.repo.lockAdminSet(tx);
      const a = await this.mustFind(id, tx);
      if (a.disabledAt) return;
      if (a.role === 'admin' && (await this.repo.enabledAdminsOtherThan(tx, id)) === 0) throw lastAdmin();
      const now = this.clock.now();
      await this.repo.setDisabled(tx, id, now, now);
      const ended = await this.sessions.endAll(tx, id);
      await this.pending.consumeAllOf(tx, id, now);
      await this.audit.record(tx, ctx, { action: 'staff.disabled', subjectType: 'staff_account', subjectId: id, detail: { sessionsEnded: ended } });
    });
    return this.get(id);
  }

  async enable(ctx: RequestContext, id: string): Promise<StaffMemberView> {
    await this.prisma.transaction(async (tx) => {
      const a = await this.mustFind(id, tx);
      if (!a.disabledAt) return;
      await this.repo.setDisabled(tx, id, null, this.clock.now());
      await this.audit.record(tx, ctx, { action: 'staff.enabled', subjectType: 'staff_account', subjectId: id });
    });
    return this.get(id);
  }

  /** For a lost phone: the member enrols a new seed at next sign-in; their sessions and recovery codes end now. */
  async resetTotp(ctx: RequestContext, id: string): Promise<StaffMemberView> {
    await this.prisma.transaction(async (tx) => {
      await this.mustFind(id, tx);
      const now = this.clock.now();
      await this.repo.clearTotp(tx, id, now);
      const ended = await this.sessions.endAll(tx, id);
      await this.pending.consumeAllOf(tx, id, now);
      await this.audit.record(tx, ctx, { action: 'staff.totp_reset', subjectType: 'staff_account', subjectId: id, detail: { sessionsEnded: ended } });
    });
    return this.get(id);
  }

  /**
   * For a forgotten password (or a lost phone plus lost recovery codes): a new one-time password,
   * shown once to the admin, and the second factor removed; the member sets up both again at next
   * sign-in. Their sessions end now.
   */
  async resetSignIn(ctx: RequestContext, id: string): Promise<{ member: StaffMemberView; oneTimePassword: string }> {
    const oneTimePassword = generatePassword();
    const passwordHash = await hashPassword(oneTimePassword);
    await this.prisma.transaction(async (tx) => {
      await this.mustFind(id, tx);
      const now = this.clock.now();
      await this.repo.setOneTimePassword(tx, id, passwordHash, new Date(now.getTime() + ONE_TIME_PASSWORD_MS), now);
      await this.repo.clearTotp(tx, id, now);
      const ended = await this.sessions.endAll(tx, id);
      await this.pending.consumeAllOf(tx, id, now);
      await this.audit.record(tx, ctx, { action: 'staff.sign_in_reset', subjectType: 'staff_account', subjectId: id, detail: { sessionsEnded: ended } });
    });
    return { member: await this.get(id), oneTimePassword };
  }

  async signOut(ctx: RequestContext, sessionId: string, staffId: string): Promise<void> {
    await this.prisma.transaction(async (tx) => {
      const n = await this.sessions.end(tx, sessionId);
      await this.audit.record(tx, ctx, { action: 'staff.signed_out', subjectType: 'staff_account', subjectId: staffId, detail: { sessionId, ended: n } });
    });
  }

  async signOutEverywhere(ctx: RequestContext, staffId: string): Promise<number> {
    return this.prisma.transaction(async (tx) => {
      const n = await this.sessions.endAll(tx, staffId);
      await this.audit.record(tx, ctx, {
        action: 'staff.signed_out_everywhere',
        subjectType: 'staff_account',
        subjectId: staffId,
        detail: { sessionsEnded: n },
      });
      return n;
    });
  }

  /**
   * New recovery codes replace all old ones; needs a current TOTP code (never one already used),
   * and wrong codes count towards the same sign-in throttle.
   */
  async regenerateRecoveryCodes(ctx: RequestContext, staffId: string, code: string): Promise<string[]> {
    const account = await this.mustFind(staffId);
    const keys = this.throttle.keysFor(account.email, ctx.clientIp);
    const now = this.clock.now();
    const charged = await this.prisma.transaction(async (tx) => {
      const o = await this.throttle.charge(tx, keys, now);
      if (!o.allowed) await this.refused(tx, ctx, staffId, { reason: 'locked', scope: o.lockedScope });
      return o;
    });
    if (!charged.allowed) throw codeRefused();
    const step = await matchTotp(this.signIn.totpSecretOf(account), code.trim(), now);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const ok = await this.prisma.transaction(async (tx) => {
      if (step === null || !(await this.repo.useTotpStep(tx, staffId, step))) return false;
      await this.throttle.succeeded(tx, keys, charged.newLocks);
      await this.repo.replaceRecoveryCodes(
        tx,
        staffId,
        codes.map((c) => this.signIn.recoveryHash(c)),
      );
      await this.audit.record(tx, ctx, {
        action: 'staff.recovery_codes_regenerated',
        subjectType: 'staff_account',
        subjectId: staffId,
        detail: { issued: codes.length },
      });
      return true;
    });
    if (!ok) {
      await this.prisma.transaction(async (tx) => {
        await this.refused(tx, ctx, staffId, { reason: 'wrong_or_used_totp' });
        // The same lock records as a failed sign-in: this wrong code counted against the same throttle.
        for (const l of charged.newLocks) {
          await this.audit.record(tx, ctx, {
            action: 'staff.sign_in_locked',
            subjectType: 'staff_account',
            subjectId: staffId,
            detail: { scope: l.scope, until: l.until.toISOString() },
          });
        }
      });
      throw codeRefused();
    }
    return codes;
  }

  private refused(tx: Tx, ctx: RequestContext, staffId: string, detail: Record<string, unknown>): Promise<unknown> {
    return this.audit.record(tx, ctx, { action: 'staff.recovery_codes_refused', subjectType: 'staff_account', subjectId: staffId, detail });
  }

  private async mustFind(id: string, tx?: Tx): Promise<StaffAccountRecord> {
    const a = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.findById(id, tx) : null;
    if (!a) throw new NotFoundError('staff/not_found', 'No such staff member.');
    return a;
  }
}
