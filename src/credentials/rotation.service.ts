import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { DeliveryService } from '../delivery/delivery.service.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { hmacSha256Hex, randomToken } from '../common/crypto.js';
import { CLIENT_ID_PATTERN } from './credential-format.js';
import { environmentName } from '../common/i18n.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { CatalogueService } from './catalogue.service.js';
import { ClientRegistry } from './client-registry.js';
import { CredentialsRepository } from './credentials.repository.js';
import { RotationsRepository, type RotationRow } from './rotations.repository.js';
import { CREDENTIAL_SECRET_SUBJECT, CredentialsService } from './credentials.service.js';
import type { CredentialDetail } from './credentials.types.js';

export interface OverlapView {
  inOverlap: boolean;
  oldSecretId: string | null;
  newSecretId: string | null;
  endsAt: string | null;
  oldLastUsedAt: string | null;
  newLastUsedAt: string | null;
  /** The partner has used the new secret and not the old one since. */
  switched: boolean;
  /** The old secret has been quiet for the configured period after the new one came into use. */
  quietEnough: boolean;
  /** Who asked to end the overlap before it was quiet; a different reviewer may then end it. */
  earlyEndRequestedById: string | null;
}

const OPEN_BEFORE_DELIVERY: ReadonlyArray<RotationRow['state']> = ['awaiting_confirmation', 'awaiting_approval', 'delivering'];

/**
 * Rotation: a reviewer starts it (or the partner asks), a different reviewer approves (four-eyes), a new
 * secret is delivered the two-channel way, and both work during an overlap that starts at the reveal.
 */
@Injectable()
export class RotationService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: RotationsRepository,
    private readonly credentialsRepo: CredentialsRepository,
    private readonly credentials: CredentialsService,
    private readonly catalogue: CatalogueService,
    private readonly delivery: DeliveryService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly registry: ClientRegistry,
    private readonly notifications: NotificationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get quietHours(): number {
    return this.config.credentials.overlapQuietHours;
  }

  /**
   * Staff start a rotation. An unconfirmed partner request never stands in the way: it is superseded. A
   * rotation staff or a confirmed partner request opened is superseded only when asked (`supersede`).
   */
  async start(ctx: RequestContext, credentialId: string, overlapDays?: number, supersede = false): Promise<RotationRow> {
    const days = overlapDays ?? this.config.credentials.overlapDays;
    if (!Number.isInteger(days) || days < 0 || days > 90)
      throw new InvalidInputError('rotation/invalid_overlap', 'The overlap must be 0 to 90 days.', { fields: { overlapDays: ['Give 0 to 90 days.'] } });
    const id = randomUUID();
    await this.prisma.transaction(async (tx) => {
      const cred = await this.credentialsRepo.lockCredential(tx, credentialId);
      if (!cred) throw new NotFoundError('credential/not_found', 'No such credential.');
      if (cred.state !== 'active') throw new ConflictError('rotation/credential_not_active', 'Only an active credential can be rotated.');
      await this.repo.closeLapsed(tx, credentialId, this.clock.now());
      const open = await this.repo.openFor(tx, credentialId);
      if (open?.state === 'overlap')
        throw new ConflictError(
          'rotation/overlap_running',
          'This credential is in the overlap of its last rotation: end the overlap before starting another rotation.',
        );
      if (open && open.state !== 'awaiting_confirmation' && !supersede) {
        throw new ConflictError(
          'rotation/already_open',
          'A rotation of this credential is already in progress: cancel it, or start a new one that supersedes it.',
          { rotationId: open.id, state: open.state },
        );
      }
      if (open) await this.cancelLocked(tx, ctx, open, cred.environment, 'credential.rotation_superseded', { supersededBy: id });
      await this.repo.insert(tx, {
        id,
        credentialId,
        state: 'awaiting_approval',
        requestedByType: ctx.actor.type,
        requestedById: ctx.actor.id,
        overlapDays: days,
      });
      await this.audit.record(tx, ctx, {
        action: 'credential.rotation_requested',
        subjectType: 'credential',
        subjectId: credentialId,
        environment: cred.environment,
        detail: { rotationId: id, overlapDays: days, by: ctx.actor.type },
      });
    });
    return (await this.repo.byId(id))!;
  }

  /**
   * The partner's form: asks for a client_id only. Whatever it names, the answer is the same (nothing about
   * existence leaks); for an active credential without a rotation in progress, its technical contact gets a
   * confirmation link (24 h). One open rotation per credential keeps a stranger from flooding the inbox.
   */
  async requestByPartner(ctx: RequestContext, clientIdInput: string): Promise<void> {
    const clientId = clientIdInput.trim();
    if (!CLIENT_ID_PATTERN.test(clientId)) {
      throw new InvalidInputError('rotation/invalid_client_id', 'Enter the client_id, which starts with acc_ or prd_.', {
        fields: { clientId: ['Enter the client_id, which starts with acc_ or prd_ followed by 20 characters.'] },
      });
    }
    const now = this.clock.now();
    await this.prisma.transaction(async (tx) => {
      const credentialId = await this.repo.credentialIdByClientId(tx, clientId);
      if (!credentialId) return;
      const cred = await this.credentialsRepo.lockCredential(tx, credentialId);
      if (!cred || cred.state !== 'active') return;
      await this.repo.closeLapsed(tx, credentialId, now);
      if (await this.repo.openFor(tx, credentialId)) return;
      const c = (await this.credentialsRepo.detail(credentialId, tx))!;
      const token = randomToken(32);
      const id = randomUUID();
      await this.repo.insertPartnerRequest(tx, {
        id,
        credentialId,
        overlapDays: this.config.credentials.overlapDays,
        confirmTokenHash: hmacSha256Hex(this.config.secretHashKey, token),
        confirmExpiresAt: new Date(now.getTime() + 24 * 3_600_000),
      });
      await this.audit.record(tx, ctx, {
        action: 'credential.rotation_requested',
        subjectType: 'credential',
        subjectId: credentialId,
        environment: c.environment,
        detail: { rotationId: id, by: 'partner_form', confirmationSentTo: 'technical_contact' },
      });
      await this.notifications.enqueueEmail(tx, {
        to: c.contact.email,
        template: 'rotation-confirm',
        language: c.contact.language,
        idempotencyKey: `rotation:${id}:confirm`,
        subject: { type: 'credential', id: credentialId },
        data: {
          recipientName: c.contact.name,
          clientId: c.clientId,
          partnerName: c.partnerName,
          apiName: c.apiName,
          environmentLabel: environmentName(c.environment, c.contact.language),
          overlapDays: this.config.credentials.overlapDays,
          link: `${this.config.publicBaseUrl}/rotate/confirm/${token}?lang=${c.contact.language}`,
        },
      });
    });
  }

  async confirmByPartner(ctx: RequestContext, tokenInput: string): Promise<{ rotationId: string }> {
    const token = tokenInput.trim();
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new NotFoundError('rotation/link_invalid', 'This confirmation link is not valid or has expired.');
    return this.prisma.transaction(async (tx) => {
      const done = await this.repo.confirm(tx, hmacSha256Hex(this.config.secretHashKey, token), this.clock.now());
      if (!done) throw new NotFoundError('rotation/link_invalid', 'This confirmation link is not valid, was used already or has expired.');
      const partnerCtx = { ...ctx, actor: { type: 'partner_contact' as const, id: done.contactId } };
      await this.audit.record(tx, partnerCtx, {
        action: 'credential.rotation_confirmed',
        subjectType: 'credential',
        subjectId: done.credentialId,
        environment: done.environment,
        detail: { rotationId: done.id },
      });
      return { rotationId: done.id };
    });
  }

  /**
   * Staff cancel an open rotation before its new secret is in use: an unconfirmed or unapproved request
   * simply ends; a rotation being delivered has its undelivered secret and link cancelled too.
   */
  async cancel(ctx: RequestContext, rotationId: string, reason?: string): Promise<RotationRow> {
    await this.prisma.transaction(async (tx) => {
      const rot = await this.lockWithCredential(tx, rotationId);
      if (rot.state === 'overlap')
        throw new ConflictError('rotation/overlap_running', 'The new secret of this rotation is already in use: end the overlap instead.');
      if (!OPEN_BEFORE_DELIVERY.includes(rot.state))
        throw new ConflictError('rotation/invalid_transition', `This rotation is ${rot.state.replace('_', ' ')}; it cannot be cancelled.`);
      const cred = (await this.credentialsRepo.lockCredential(tx, rot.credentialId))!;
      await this.cancelLocked(tx, ctx, rot, cred.environment, 'credential.rotation_cancelled', reason?.trim() ? { reason: reason.trim() } : {});
    });
    return (await this.repo.byId(rotationId))!;
  }

  /** Credential first, then rotation: the order every path that changes both takes, so none deadlock. */
  private async lockWithCredential(tx: Tx, rotationId: string): Promise<RotationRow> {
    const credentialId = await this.repo.credentialOf(tx, rotationId);
    if (credentialId) await this.credentialsRepo.lockCredential(tx, credentialId);
    const rot = credentialId ? await this.repo.lock(tx, rotationId) : null;
    if (!rot) throw new NotFoundError('rotation/not_found', 'No such rotation.');
    return rot;
  }

  private async cancelLocked(
    tx: Tx,
    ctx: RequestContext,
    rot: RotationRow,
    environment: CredentialDetail['environment'],
    action: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    const now = this.clock.now();
    // Only in the state the decision was made on: a partner's confirmation does not lock the credential, so
    // an unconfirmed request read here may have been confirmed since (superseded only when asked).
    if (!(await this.repo.cancel(tx, rot.id, [rot.state], now)))
      throw new ConflictError('rotation/conflict', 'This rotation changed at the same time. Reload and try again.');
    let cancelledSecretId: string | null = null;
    if (rot.state === 'delivering' && rot.newSecretId) {
      const secret = await this.credentialsRepo.secretById(tx, rot.newSecretId);
      if (secret && (await this.credentialsRepo.cancelPendingSecret(tx, secret.id, now))) {
        cancelledSecretId = secret.id;
        if (secret.deliveryId) await this.delivery.cancel(tx, ctx, secret.deliveryId);
      }
    }
    await this.audit.record(tx, ctx, {
      action,
      subjectType: 'credential',
      subjectId: rot.credentialId,
      environment,
      detail: { rotationId: rot.id, from: rot.state, requestedBy: rot.requestedByType, cancelledSecretId, ...detail },
    });
  }

  /**
   * After a secret of this (locked) credential leaked and was revoked: an emergency rotation, approved by a
   * reviewer, replaces it without overlap. An overlap under way ends (one of its two secrets is gone); a
   * rotation not yet delivered is superseded. When the leaked secret was the retiring one of an overlap, the
   * partner already uses its successor and nothing needs replacing (null). An open emergency rotation is reused.
   */
  async openEmergencyLocked(
    tx: Tx,
    ctx: RequestContext,
    cred: { id: string; environment: CredentialDetail['environment'] },
    leaked: { id: string; retiresAt: Date | null },
  ): Promise<string | null> {
    // Read before closeLapsed: with the leaked secret revoked, an overlap would otherwise look run out on its own.
    const overlap = await this.repo.openFor(tx, cred.id);
    if (overlap?.state === 'overlap') {
      await this.repo.update(tx, overlap.id, { state: 'completed' });
      await this.audit.record(tx, ctx, {
        action: 'credential.overlap_ended',
        subjectType: 'credential',
        subjectId: cred.id,
        environment: cred.environment,
        detail: { rotationId: overlap.id, endedSecretIds: [leaked.id], reason: 'secret_leaked' },
      });
      if (leaked.retiresAt) return null;
    }
    await this.repo.closeLapsed(tx, cred.id, this.clock.now());
    const open = await this.repo.openFor(tx, cred.id);
    if (open?.origin === 'leak') return open.id;
    if (open) await this.cancelLocked(tx, ctx, open, cred.environment, 'credential.rotation_superseded', { reason: 'secret_leaked' });
    const id = randomUUID();
    const staff = ctx.actor.type === 'staff' ? ctx.actor.id : null;
    await this.repo.insert(tx, {
      id,
      credentialId: cred.id,
      state: 'awaiting_approval',
      requestedByType: staff ? 'staff' : 'system',
      requestedById: staff,
      overlapDays: 0,
      origin: 'leak',
    });
    await this.audit.record(tx, ctx, {
      action: 'credential.rotation_requested',
      subjectType: 'credential',
      subjectId: cred.id,
      environment: cred.environment,
      detail: { rotationId: id, overlapDays: 0, by: staff ? 'staff' : 'system', origin: 'leak', leakedSecretId: leaked.id },
    });
    return id;
  }

  /** Four-eyes: the approver is not whoever asked for it. Issues the new secret and hands it to delivery. */
  async approve(ctx: RequestContext, rotationId: string): Promise<RotationRow> {
    await this.prisma.transaction(async (tx) => {
      const rot = await this.lockWithCredential(tx, rotationId);
      if (rot.state !== 'awaiting_approval')
        throw new ConflictError('rotation/invalid_transition', `This rotation is ${rot.state.replace('_', ' ')}; it cannot be approved.`);
      if (rot.requestedByType === 'staff' && rot.requestedById === ctx.actor.id)
        throw new ForbiddenError('rotation/four_eyes', 'Another reviewer must approve a rotation you started.');
      const cred = await this.credentialsRepo.lockCredential(tx, rot.credentialId);
      if (!cred || cred.state !== 'active') throw new ConflictError('rotation/credential_not_active', 'Only an active credential can be rotated.');
      const detail = (await this.credentialsRepo.detail(rot.credentialId, tx))!;
      const active = detail.secrets.filter((s) => s.state === 'active' && (!s.retiresAt || s.retiresAt > this.clock.now()));
      // After a leak the leaked secret is revoked already: the emergency rotation may start from none.
      if (active.length > 1 || (active.length === 0 && rot.origin !== 'leak'))
        throw new ConflictError('rotation/overlap_running', 'End the running overlap before starting another rotation.');
      const oldSecretId = active[0]?.id ?? null;
      const newSecretId = await this.issueSecret(tx, ctx, detail, 'rotated');
      await this.repo.update(tx, rotationId, { state: 'delivering', approvedById: ctx.actor.id, approvedAt: this.clock.now(), oldSecretId, newSecretId });
      await this.audit.record(tx, ctx, {
        action: 'credential.rotation_approved',
        subjectType: 'credential',
        subjectId: cred.id,
        environment: cred.environment,
        detail: { rotationId, newSecretId, oldSecretId, origin: rot.origin },
      });
    });
    return (await this.repo.byId(rotationId))!;
  }

  private async issueSecret(tx: Tx, ctx: RequestContext, c: CredentialDetail, reason: 'rotated' | 'redelivered'): Promise<string> {
    const { secretId } = await this.credentials.createPendingSecret(tx, c.id, c.environment);
    const { deliveryId } = await this.delivery.create(tx, ctx, {
      subjectType: CREDENTIAL_SECRET_SUBJECT,
      subjectId: secretId,
      recipient: { contactId: c.contact.id, name: c.contact.name, email: c.contact.email, mobile: c.contact.mobile, language: c.contact.language },
      display: await this.catalogue.display(tx, c.partnerName, c.clientId, c.apiEnvironmentId, reason),
    });
    await this.credentialsRepo.setSecretDelivery(tx, secretId, deliveryId);
    await this.credentialsRepo.notifyChanged(tx, c.clientId);
    return secretId;
  }

  /**
   * Staff end the overlap early: every other active secret stops working on every path at once. Before
   * the old secret has been quiet for OVERLAP_QUIET_HOURS this needs two reviewers: one asks
   * (`requestEarlyEnd`), a different one ends it, and the audit row names both.
   */
  async endOverlap(ctx: RequestContext, credentialId: string): Promise<CredentialDetail> {
    const clientId = await this.prisma.transaction(async (tx) => {
      const cred = await this.credentialsRepo.lockCredential(tx, credentialId);
      if (!cred) throw new NotFoundError('credential/not_found', 'No such credential.');
      const detail = (await this.credentialsRepo.detail(credentialId, tx))!;
      const newest = detail.secrets.find((s) => s.state === 'active' && !s.retiresAt);
      const old = detail.secrets.filter((s) => s.state === 'active' && s.retiresAt);
      if (!newest || !old.length) throw new ConflictError('rotation/no_overlap', 'There is no overlap to end.');
      const rot = await this.repo.openFor(tx, credentialId);
      const quiet = this.overlapOf(detail).quietEnough;
      let override: { requestedById: string; requestedAt: string | null } | null = null;
      if (!quiet) {
        if (!rot?.earlyEndRequestedById) {
          throw new ConflictError(
            'rotation/overlap_not_quiet',
            `The old secret has not been quiet for ${this.config.credentials.overlapQuietHours} hours since the partner switched: ending the overlap now may cut off the partner. Ask for an early end; a second reviewer can then end it.`,
          );
        }
        if (rot.earlyEndRequestedById === ctx.actor.id)
          throw new ForbiddenError('rotation/four_eyes', 'You asked to end this overlap early: another reviewer must end it.');
        override = { requestedById: rot.earlyEndRequestedById, requestedAt: rot.earlyEndRequestedAt?.toISOString() ?? null };
      }
      const ended = await this.credentialsRepo.endOverlap(tx, credentialId, newest.id, this.clock.now());
      if (rot) await this.repo.update(tx, rot.id, { state: 'completed' });
      await this.audit.record(tx, ctx, {
        action: 'credential.overlap_ended',
        subjectType: 'credential',
        subjectId: credentialId,
        environment: cred.environment,
        detail: { endedSecretIds: ended, keptSecretId: newest.id, rotationId: rot?.id ?? null, early: true, quiet, override },
      });
      await this.credentialsRepo.notifyChanged(tx, cred.clientId);
      return cred.clientId;
    });
    this.registry.invalidate(clientId);
    return this.credentials.detail(credentialId);
  }

  /** The first of two reviewers asks to end an overlap that is not quiet yet (audited); a different reviewer then ends it. */
  async requestEarlyEnd(
    ctx: RequestContext,
    credentialId: string,
  ): Promise<{ credentialId: string; rotationId: string; requestedById: string; requestedAt: string }> {
    return this.prisma.transaction(async (tx) => {
      const cred = await this.credentialsRepo.lockCredential(tx, credentialId);
      if (!cred) throw new NotFoundError('credential/not_found', 'No such credential.');
      const rot = await this.repo.openFor(tx, credentialId);
      const detail = (await this.credentialsRepo.detail(credentialId, tx))!;
      if (rot?.state !== 'overlap' || !this.overlapOf(detail).inOverlap) throw new ConflictError('rotation/no_overlap', 'There is no overlap to end.');
      if (rot.earlyEndRequestedById)
        throw new ConflictError('rotation/early_end_already_requested', 'An early end of this overlap was already asked for; another reviewer can end it now.');
      if (ctx.actor.type !== 'staff' || !ctx.actor.id) throw new ForbiddenError('rotation/staff_only', 'Only staff ask to end an overlap.');
      const now = this.clock.now();
      await this.repo.update(tx, rot.id, { earlyEndRequestedById: ctx.actor.id, earlyEndRequestedAt: now });
      await this.audit.record(tx, ctx, {
        action: 'credential.overlap_early_end_requested',
        subjectType: 'credential',
        subjectId: credentialId,
        environment: cred.environment,
        detail: { rotationId: rot.id },
      });
      return { credentialId, rotationId: rot.id, requestedById: ctx.actor.id, requestedAt: now.toISOString() };
    });
  }

  /** Re-delivery: the undelivered secret and its delivery are cancelled, and a fresh secret is sent. */
  async redeliver(ctx: RequestContext, credentialId: string): Promise<{ secretId: string }> {
    return this.prisma.transaction(async (tx) => {
      const cred = await this.credentialsRepo.lockCredential(tx, credentialId);
      if (!cred) throw new NotFoundError('credential/not_found', 'No such credential.');
      if (cred.state === 'revoked') throw new ConflictError('credential/revoked', 'This credential is revoked.');
      const detail = (await this.credentialsRepo.detail(credentialId, tx))!;
      const pending = detail.secrets.find((s) => s.state === 'pending_delivery');
      if (!pending) throw new ConflictError('delivery/nothing_pending', 'There is no undelivered secret to send again.');
      const now = this.clock.now();
      await this.credentialsRepo.cancelPendingSecret(tx, pending.id, now);
      if (pending.deliveryId) await this.delivery.cancel(tx, ctx, pending.deliveryId);
      const secretId = await this.issueSecret(tx, ctx, detail, 'redelivered');
      const rot = await this.repo.openFor(tx, credentialId);
      if (rot && rot.newSecretId === pending.id) await this.repo.update(tx, rot.id, { newSecretId: secretId });
      await this.audit.record(tx, ctx, {
        action: 'credential.redelivered',
        subjectType: 'credential',
        subjectId: credentialId,
        environment: cred.environment,
        detail: { cancelledSecretId: pending.id, newSecretId: secretId },
      });
      return { secretId };
    });
  }

  rotations(credentialId: string): Promise<RotationRow[]> {
    return this.repo.listFor(credentialId);
  }

  overlapOf(c: CredentialDetail, rotations: RotationRow[] = []): OverlapView {
    const now = this.clock.now().getTime();
    const active = c.secrets.filter((s) => s.state === 'active' && (!s.retiresAt || s.retiresAt.getTime() > now));
    const newest = active.find((s) => !s.retiresAt) ?? null;
    const old = active.find((s) => s.retiresAt) ?? null;
    const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
    const quietMs = this.config.credentials.overlapQuietHours * 3_600_000;
    const newUsed = newest?.lastUsedAt?.getTime() ?? null;
    const oldUsed = old?.lastUsedAt?.getTime() ?? null;
    const switched = newUsed !== null && (oldUsed === null || oldUsed < newUsed);
    return {
      inOverlap: !!(newest && old),
      oldSecretId: old?.id ?? null,
      newSecretId: newest?.id ?? null,
      endsAt: iso(old?.retiresAt),
      oldLastUsedAt: iso(old?.lastUsedAt),
      newLastUsedAt: iso(newest?.lastUsedAt),
      switched,
      // OVERLAP_QUIET_HOURS=0 lifts the rule: any reviewer may end any overlap at once.
      quietEnough:
        !!old && (quietMs === 0 || (switched && now - Math.max(oldUsed ?? 0, old.activatedAt?.getTime() ?? 0, newest!.activatedAt?.getTime() ?? 0) >= quietMs)),
      earlyEndRequestedById: rotations.find((r) => r.state === 'overlap')?.earlyEndRequestedById ?? null,
    };
  }
}
