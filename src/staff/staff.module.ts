import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { SessionRepository } from './session.repository.js';
import { SessionService } from './session.service.js';
import { StaffAuthGuard } from './staff-auth.guard.js';

@Module({
  providers: [SessionRepository, SessionService, { provide: APP_GUARD, useClass: StaffAuthGuard }],
  exports: [SessionService],
})
export class StaffModule {}
