import { Module } from '@nestjs/common';
import { OauthModule } from '../oauth/oauth.module.js';
import { KeyRotationRepository } from './key-rotation.repository.js';
import { KeyRotationService } from './key-rotation.service.js';
import { KeysController } from './keys.controller.js';

/** Rotation of the service's own keys: re-sealing under a new master key, where each key is in use, signing key withdrawal. */
@Module({ imports: [OauthModule], controllers: [KeysController], providers: [KeyRotationRepository, KeyRotationService], exports: [KeyRotationService] })
export class KeysModule {}
