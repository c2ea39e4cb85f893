import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { OauthModule } from '../oauth/oauth.module.js';
import { ExplainRateLimit, ExplainRateLimitRepository } from './explain-rate-limit.js';
import { TokenExplainController } from './token-explain.controller.js';
import { TokenExplainService } from './token-explain.service.js';
import { TokenFailuresConsoleController } from './token-failures-console.controller.js';

/** "Why was my token refused?": the public explainer and the staff lookup of failed token requests. */
@Module({
  imports: [CredentialsModule, OauthModule],
  controllers: [TokenExplainController, TokenFailuresConsoleController],
  providers: [TokenExplainService, ExplainRateLimitRepository, ExplainRateLimit],
})
export class ExplainModule {}
