import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { DeliveryService } from '../delivery/delivery.service.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { CatalogueService } from './catalogue.service.js';
import { CredentialsRepository } from './credentials.repository.js';
import { RotationsRepository, type RotationRow } from './rotations.repository.js';
import { CREDENTIAL_SECRET_SUBJECT, CredentialsService } from './credentials.service.js';
import type { CredentialDetail } from './credentials.types.js';

const OPEN_BEFORE_DELIVERY: ReadonlyArray<RotationRow['state']> = ['awaiting_confirmation', 'awaiting_approval', 'delivering'];

/**
 * Rotation: a reviewer starts it (or the partner asks, RotationRequestService), a different reviewer approves
 * (four-eyes), a new secret is delivered the two-channel way, and both work during an overlap that starts at the
 * reveal (RotationOverlapService).
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
}
