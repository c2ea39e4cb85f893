import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pageLang } from '../common/i18n.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import type { Environment } from '../generated/prisma/enums.js';
import { Public } from '../common/auth.decorators.js';
import { ENVIRONMENTS_TEXT } from '../web/i18n/environments.text.js';
import { renderPage } from '../web/page.js';
import { CatalogueService } from './catalogue.service.js';

const ENVIRONMENTS: Environment[] = ['acceptance', 'production'];

/** The public environments page, generated from the catalogue, so it never disagrees with what is issued. */
@ApiExcludeController()
@Controller('environments')
export class EnvironmentsPageController {
  constructor(
    private readonly catalogue: CatalogueService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Public()
  async page(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const lang = pageLang(req.query, req.headers['accept-language']);
    const catalogue = await this.catalogue.catalogue();
    const issuers = Object.fromEntries(
      ENVIRONMENTS.map((e) => {
        const issuer = this.catalogue.issuerUrl(e);
        return [
          e,
          {
            issuer,
            tokenEndpoint: `${issuer}/token`,
            jwks: `${issuer}/jwks`,
            metadata: `${this.config.publicBaseUrl}/.well-known/oauth-authorization-server/oauth/${e}`,
          },
        ];
      }),
    );
    const apis = [...new Set(catalogue.map((c) => c.apiKey))].map((key) => {
      const entries = catalogue.filter((c) => c.apiKey === key);
      return { key, name: entries[0].apiName, environments: ENVIRONMENTS.map((e) => entries.find((c) => c.environment === e)).filter((c) => c !== undefined) };
    });
    return renderPage(req, reply, 'environments.eta', { title: ENVIRONMENTS_TEXT[lang].title, lang, t: ENVIRONMENTS_TEXT[lang], apis, issuers });
  }
}
