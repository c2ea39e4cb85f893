import { Inject, Injectable } from '@nestjs/common';
import { ENVIRONMENT_LABELS } from '../common/i18n.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { Environment, Language } from '../generated/prisma/enums.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import type { Tx } from '../prisma/prisma.service.js';

interface MailBase {
  id: string;
  reference: string;
  version: number;
  language: Language;
  /** As the applicant typed them, never the recorded partner's name (which would tell strangers who our partners are). */
  partnerName: string;
  contactName: string;
  contact: { email: string };
  items: Array<{ apiName: string; environment: Environment }>;
  /** The partner's status link; null for requests saved before it was kept sealed. */
  statusUrl?: string | null;
}

const ENV_LABEL: Record<Language, Record<Environment, string>> = ENVIRONMENT_LABELS;

/**
 * The four partner emails of the onboarding workflow, enqueued in the caller's transaction (they are sent
 * only if the change commits). Templates: src/notifications/templates/onboarding-* (en, nl).
 */
@Injectable()
export class OnboardingNotifier {
  constructor(
    private readonly notifications: NotificationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * On submission and on resubmission; the status link is known only at these moments. Anyone can make
   * the intake send this to any address, so it carries nothing the sender typed: no names, no purpose.
   */
  received(tx: Tx, m: MailBase & { statusUrl: string }): Promise<void> {
    return this.send(tx, 'onboarding-received', m, {}, false);
  }

  approved(tx: Tx, m: MailBase & { environment: Environment; expiresAt: Date }): Promise<void> {
    return this.send(tx, 'onboarding-approved', m, {
      environment: m.environment,
      environmentLabel: ENV_LABEL[m.language][m.environment],
      expiresOn: m.expiresAt.toLocaleDateString(m.language === 'nl' ? 'nl-NL' : 'en-GB', {
        day: 'numeric',
        month: 'long',
        year: 'numeric',
        timeZone: 'Europe/Amsterdam',
      }),
      approvedItems: this.items(m).filter((i) => i.environment === m.environment),
      environmentsUrl: `${this.config.publicBaseUrl}/environments?lang=${m.language}`,
    });
  }

  rejected(tx: Tx, m: MailBase & { reason: string }): Promise<void> {
    return this.send(tx, 'onboarding-rejected', m, { reason: m.reason });
  }

  changesRequested(tx: Tx, m: MailBase & { note: string }): Promise<void> {
    return this.send(tx, 'onboarding-changes-requested', m, { note: m.note });
  }

  private items(m: MailBase) {
    return m.items.map((i) => ({ apiName: i.apiName, environment: i.environment, environmentLabel: ENV_LABEL[m.language][i.environment] }));
  }

  private send(tx: Tx, template: string, m: MailBase, extra: Record<string, unknown>, names = true): Promise<void> {
    return this.notifications.enqueueEmail(tx, {
      to: m.contact.email,
      template,
      language: m.language,
      data: {
        reference: m.reference,
        ...(names ? { partnerName: m.partnerName, contactName: m.contactName } : {}),
        items: this.items(m),
        statusUrl: m.statusUrl ?? null,
        ...extra,
      },
      // The version makes each event its own message; a retried transaction still sends once.
      idempotencyKey: `onboarding:${m.id}:${template}:${m.version}`,
      subject: { type: 'onboarding_request', id: m.id },
    });
  }
}
