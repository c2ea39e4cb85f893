import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenFailureLog } from '../oauth/token-failure-log.js';
import { Roles } from '../common/auth.decorators.js';
import { consoleNav, renderPage } from '../web/page.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Staff find a failed token request by the correlation id the partner quotes, or a client's recent failures. */
@ApiExcludeController()
@Controller('console')
export class TokenFailuresConsoleController {
  constructor(private readonly failures: TokenFailureLog) {}

  @Get('token-failures')
  @Roles('viewer')
  async search(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('correlationId') correlationIdIn?: string,
    @Query('clientId') clientIdIn?: string,
  ) {
    const correlationId = typeof correlationIdIn === 'string' ? correlationIdIn.trim() : '';
    const clientId = typeof clientIdIn === 'string' ? clientIdIn.trim().slice(0, 64) : '';
    const errors: Record<string, string> = {};
    let rows: Awaited<ReturnType<TokenFailureLog['find']>> | null = null;
    if (correlationId) {
      if (CORRELATION_ID.test(correlationId)) rows = await this.failures.find(correlationId);
      else errors.correlationId = 'A correlation id has letters, digits, dots, colons, dashes and underscores only (at most 128).';
    } else if (clientId) {
      rows = await this.failures.recentForClient(clientId, 50);
    }
    return renderPage(
      req,
      reply,
      'explain/failures.eta',
      {
        title: 'Failed token requests',
        nav: consoleNav(req, '/console/credentials'),
        query: { correlationId, clientId },
        errors,
        rows,
      },
      Object.keys(errors).length ? 400 : 200,
    );
  }
}
