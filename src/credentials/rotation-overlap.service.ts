import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { ClientRegistry } from './client-registry.js';
import { CredentialsRepository } from './credentials.repository.js';
import { CredentialsService } from './credentials.service.js';
import type { CredentialDetail } from './credentials.types.js';
import { RotationsRepository, type RotationRow } from './rotations.repository.js';

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

/**
 * The overlap after a rotation's reveal, when the old and the new secret both work: what it looks like, and
 * how staff end it early (four-eyes while the old secret has not been quiet long enough).
 */
@Injectable()
export class RotationOverlapService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: RotationsRepository,
    private readonly credentialsRepo: CredentialsRepository,
    private readonly credentials: CredentialsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly registry: ClientRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get quietHours(): number {
    return this.config.credentials.overlapQuietHours;
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
