import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { constantTimeEqual } from '../common/crypto.js';
import { UnauthenticatedError } from '../common/domain-error.js';
import { Public } from '../common/auth.decorators.js';
import { Metrics } from './metrics.js';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Prometheus scrape; guarded by METRICS_TOKEN when one is configured (always in production). */
  @Get()
  @Public()
  async scrape(@Headers('authorization') auth: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const expected = this.config.metricsToken;
    if (expected && !constantTimeEqual(auth ?? '', `Bearer ${expected}`)) {
      throw new UnauthenticatedError('metrics/token_required', 'A bearer token is required for metrics.');
    }
    reply.type(this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
