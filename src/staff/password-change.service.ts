import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { InvalidInputError, NotFoundError, UnauthenticatedError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { LoginThrottle, type NewLock } from './login-throttle.service.js';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from './password.js';
import { SessionService } from './session.service.js';
import { SignInService } from './sign-in.service.js';
import { StaffRepository } from './staff.repository.js';
import { matchTotp } from './totp.js';

export interface PasswordChangeInput {
  currentPassword: string;
  code: string;
  newPassword: string;
  confirmPassword: string;
}

/** One message for a wrong password and a wrong code: a borrowed session must not learn which of the two it guessed. */
export const PASSWORD_CHANGE_REFUSED = 'Your current password or the code is not right, or there have been too many attempts. Try again in a few minutes.';
const refused = () =>
  new UnauthenticatedError('auth/password_change_refused', PASSWORD_CHANGE_REFUSED, { fields: { currentPassword: [PASSWORD_CHANGE_REFUSED] } });

/**
 * A signed-in member changes their own password: it takes the current password and a fresh TOTP code
 * (so an unattended signed-in browser is not enough), counts against the sign-in throttle, and signs
 * out every other session of theirs.
 */
@Injectable()
export class PasswordChangeService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: StaffRepository,
    private readonly sessions: SessionService,
    private readonly signIn: SignInService,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async change(ctx: RequestContext, staffId: string, currentSessionId: string, input: PasswordChangeInput): Promise<{ otherSessionsEnded: number }> {
    checkNewPassword(input);
    const account = await this.repo.findById(staffId);
    if (!account || account.disabledAt) throw new NotFoundError('staff/not_found', 'No such staff member.');
    const keys = this.throttle.keysFor(account.email, ctx.clientIp);
    const now = this.clock.now();
    const charged = await this.prisma.transaction(async (tx) => {
      const o = await this.throttle.charge(tx, keys, now);
      if (!o.allowed)
        await this.audit.record(tx, ctx, {
          action: 'staff.password_change_refused',
          subjectType: 'staff_account',
          subjectId: staffId,
          detail: { reason: 'locked', scope: o.lockedScope },
        });
      return o;
    });
    if (!charged.allowed) throw refused();
    // Both are checked every time, so the time taken does not tell which one was wrong.
    const passwordOk = await verifyPassword(account.passwordHash, input.currentPassword);
    const step = account.totpSecretEnc ? await matchTotp(this.signIn.totpSecretOf(account), input.code.trim(), now) : null;
    const passwordHash = passwordOk && step !== null ? await hashPassword(input.newPassword) : null;
    const outcome = await this.prisma.transaction(async (tx) => {
      if (!passwordHash || step === null) return { ok: false as const, reason: !passwordOk ? 'wrong_password' : 'wrong_or_used_totp' };
      // The step is consumed atomically: the same code cannot serve a second change or a sign-in.
      if (!(await this.repo.useTotpStep(tx, staffId, step))) return { ok: false as const, reason: 'wrong_or_used_totp' };
      await this.throttle.succeeded(tx, keys, charged.newLocks);
      await this.repo.setPassword(tx, staffId, passwordHash, now);
      const ended = await this.sessions.endAllExcept(tx, staffId, currentSessionId);
      await this.audit.record(tx, ctx, {
        action: 'staff.password_changed',
        subjectType: 'staff_account',
        subjectId: staffId,
        detail: { otherSessionsEnded: ended },
      });
      return { ok: true as const, ended };
    });
    if (!outcome.ok) {
      await this.prisma.transaction(async (tx) => {
        await this.audit.record(tx, ctx, {
          action: 'staff.password_change_refused',
          subjectType: 'staff_account',
          subjectId: staffId,
          detail: { reason: outcome.reason },
        });
        await this.recordLocks(tx, ctx, staffId, charged.newLocks);
      });
      throw refused();
    }
    return { otherSessionsEnded: outcome.ended };
  }

  private async recordLocks(tx: Tx, ctx: RequestContext, staffId: string, locks: NewLock[]): Promise<void> {
    // The same lock records as a failed sign-in: this attempt counted against the same throttle.
    for (const l of locks)
      await this.audit.record(tx, ctx, {
        action: 'staff.sign_in_locked',
        subjectType: 'staff_account',
        subjectId: staffId,
        detail: { scope: l.scope, until: l.until.toISOString() },
      });
  }
}

/** Field checks that need no secret: done before the attempt is counted. */
function checkNewPassword(input: PasswordChangeInput): void {
  const fields: Record<string, string[]> = {};
  if (!input.currentPassword) fields.currentPassword = ['Enter your current password'];
  if (!/^[0-9]{6}$/.test(input.code.trim())) fields.code = ['Enter the 6-digit code from your authenticator app'];
  if (input.newPassword.length < PASSWORD_MIN_LENGTH || input.newPassword.length > PASSWORD_MAX_LENGTH) {
    fields.newPassword = [`Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`];
  } else if (input.newPassword === input.currentPassword) {
    fields.newPassword = ['Choose a new password that differs from your current one'];
  }
  if (!fields.newPassword && input.confirmPassword !== input.newPassword) fields.confirmPassword = ['The two new passwords do not match'];
  if (Object.keys(fields).length) throw new InvalidInputError('staff/password_change_invalid', 'Some fields are missing or not valid.', { fields });
}
