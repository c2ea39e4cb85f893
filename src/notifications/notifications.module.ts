import { Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { StartupHints } from '../common/startup-hints.js';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { JobQueue } from './job-queue.js';
import { NotificationRepository } from './notification.repository.js';
import { NotificationsController } from './notifications.controller.js';
import { NotificationsHome } from './notifications.home.js';
import { NotificationsService } from './notifications.service.js';
import { DevOutbox } from './outbox.js';
import { PhoneLookup } from './phone-lookup.js';
import { MessageSender, createSender } from './senders.js';
import { TemplateRenderer } from './templates.js';

/** A leaf: features enqueue email and SMS through NotificationsService; it imports no feature. */
@Global()
@Module({
  controllers: [NotificationsController],
  providers: [
    JobQueue,
    DevOutbox,
    TemplateRenderer,
    NotificationRepository,
    NotificationsService,
    NotificationsHome,
    PhoneLookup,
    { provide: MessageSender, useFactory: createSender, inject: [APP_CONFIG, DevOutbox, LOGGER] },
  ],
  exports: [NotificationsService, JobQueue, DevOutbox, PhoneLookup],
})
export class NotificationsModule implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly hints: StartupHints,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    if (this.config.devOutbox) {
      this.hints.add((base) => [`  Dev outbox:   ${base}/dev/outbox   (email and SMS are captured there, not sent)`]);
    } else if (this.config.nodeEnv !== 'test') {
      if (!this.config.smtpUrl) this.logger.warn('SMTP_URL is not set: email stays queued until it is');
      if (!this.config.twilio.accountSid || !this.config.twilio.authToken || !this.config.twilio.from)
        this.logger.warn('TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN/TWILIO_FROM are not all set: SMS stays queued until they are');
    }
  }
}
