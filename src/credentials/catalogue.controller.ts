import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Roles } from '../common/auth.decorators.js';
import { UuidPipe } from './credential-id.pipe.js';
import { UpdateCatalogueEntryDto } from './credentials.dto.js';
import { CatalogueService } from './catalogue.service.js';
import { CatalogueEntryView, toCatalogueEntryView } from './credentials.views.js';

@ApiTags('catalogue')
@Controller('api/catalogue')
export class CatalogueController {
  constructor(private readonly catalogue: CatalogueService) {}

  @Get()
  @Roles('viewer')
  @ApiOperation({ summary: 'APIs x environments with base URL and audience' })
  @ApiOkResponse({ type: [CatalogueEntryView] })
  async list(): Promise<CatalogueEntryView[]> {
    return (await this.catalogue.catalogue()).map(toCatalogueEntryView);
  }

  @Put(':apiEnvironmentId')
  @Roles('admin')
  @ApiOperation({ summary: 'Change the base URL and audience of one API environment (admins)' })
  @ApiOkResponse({ type: CatalogueEntryView })
  @ApiErrors({
    400: `catalogue/invalid_url, catalogue/invalid_audience, ${INVALID}`,
    404: 'catalogue/not_found, request/not_found (malformed id)',
    409: 'catalogue/audience_taken',
  })
  async update(
    @Param('apiEnvironmentId', UuidPipe) id: string,
    @Body() body: UpdateCatalogueEntryDto,
    @Ctx() ctx: RequestContext,
  ): Promise<CatalogueEntryView> {
    return toCatalogueEntryView(await this.catalogue.updateCatalogueEntry(ctx, id, body));
  }
}
