import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditModule } from './audit/audit.module.js';
import { CheckpointScheduleModule } from './notifications/audit-checkpoint.schedule.js';
import { CommonModule } from './common/common.module.js';
import { LoggerModule } from './common/logger.module.js';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/config.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PrismaModule } from './prisma/prisma.module.js';
import { StaffModule } from './staff/staff.module.js';
import { WebModule } from './web/web.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { PartnersModule } from './partners/partners.module.js';
import { OnboardingModule } from './onboarding/onboarding.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { CredentialsModule } from './credentials/credentials.module.js';
import { OauthModule } from './oauth/oauth.module.js';
import { KeysModule } from './keys/keys.module.js';
import { ExplainModule } from './explain/explain.module.js';
import { SecretScanningModule } from './secret-scanning/secret-scanning.module.js';
import { StaffHomeModule } from './staff-home/staff-home.module.js';

@Module({})
export class AppModule {
  static register(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logger),
        CommonModule,
        PrismaModule,
        MetricsModule,
        AuditModule,
        StaffModule,
        HealthModule,
        WebModule,
        NotificationsModule,
        PartnersModule,
        OnboardingModule,
        DeliveryModule,
        CredentialsModule,
        OauthModule,
        KeysModule,
        ExplainModule,
        SecretScanningModule,
        StaffHomeModule,
        CheckpointScheduleModule,
      ],
    };
  }
}
