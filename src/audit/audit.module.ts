import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditSealer } from './audit.sealer.js';
import { AuditService } from './audit.service.js';
import { AuditVerifier } from './audit.verifier.js';
import { CheckpointStore } from './checkpoint.store.js';

/** A leaf: every feature writes to it; it imports no feature. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditRepository, AuditSealer, AuditVerifier, CheckpointStore, AuditService],
  exports: [AuditService],
})
export class AuditModule {}
