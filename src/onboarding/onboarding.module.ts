import { Module, type OnModuleInit } from '@nestjs/common';
import { StartupHints } from '../common/startup-hints.js';
import { PartnersModule } from '../partners/partners.module.js';
import { ContactLineService } from './contact-line.service.js';
import { ConsoleRequestsController } from './console-requests.controller.js';
import { IntakeController } from './intake.controller.js';
import { IntakeGuard } from './intake-guard.js';
import { OnboardingController } from './onboarding.controller.js';
import { OnboardingHome } from './onboarding.home.js';
import { OnboardingNotifier } from './onboarding.notifier.js';
import { OnboardingQueueRepository } from './onboarding-queue.repository.js';
import { OnboardingRepository } from './onboarding.repository.js';
import { OnboardingRequestReader } from './onboarding-request.reader.js';
import { OnboardingReviewService } from './onboarding-review.service.js';
import { OnboardingService } from './onboarding.service.js';
import { OnboardingTransitions } from './onboarding.transitions.js';

@Module({
  // NotificationsModule is global (a leaf every feature writes to).
  imports: [PartnersModule],
  controllers: [OnboardingController, IntakeController, ConsoleRequestsController],
  providers: [
    OnboardingRepository,
    IntakeGuard,
    ContactLineService,
    OnboardingTransitions,
    OnboardingRequestReader,
    OnboardingService,
    OnboardingReviewService,
    OnboardingNotifier,
    OnboardingQueueRepository,
    OnboardingHome,
  ],
  exports: [OnboardingService, OnboardingReviewService],
})
export class OnboardingModule implements OnModuleInit {
  constructor(private readonly hints: StartupHints) {}

  onModuleInit(): void {
    this.hints.add((base) => [`  Apply for API access (partners): ${base}/apply`, `  Onboarding requests (staff):     ${base}/console/requests`]);
  }
}
