import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../staff/auth.decorators.js';
import { UuidPipe } from './credential-id.pipe.js';
import { UpdateCatalogueEntryDto } from './credentials.dto.js';
import { CredentialsService } from './credentials.service.js';

@ApiTags('catalogue')
@Controller('api/catalogue')
export class CatalogueController {
  constructor(private readonly credentials: CredentialsService) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'APIs x environments with base URL and audience' })
  list() {
    return this.credentials.catalogue();
  }

  @Put(':apiEnvironmentId')
  @Roles('admin')
  @ApiOperation({ summary: 'Change the base URL and audience of one API environment (admins)' })
  update(@Param('apiEnvironmentId', UuidPipe) id: string, @Body() body: UpdateCatalogueEntryDto, @Ctx() ctx: RequestContext) {
    return this.credentials.updateCatalogueEntry(ctx, id, body);
  }
}
