import { Module } from '@nestjs/common';
import { ClientRegistry } from './client-registry.js';
import { CredentialsRepository } from './credentials.repository.js';
import { CredentialsService } from './credentials.service.js';

@Module({
  providers: [CredentialsRepository, CredentialsService, ClientRegistry],
  exports: [CredentialsService, ClientRegistry],
})
export class CredentialsModule {}
