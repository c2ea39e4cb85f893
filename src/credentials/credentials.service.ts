import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { hmacSha256Hex } from '../common/crypto.js';
import { keyId } from '../common/keyring.js';
import { ConflictError, NotFoundError } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { Environment } from '../generated/prisma/enums.js';
import { PrismaService, type Tx } from '../prisma/prisma.service.js';
import { DeliveryService } from '../delivery/delivery.service.js';
import type { DeliveryStatus } from '../delivery/delivery.types.js';
import { OnboardingReviewService } from '../onboarding/onboarding-review.service.js';
import type { IssuableApproval } from '../onboarding/onboarding.types.js';
import { StartupHints } from '../common/startup-hints.js';
import { ClientRegistry } from './client-registry.js';
import { newClientId, newClientSecret, secretHint } from './credential-format.js';
import { CatalogueService } from './catalogue.service.js';
import { CredentialsRepository } from './credentials.repository.js';
import { RotationsRepository } from './rotations.repository.js';
import type { CredentialDetail, CredentialFilter, CredentialListItem } from './credentials.types.js';

export const DAY_MS = 86_400_000;
export const CREDENTIAL_SECRET_SUBJECT = 'credential_secret';

export interface NewCredentialInput {
  partnerId: string;
  contactId: string;
  onboardingRequestId: string | null;
  apiEnvironmentId: string;
  environment: Environment;
}

/** A credential whose secret delivery will make when the link email is sent (`renewPendingSecret`). */
export interface PendingSecret {
  credentialId: string;
  clientId: string;
  secretId: string;
}

export interface IssuedCredentialView {
  credentialId: string;
  clientId: string;
  apiName: string;
  environment: Environment;
  deliveryId: string;
}

@Injectable()
export class CredentialsService implements OnModuleInit {
  constructor(
    private readonly onboardingReview: OnboardingReviewService,
    private readonly delivery: DeliveryService,
    private readonly hints: StartupHints,
    private readonly prisma: PrismaService,
    private readonly repo: CredentialsRepository,
    private readonly catalogue: CatalogueService,
    private readonly rotations: RotationsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly registry: ClientRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // Deliver-before-activate: the secret becomes usable inside the transaction that reveals it.
    this.delivery.registerSecretIssuer(CREDENTIAL_SECRET_SUBJECT, (tx, secretId) => this.renewPendingSecret(tx, secretId));
    // Lock order: the credential before its delivery, in every transaction that touches both.
    this.delivery.registerOwnerLock(CREDENTIAL_SECRET_SUBJECT, async (tx, secretId) => {
      const secret = await this.repo.secretById(tx, secretId);
      if (secret) await this.repo.lockCredential(tx, secret.credentialId);
    });
    this.delivery.registerRevealHandler(CREDENTIAL_SECRET_SUBJECT, async (tx, ctx, revealed) => ({
      previousSecretEndsAt: (await this.activateOnReveal(tx, ctx, revealed.subjectId)).overlapEndsAt,
    }));
    this.hints.add((base) => [
      `  OAuth issuers:   ${base}/oauth/acceptance  and  ${base}/oauth/production`,
      `  Credentials (staff):             ${base}/console/credentials`,
    ]);
  }

  get defaultOverlapDays(): number {
    return this.config.credentials.overlapDays;
  }

  hashSecret(secret: string): string {
    return hmacSha256Hex(this.config.secretHashKey, secret);
  }

  get secretHashKid(): string {
    return keyId(this.config.secretHashKey);
  }

  // ---------------------------------------------------------------- issuing and activation
  listIssuable(): Promise<IssuableApproval[]> {
    return this.onboardingReview.listIssuable();
  }

  /**
   * Issues one credential per approved (API, environment) of the request, in one transaction: the approval
   * is taken (exactly once), each credential is created in `pending_delivery` and its secret handed to delivery.
   * Four-eyes lives in the approval itself: any reviewer may issue from a valid approval, the approver included.
   */
  async issue(
    ctx: RequestContext,
    requestId: string,
    environment: Environment,
  ): Promise<{ requestId: string; reference: string; environment: Environment; credentials: IssuedCredentialView[] }> {
    return this.prisma.transaction(
      async (tx) => {
        const approval = await this.onboardingReview.takeApprovalForIssuing(tx, ctx, requestId, environment);
        const issued: IssuedCredentialView[] = [];
        for (const item of approval.items.filter((i) => i.environment === environment)) {
          const pending = await this.createPendingCredential(tx, ctx, {
            partnerId: approval.partner.id,
            contactId: approval.contact.id,
            onboardingRequestId: approval.requestId,
            apiEnvironmentId: item.apiEnvironmentId,
            environment,
          });
          const { deliveryId } = await this.delivery.create(tx, ctx, {
            subjectType: CREDENTIAL_SECRET_SUBJECT,
            subjectId: pending.secretId,
            recipient: {
              contactId: approval.contact.id,
              name: approval.contact.name,
              email: approval.contact.email,
              mobile: approval.contact.mobile,
              language: approval.contact.language,
            },
            display: await this.catalogue.display(tx, approval.partner.legalName, pending.clientId, item.apiEnvironmentId, 'issued'),
          });
          await this.linkDelivery(tx, pending.secretId, deliveryId);
          issued.push({ credentialId: pending.credentialId, clientId: pending.clientId, apiName: item.apiName, environment, deliveryId });
        }
        return { requestId, reference: approval.reference, environment, credentials: issued };
      },
      { timeoutMs: 30_000 },
    );
  }

  deliveryStatus(secretIds: string[]): Promise<DeliveryStatus[]> {
    return secretIds.length ? this.delivery.statusFor(CREDENTIAL_SECRET_SUBJECT, secretIds) : Promise.resolve([]);
  }

  /**
   * Creates a credential in `pending_delivery` with its first secret slot, inside the caller's transaction.
   * The secret itself is made when delivery sends the link (`renewPendingSecret`).
   */
  async createPendingCredential(tx: Tx, ctx: RequestContext, input: NewCredentialInput): Promise<PendingSecret> {
    const credentialId = randomUUID();
    const clientId = newClientId(input.environment);
    await this.repo.createCredential(tx, {
      id: credentialId,
      clientId,
      partnerId: input.partnerId,
      contactId: input.contactId,
      onboardingRequestId: input.onboardingRequestId,
      apiEnvironmentId: input.apiEnvironmentId,
      environment: input.environment,
      issuedById: ctx.actor.type === 'staff' ? ctx.actor.id : null,
    });
    const { secretId } = await this.createPendingSecret(tx, credentialId, input.environment);
    await this.audit.record(tx, ctx, {
      action: 'credential.issued',
      subjectType: 'credential',
      subjectId: credentialId,
      environment: input.environment,
      detail: { clientId, secretId, partnerId: input.partnerId, apiEnvironmentId: input.apiEnvironmentId, onboardingRequestId: input.onboardingRequestId },
    });
    await this.repo.notifyChanged(tx, clientId);
    return { credentialId, clientId, secretId };
  }

  /** A pending secret slot; its hash is of a value nobody keeps until delivery makes the real secret. */
  async createPendingSecret(tx: Tx, credentialId: string, environment: Environment): Promise<{ secretId: string }> {
    const secretId = randomUUID();
    const placeholder = newClientSecret(environment);
    // Provisional expiry; the lifetime counts from activation (reveal).
    const expiresAt = new Date(this.clock.now().getTime() + this.config.credentials.secretLifetimeDays * DAY_MS);
    await this.repo.createSecret(tx, {
      id: secretId,
      credentialId,
      secretHash: this.hashSecret(placeholder),
      secretHashKid: this.secretHashKid,
      hint: secretHint(placeholder).slice(0, -4),
      expiresAt,
    });
    return { secretId };
  }

  /**
   * Delivery's secret issuer: called as the link email is sent (again on each retry), it gives the pending
   * secret a fresh value and keeps only its hash; the plaintext goes to delivery, sealed under the new link.
   */
  async renewPendingSecret(tx: Tx, secretId: string): Promise<string> {
    const found = await this.repo.secretById(tx, secretId);
    if (!found) throw new NotFoundError('credential/secret_not_found', 'The secret to deliver does not exist.');
    const cred = await this.repo.lockCredential(tx, found.credentialId);
    if (!cred || cred.state === 'revoked') throw new ConflictError('credential/revoked', 'This credential has been revoked; its secret is not sent.');
    const secret = newClientSecret(cred.environment);
    if (
      !(await this.repo.renewPendingSecret(tx, secretId, { secretHash: this.hashSecret(secret), secretHashKid: this.secretHashKid, hint: secretHint(secret) }))
    ) {
      throw new ConflictError('credential/not_pending', 'This secret is no longer waiting to be delivered.');
    }
    await this.repo.notifyChanged(tx, cred.clientId);
    return secret;
  }

  linkDelivery(tx: Tx, secretId: string, deliveryId: string): Promise<void> {
    return this.repo.setSecretDelivery(tx, secretId, deliveryId);
  }

  /**
   * Deliver-before-activate: runs inside delivery's reveal transaction. The revealed secret becomes active
   * (taking one of the two slots); any other active secret starts its overlap window (`overlapDays`).
   */
  async activateOnReveal(tx: Tx, ctx: RequestContext, secretId: string): Promise<{ credentialId: string; clientId: string; overlapEndsAt: Date | null }> {
    const now = this.clock.now();
    const secret = await this.repo.secretById(tx, secretId);
    if (!secret) throw new NotFoundError('credential/secret_not_found', 'The secret being revealed does not exist.');
    const cred = await this.repo.lockCredential(tx, secret.credentialId);
    if (!cred) throw new NotFoundError('credential/not_found', 'The credential does not exist.');
    if (cred.state === 'revoked') throw new ConflictError('credential/revoked', 'This credential has been revoked; its secret can no longer be shown.');
    await this.repo.retireLapsedSecrets(tx, cred.id, now);
    const expiresAt = new Date(now.getTime() + this.config.credentials.secretLifetimeDays * DAY_MS);
    if (!(await this.repo.activateSecret(tx, secretId, now, expiresAt))) {
      throw new ConflictError('credential/cannot_activate', 'This secret cannot be activated (it is not pending, or two secrets are already active).');
    }
    const rotation = await this.rotations.byNewSecret(tx, secretId);
    const overlapDays = rotation?.state === 'delivering' ? rotation.overlapDays : this.config.credentials.overlapDays;
    const retiresAt = new Date(now.getTime() + overlapDays * DAY_MS);
    const others = await this.repo.scheduleRetirementOfOthers(tx, cred.id, secretId, retiresAt);
    const overlapEndsAt = others.length ? retiresAt : null;
    if (overlapDays === 0 && others.length) await this.repo.endOverlap(tx, cred.id, secretId, now);
    await this.repo.activateCredential(tx, cred.id, now);
    if (rotation?.state === 'delivering') await this.rotations.update(tx, rotation.id, { state: others.length && overlapDays > 0 ? 'overlap' : 'completed' });
    await this.audit.record(tx, ctx, {
      action: 'credential.secret_activated',
      subjectType: 'credential',
      subjectId: cred.id,
      environment: cred.environment,
      detail: {
        clientId: cred.clientId,
        secretId,
        expiresAt: expiresAt.toISOString(),
        overlapEndsAt: overlapEndsAt?.toISOString() ?? null,
        previousSecretIds: others,
        rotationId: rotation?.id ?? null,
      },
    });
    await this.repo.notifyChanged(tx, cred.clientId);
    return { credentialId: cred.id, clientId: cred.clientId, overlapEndsAt };
  }

  // ---------------------------------------------------------------- revocation
  async revoke(ctx: RequestContext, credentialId: string, reason: string): Promise<CredentialDetail> {
    const clientId = await this.prisma.transaction(async (tx) => {
      const cred = await this.repo.lockCredential(tx, credentialId);
      if (!cred) throw new NotFoundError('credential/not_found', 'No such credential.');
      if (cred.state === 'revoked') throw new ConflictError('credential/already_revoked', 'This credential is already revoked.');
      await this.revokeLocked(tx, ctx, cred, reason);
      return cred.clientId;
    });
    // Refused on this instance from the next request, before its own NOTIFY comes back.
    this.registry.invalidate(clientId);
    return (await this.repo.detail(credentialId))!;
  }

  async revokeAllOfPartner(ctx: RequestContext, partnerId: string, reason: string): Promise<{ revoked: string[] }> {
    const revoked = await this.prisma.transaction(async (tx) => {
      const ids = await this.repo.openCredentialIdsOfPartner(tx, partnerId);
      const done: Array<{ id: string; clientId: string }> = [];
      for (const id of ids.sort()) {
        const cred = await this.repo.lockCredential(tx, id);
        if (cred && cred.state !== 'revoked') {
          await this.revokeLocked(tx, ctx, cred, reason);
          done.push(cred);
        }
      }
      await this.audit.record(tx, ctx, {
        action: 'partner.credentials_revoked',
        subjectType: 'partner',
        subjectId: partnerId,
        detail: { credentialIds: done.map((c) => c.id), reason },
      });
      return done;
    });
    for (const c of revoked) this.registry.invalidate(c.clientId);
    return { revoked: revoked.map((c) => c.id) };
  }

  private async revokeLocked(tx: Tx, ctx: RequestContext, cred: { id: string; clientId: string; environment: Environment }, reason: string): Promise<void> {
    const now = this.clock.now();
    await this.repo.revokeCredential(tx, cred.id, now, ctx.actor.type === 'staff' ? ctx.actor.id : null, reason);
    await this.audit.record(tx, ctx, {
      action: 'credential.revoked',
      subjectType: 'credential',
      subjectId: cred.id,
      environment: cred.environment,
      detail: { clientId: cred.clientId, reason },
    });
    await this.repo.notifyChanged(tx, cred.clientId);
  }

  // ---------------------------------------------------------------- reading
  /** The partner's credentials that are not revoked yet (what "revoke all" would revoke). */
  async openOfPartner(partnerId: string): Promise<CredentialListItem[]> {
    return (await this.repo.list({ partnerId, limit: 10_000, sort: 'oldest' })).filter((c) => c.state !== 'revoked');
  }

  list(filter: CredentialFilter): Promise<CredentialListItem[]> {
    return this.repo.list(filter);
  }

  async detail(credentialId: string): Promise<CredentialDetail> {
    const d = await this.repo.detail(credentialId);
    if (!d) throw new NotFoundError('credential/not_found', 'No such credential.');
    return d;
  }
}
