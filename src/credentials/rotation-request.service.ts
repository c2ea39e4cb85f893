import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { hmacSha256Hex, randomToken } from '../common/crypto.js';
import { InvalidInputError, NotFoundError } from '../common/domain-error.js';
import { environmentName } from '../common/i18n.js';
import type { RequestContext } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { CLIENT_ID_PATTERN } from './credential-format.js';
import { CredentialsRepository } from './credentials.repository.js';
import { RotationsRepository } from './rotations.repository.js';

/**
 * The partner's side of a rotation: a request by client_id, confirmed through a link sent to the credential's
 * technical contact. A confirmed request then waits for a reviewer's approval (RotationService).
 */
@Injectable()
export class RotationRequestService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: RotationsRepository,
    private readonly credentialsRepo: CredentialsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly notifications: NotificationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
}
