import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../common/domain-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Public } from '../common/auth.decorators.js';
import { renderPage } from './page.js';
import { DevOutbox, type CapturedMessage } from '../notifications/outbox.js';

/**
 * The development outbox pages. They answer 404 unless DEV_OUTBOX is on (which loadConfig refuses in
 * production), exactly as if the routes did not exist.
 */
@ApiExcludeController()
@Controller('dev')
export class OutboxController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: DevOutbox,
  ) {}

  @Get('outbox')
  @Public()
  page(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const messages = this.messages().map((m) => ({ ...m, links: linksIn(m.text) }));
    return renderPage(req, reply, 'dev/outbox.eta', { title: 'Development outbox', messages });
  }

  @Get('outbox.json')
  @Public()
  json(@Res() reply: FastifyReply) {
    const messages = this.messages();
    return reply.header('cache-control', 'no-store').send({ messages });
  }

  private messages(): CapturedMessage[] {
    if (!this.config.devOutbox) throw new NotFoundError('request/not_found', 'Not found.');
    return this.outbox.list();
  }
}

function linksIn(text: string): string[] {
  return [...new Set(text.match(/https?:\/\/[^\s<>"]+/g) ?? [])];
}
