import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PartnersModule } from '../partners/partners.module.js';
import { AccountController } from './account.controller.js';
import { AuditPageController } from './audit-page.controller.js';
import { DEV_ADMIN_FILE, DevAdminSeed, defaultDevAdminFile } from './dev-admin.seed.js';
import { StaffHousekeeping } from './housekeeping.js';
import { LoginThrottleRepository } from './login-throttle.repository.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordChangeService } from './password-change.service.js';
import { PendingLoginRepository } from './pending-login.repository.js';
import { SessionRepository } from './session.repository.js';
import { SessionService } from './session.service.js';
import { SessionApiController } from './session-api.controller.js';
import { SignInController } from './sign-in.controller.js';
import { SignInService } from './sign-in.service.js';
import { StaffAdminController } from './staff-admin.controller.js';
import { StaffAuthGuard } from './staff-auth.guard.js';
import { StaffCookies } from './staff-cookies.js';
import { StaffRepository } from './staff.repository.js';
import { StaffService } from './staff.service.js';

@Module({
  imports: [PartnersModule],
  controllers: [SignInController, SessionApiController, AccountController, StaffAdminController, AuditPageController],
  providers: [
    SessionRepository,
    SessionService,
    { provide: APP_GUARD, useClass: StaffAuthGuard },
    StaffRepository,
    PendingLoginRepository,
    LoginThrottleRepository,
    LoginThrottle,
    SignInService,
    StaffService,
    PasswordChangeService,
    StaffCookies,
    DevAdminSeed,
    StaffHousekeeping,
    { provide: DEV_ADMIN_FILE, useFactory: defaultDevAdminFile },
  ],
  exports: [SessionService, StaffService, SignInService],
})
export class StaffModule {}
