import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Clock } from '../common/clock.js';
import { constantTimeEqual, hmacSha256Hex, randomToken, sha256Hex } from '../common/crypto.js';
import { InvalidInputError, UnauthenticatedError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { LoginThrottle, type AttemptKeys, type NewLock } from './login-throttle.service.js';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from './password.js';
import { PendingLoginRepository, type PendingLogin } from './pending-login.repository.js';
import { SessionService } from './session.service.js';
import { StaffRepository, type StaffAccountRecord } from './staff.repository.js';
import { isTotpShaped, matchTotp, newRecoveryCode, newTotpSecret, normaliseRecoveryCode, RECOVERY_CODE_COUNT, totpUri } from './totp.js';

export const PENDING_LOGIN_MS = 5 * 60_000;
export const PENDING_MAX_ATTEMPTS = 5;

/** One message for every failure: it never tells which part was wrong, or whether the address exists. */
export const SIGN_IN_FAILED = 'Those details are not right, or there have been too many attempts. Check them and try again in a few minutes.';
export const signInFailed = () => new UnauthenticatedError('auth/sign_in_failed', SIGN_IN_FAILED);

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export const totpAad = (staffId: string) => `staff-totp:${staffId}`;
const pendingAad = (pendingId: string) => `staff-pending-totp:${pendingId}`;
/** Only something shaped like a token we issued (randomToken(32)) is looked up. */
const pendingHash = (token: string) => (/^[A-Za-z0-9_-]{43}$/.test(token) ? sha256Hex(token) : null);

export type PasswordStepResult = { next: 'second_factor' | 'enrol'; pendingToken: string; expiresAt: Date };
export interface SignedIn {
  sessionToken: string;
  sessionId: string;
  /** Marks this browser as one the member signed in from (see LoginThrottle.keysFor). */
  deviceCookie: string;
  expiresAt: Date;
  staffId: string;
}

/** Rolls a transaction back on a wrong code without it escaping as an error of its own. */
class AttemptRejected extends Error {}

/**
 * Password first, then TOTP or a recovery code. Between the two steps only a short-lived pending
 * record exists (its token in an HttpOnly cookie), never a session.
 */
@Injectable()
export class SignInService implements OnModuleInit {
  constructor(
    private readonly prisma: PrismaService,
    private readonly staff: StaffRepository,
    private readonly pending: PendingLoginRepository,
    private readonly throttle: LoginThrottle,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Makes the dummy hash now, so that not even the first unknown address answers at a different speed. */
  async onModuleInit(): Promise<void> {
    await verifyPassword(null, 'warm-up');
  }

  async passwordStep(emailRaw: string, password: string, ctx: RequestContext, deviceCookie?: string): Promise<PasswordStepResult> {
    const email = normaliseEmail(emailRaw).slice(0, 320);
    const account = await this.staff.findByEmail(email);
    const keys = this.throttle.keysFor(email, ctx.clientIp, this.trustedDevice(deviceCookie, account?.id));
    const now = this.clock.now();
    const charged = await this.charge(keys, account, 'password', ctx, now);

    const passwordOk = await verifyPassword(account?.passwordHash ?? null, password);
    const expired = !!account?.passwordExpiresAt && account.passwordExpiresAt <= now;
    if (!account || !passwordOk || account.disabledAt || expired) {
      const reason = !account ? 'unknown_account' : !passwordOk ? 'wrong_password' : account.disabledAt ? 'disabled' : 'one_time_password_expired';
      await this.failed(ctx, account, 'password', reason, charged);
      throw signInFailed();
    }

    const pendingToken = randomToken(32);
    const expiresAt = new Date(now.getTime() + PENDING_LOGIN_MS);
    const next = account.totpEnrolledAt ? 'second_factor' : 'enrol';
    await this.prisma.transaction(async (tx) => {
      await this.throttle.refundAttempt(tx, keys, charged);
      const id = randomUUID();
      await this.pending.create(tx, {
        id,
        tokenHash: sha256Hex(pendingToken),
        staffId: account.id,
        purpose: next,
        totpSecretEnc: next === 'enrol' ? this.config.masterKeys.seal(newTotpSecret(), pendingAad(id)) : null,
        expiresAt,
        ip: ctx.clientIp,
        now,
      });
      await this.audit.record(tx, this.asStaff(ctx, account.id), {
        action: 'staff.password_accepted',
        subjectType: 'staff_account',
        subjectId: account.id,
        detail: { next },
      });
    });
    return { next, pendingToken, expiresAt };
  }

  /** What the enrolment page shows: the candidate seed as otpauth URI (the QR code is made from it). */
  async enrolmentFor(pendingToken: string): Promise<{ otpauthUri: string; secret: string; email: string; mustChangePassword: boolean } | null> {
    const p = await this.livePending(pendingToken, 'enrol');
    if (!p?.totpSecretEnc) return null;
    const account = await this.staff.findById(p.staffId);
    if (!account || account.disabledAt || account.totpEnrolledAt) return null;
    const secret = this.config.masterKeys.open(p.totpSecretEnc, pendingAad(p.id)).toString();
    return { otpauthUri: totpUri(secret, account.email), secret, email: account.email, mustChangePassword: account.mustChangePassword };
  }

  async hasPending(pendingToken: string | undefined, purpose: 'second_factor' | 'enrol'): Promise<boolean> {
    return !!(pendingToken && (await this.livePending(pendingToken, purpose)));
  }

  async secondFactor(pendingToken: string, codeRaw: string, ctx: RequestContext, deviceCookie?: string): Promise<SignedIn> {
    const { pending: p, account, keys, charged } = await this.startCodeAttempt(pendingToken, 'second_factor', ctx, deviceCookie);
    const code = codeRaw.trim().replace(/\s/g, '');
    const now = this.clock.now();
    const method = isTotpShaped(code) ? 'totp' : 'recovery_code';
    try {
      let step: number | null = null;
      let recoveryHashes: string[] = [];
      if (method === 'totp') {
        step = await matchTotp(this.totpSecretOf(account), code, now);
        if (step === null) throw new AttemptRejected();
      } else {
        const normalised = normaliseRecoveryCode(code);
        if (!normalised) throw new AttemptRejected();
        recoveryHashes = [this.config.secretHashKey, ...this.config.secretHashKeysPrevious].map((k) => hmacSha256Hex(k, `staff-recovery:${normalised}`));
      }
      return await this.prisma.transaction(async (tx) => {
        const used = step !== null ? await this.staff.useTotpStep(tx, account.id, step) : await this.staff.useRecoveryCode(tx, account.id, recoveryHashes, now);
        if (!used || !(await this.pending.consume(tx, p.id, now))) throw new AttemptRejected();
        const detail: Record<string, unknown> = { method };
        if (method === 'recovery_code') detail.recoveryCodesLeft = await this.staff.unusedRecoveryCodes(account.id, tx);
        return this.completeSignIn(tx, account, keys, charged, ctx, detail);
      });
    } catch (err) {
      if (!(err instanceof AttemptRejected)) throw err;
      await this.failed(ctx, account, 'second_factor', method === 'totp' ? 'wrong_or_used_totp' : 'wrong_or_used_recovery_code', charged);
      throw signInFailed();
    }
  }

  /**
   * First sign-in (or after an admin reset the second factor): confirm the new seed with a code,
   * replace a one-time password if the account has one, and receive recovery codes, shown once.
   */
  async enrol(
    pendingToken: string,
    codeRaw: string,
    newPassword: string | undefined,
    ctx: RequestContext,
    deviceCookie?: string,
  ): Promise<SignedIn & { recoveryCodes: string[] }> {
    const peek = await this.livePending(pendingToken, 'enrol');
    if (peek) {
      const account = await this.staff.findById(peek.staffId);
      if (account?.mustChangePassword) assertNewPassword(newPassword);
    }
    const { pending: p, account, keys, charged } = await this.startCodeAttempt(pendingToken, 'enrol', ctx, deviceCookie);
    const now = this.clock.now();
    const secret = this.config.masterKeys.open(p.totpSecretEnc!, pendingAad(p.id)).toString();
    const step = await matchTotp(secret, codeRaw.trim(), now);
    if (step === null) {
      await this.failed(ctx, account, 'enrol', 'wrong_totp', charged);
      throw signInFailed();
    }
    const passwordHash = account.mustChangePassword ? await hashPassword(assertNewPassword(newPassword)) : undefined;
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    try {
      const signedIn = await this.prisma.transaction(async (tx) => {
        if (!(await this.pending.consume(tx, p.id, now))) throw new AttemptRejected();
        const enrolled = await this.staff.enrol(tx, account.id, {
          totpSecretEnc: this.config.masterKeys.seal(secret, totpAad(account.id)),
          step,
          now,
          passwordHash,
        });
        if (!enrolled) throw new AttemptRejected();
        await this.staff.replaceRecoveryCodes(
          tx,
          account.id,
          recoveryCodes.map((c) => this.recoveryHash(c)),
        );
        await this.audit.record(tx, this.asStaff(ctx, account.id), {
          action: 'staff.totp_enrolled',
          subjectType: 'staff_account',
          subjectId: account.id,
          detail: { passwordChanged: !!passwordHash, recoveryCodesIssued: RECOVERY_CODE_COUNT },
        });
        return this.completeSignIn(tx, account, keys, charged, ctx, { method: 'totp_enrolment' });
      });
      return { ...signedIn, recoveryCodes };
    } catch (err) {
      if (!(err instanceof AttemptRejected)) throw err;
      await this.failed(ctx, account, 'enrol', 'already_used', charged);
      throw signInFailed();
    }
  }

  recoveryHash(normalisedCode: string): string {
    return hmacSha256Hex(this.config.secretHashKey, `staff-recovery:${normalisedCode}`);
  }

  totpSecretOf(account: Pick<StaffAccountRecord, 'id' | 'totpSecretEnc'>): string {
    if (!account.totpSecretEnc) throw signInFailed();
    return this.config.masterKeys.open(account.totpSecretEnc, totpAad(account.id)).toString();
  }

  private async startCodeAttempt(pendingToken: string, purpose: 'second_factor' | 'enrol', ctx: RequestContext, deviceCookie?: string) {
    const now = this.clock.now();
    const hash = pendingHash(pendingToken);
    const p = hash ? await this.pending.takeAttempt(hash, now, PENDING_MAX_ATTEMPTS) : null;
    const account = p && p.purpose === purpose ? await this.staff.findById(p.staffId) : null;
    if (!p || !account || account.disabledAt) {
      await this.prisma.transaction((tx) =>
        this.audit.record(tx, ctx, {
          action: 'staff.sign_in_failed',
          subjectType: 'staff_account',
          subjectId: account?.id ?? null,
          detail: { step: purpose, reason: 'no_pending_sign_in' },
        }),
      );
      throw signInFailed();
    }
    const keys = this.throttle.keysFor(account.email, ctx.clientIp, this.trustedDevice(deviceCookie, account.id));
    const charged = await this.charge(keys, account, purpose, ctx, now);
    return { pending: p, account, keys, charged };
  }

  private async charge(keys: AttemptKeys, account: StaffAccountRecord | null, step: string, ctx: RequestContext, now: Date) {
    const outcome = await this.prisma.transaction(async (tx) => {
      const o = await this.throttle.charge(tx, keys, now);
      if (!o.allowed) {
        await this.audit.record(tx, ctx, {
          action: 'staff.sign_in_refused',
          subjectType: 'staff_account',
          subjectId: account?.id ?? null,
          detail: { step, reason: 'locked', scope: o.lockedScope },
        });
      }
      return o;
    });
    if (!outcome.allowed) throw signInFailed();
    return outcome.newLocks;
  }

  private async failed(ctx: RequestContext, account: StaffAccountRecord | null, step: string, reason: string, newLocks: NewLock[]) {
    await this.prisma.transaction(async (tx) => {
      await this.audit.record(tx, ctx, {
        action: 'staff.sign_in_failed',
        subjectType: 'staff_account',
        subjectId: account?.id ?? null,
        detail: { step, reason },
      });
      for (const l of newLocks) {
        await this.audit.record(tx, ctx, {
          action: 'staff.sign_in_locked',
          subjectType: 'staff_account',
          subjectId: account?.id ?? null,
          detail: { scope: l.scope, until: l.until.toISOString() },
        });
      }
    });
  }

  private async completeSignIn(
    tx: Tx,
    account: StaffAccountRecord,
    keys: AttemptKeys,
    charged: NewLock[],
    ctx: RequestContext,
    detail: Record<string, unknown>,
  ): Promise<SignedIn> {
    await this.throttle.succeeded(tx, keys, charged);
    const s = await this.sessions.start(tx, account.id, ctx);
    const trustedDevice = keys.account.startsWith('device:');
    await this.audit.record(tx, this.asStaff(ctx, account.id), {
      action: 'staff.signed_in',
      subjectType: 'staff_account',
      subjectId: account.id,
      detail: { ...detail, sessionId: s.sessionId, knownDevice: trustedDevice },
    });
    return { sessionToken: s.token, sessionId: s.sessionId, expiresAt: s.expiresAt, staffId: account.id, deviceCookie: this.newDeviceCookie(account.id) };
  }

  /**
   * `<staffId>.<nonce>.<mac>`: unforgeable without the service's key, and only counts for the account
   * it was issued to. Returns the cookie when it is valid for `staffId`.
   */
  trustedDevice(cookie: string | undefined, staffId: string | undefined): string | undefined {
    if (!cookie || !staffId || cookie.length > 200) return undefined;
    const [id, nonce, mac] = cookie.split('.');
    if (id !== staffId || !nonce || !mac) return undefined;
    return constantTimeEqual(mac, hmacSha256Hex(this.config.secretHashKey, `staff-device:${id}.${nonce}`)) ? cookie : undefined;
  }

  private newDeviceCookie(staffId: string): string {
    const nonce = randomToken(16);
    return `${staffId}.${nonce}.${hmacSha256Hex(this.config.secretHashKey, `staff-device:${staffId}.${nonce}`)}`;
  }

  private async livePending(token: string, purpose: 'second_factor' | 'enrol'): Promise<PendingLogin | null> {
    const hash = pendingHash(token);
    if (!hash) return null;
    const p = await this.pending.findLive(hash, this.clock.now());
    return p && p.purpose === purpose && p.attempts < PENDING_MAX_ATTEMPTS ? p : null;
  }

  private asStaff(ctx: RequestContext, staffId: string): RequestContext {
    return { ...ctx, actor: { type: 'staff', id: staffId } };
  }
}

export function assertNewPassword(pw: string | undefined): string {
  if (typeof pw !== 'string' || pw.length < PASSWORD_MIN_LENGTH || pw.length > PASSWORD_MAX_LENGTH) {
    throw new InvalidInputError('staff/weak_password', `Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`, {
      fields: { newPassword: [`Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`] },
    });
  }
  return pw;
}
