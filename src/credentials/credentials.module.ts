import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { OnboardingModule } from '../onboarding/onboarding.module.js';
import { CatalogueController } from './catalogue.controller.js';
import { CatalogueRepository } from './catalogue.repository.js';
import { CatalogueService } from './catalogue.service.js';
import { ClientRegistry } from './client-registry.js';
import { CredentialsConfirmController } from './credentials-confirm.controller.js';
import { CredentialsConsoleController } from './credentials-console.controller.js';
import { CredentialsController } from './credentials.controller.js';
import { CredentialsRepository } from './credentials.repository.js';
import { RotationsRepository } from './rotations.repository.js';
import { RotationOverlapService } from './rotation-overlap.service.js';
import { RotationRequestService } from './rotation-request.service.js';
import { RotationService } from './rotation.service.js';
import { EnvironmentsPageController } from './environments-page.controller.js';
import { ExpiryReminders } from './expiry-reminders.js';
import { RotationPagesController } from './rotation-pages.controller.js';
import { CredentialsService } from './credentials.service.js';
import { CredentialsHome } from './credentials.home.js';
import { CredentialsQueueRepository } from './credentials-queue.repository.js';
import { SecretHashes } from './secret-hashes.js';
import { LeakReportsRepository } from './leak-reports.repository.js';
import { LeakService } from './leak.service.js';

@Module({
  imports: [OnboardingModule, DeliveryModule],
  controllers: [
    CatalogueController,
    CredentialsController,
    CredentialsConfirmController,
    CredentialsConsoleController,
    RotationPagesController,
    EnvironmentsPageController,
  ],
  providers: [
    CredentialsRepository,
    CatalogueRepository,
    RotationsRepository,
    CredentialsService,
    CatalogueService,
    RotationService,
    RotationRequestService,
    RotationOverlapService,
    ClientRegistry,
    ExpiryReminders,
    SecretHashes,
    LeakReportsRepository,
    LeakService,
    CredentialsQueueRepository,
    CredentialsHome,
  ],
  exports: [CredentialsService, CatalogueService, ClientRegistry, SecretHashes, LeakService],
})
export class CredentialsModule {}
