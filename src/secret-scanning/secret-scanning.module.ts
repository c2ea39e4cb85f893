import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module.js';
import { GithubAlertEndpoint } from './github-alerts.endpoint.js';
import { GithubKeys } from './github-keys.js';
import { LeakPagesController } from './leak-pages.controller.js';

/** Leaked secrets: GitHub's secret scanning alerts, the public report form and the staff's leak reports. */
@Module({
  imports: [CredentialsModule],
  controllers: [LeakPagesController],
  providers: [GithubKeys, GithubAlertEndpoint],
  exports: [GithubKeys],
})
export class SecretScanningModule {}
