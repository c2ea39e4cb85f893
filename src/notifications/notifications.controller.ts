import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Roles } from '../common/auth.decorators.js';
import { ListNotificationsQuery, NotificationsView } from './notifications.dto.js';
import { NotificationsService } from './notifications.service.js';

@ApiTags('notifications')
@Controller('api/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'Email and SMS sent about a subject, with their fate (queued, sent, failed with the provider reason, unknown)' })
  @ApiOkResponse({ type: NotificationsView })
  @ApiErrors({ 400: INVALID })
  async list(@Query() q: ListNotificationsQuery): Promise<NotificationsView> {
    return { notifications: await this.notifications.list(q) };
  }
}
