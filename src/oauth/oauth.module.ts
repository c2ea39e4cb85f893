import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { FailureLimiterRepository } from './failure-limiter.repository.js';
import { FailureLimiter } from './failure-limiter.js';
import { OAuthEndpoints } from './oauth-endpoints.js';
import { OauthController } from './oauth.controller.js';
import { SigningKeysRepository } from './signing-keys.repository.js';
import { SigningKeysService } from './signing-keys.service.js';
import { TokenFailureLogRepository } from './token-failure-log.repository.js';
import { TokenFailureLog } from './token-failure-log.js';
import { TokenCountsFlusher, TokenCountsRepository } from './token-counts.js';
import { TokenService } from './token.service.js';

/** The token service: reads clients only through credentials' exported ClientRegistry. */
@Module({
  imports: [CredentialsModule],
  controllers: [OauthController],
  providers: [
    SigningKeysRepository,
    SigningKeysService,
    FailureLimiterRepository,
    FailureLimiter,
    TokenService,
    OAuthEndpoints,
    TokenFailureLogRepository,
    TokenFailureLog,
    TokenCountsRepository,
    TokenCountsFlusher,
  ],
  exports: [TokenService, SigningKeysService, OAuthEndpoints, TokenFailureLog, TokenCountsFlusher],
})
export class OauthModule {}
