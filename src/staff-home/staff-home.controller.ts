import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Clock } from '../common/clock.js';
import { Roles } from '../common/auth.decorators.js';
import { consoleNav, renderPage } from '../web/page.js';
import { StaffHomeService } from './staff-home.service.js';

/** The console's landing page (what waits for me) and the overview charts. */
@ApiExcludeController()
@Controller('console')
export class StaffHomeController {
  constructor(
    private readonly home: StaffHomeService,
    private readonly clock: Clock,
  ) {}

  @Get('home')
  @Roles('viewer')
  async landing(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const staff = req.staff!;
    const sections = await this.home.sections({ staffId: staff.staffId, role: staff.role }, this.clock.now());
    return renderPage(req, reply, 'console/home.eta', {
      title: 'Needs your action',
      nav: consoleNav(req, '/console/home'),
      sections,
      total: sections.reduce((n, s) => n + s.items.length, 0),
    });
  }

  @Get('overview')
  @Roles('viewer')
  async overview(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return renderPage(req, reply, 'console/overview.eta', {
      title: 'Overview',
      nav: consoleNav(req, '/console/overview'),
      charts: await this.home.charts(this.clock.now()),
    });
  }
}
