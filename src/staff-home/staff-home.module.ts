import { Module } from '@nestjs/common';
import { StaffModule } from '../staff/staff.module.js';
import { ReviewerDigestRepository } from './reviewer-digest.repository.js';
import { ReviewerDigest } from './reviewer-digest.js';
import { NotificationsPageController } from './notifications-page.controller.js';
import { StaffHomeController } from './staff-home.controller.js';
import { StaffHomeService } from './staff-home.service.js';

/**
 * The staff home, the overview and the messages that need attention. Features register their sections and charts on the global HomeSources at
 * module init, so this module imports none of them.
 */
@Module({
  imports: [StaffModule],
  controllers: [StaffHomeController, NotificationsPageController],
  providers: [StaffHomeService, ReviewerDigestRepository, ReviewerDigest],
  exports: [StaffHomeService, ReviewerDigest],
})
export class StaffHomeModule {}
