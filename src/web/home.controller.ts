import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth.decorators.js';
import { renderPage } from './page.js';

@ApiExcludeController()
@Controller()
export class HomeController {
  @Get()
  @Public()
  home(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return renderPage(req, reply, 'home.eta', { title: 'Partner API credentials' });
  }
}
