import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorView } from './common/api-docs.js';
import { documentGithubAlerts } from './secret-scanning/github-alerts.docs.js';

/** The OpenAPI document at /docs/openapi.json and Swagger UI at /docs. */
export function setupSwagger(app: NestFastifyApplication): void {
  const openapi = new DocumentBuilder()
    .setTitle('Credential onboarding and rotation service')
    .setDescription('Onboarding requests, client credentials per API and environment, two-channel secret delivery, and the OAuth 2.0 token service.')
    .setVersion('1')
    .addCookieAuth('staff_session', { type: 'apiKey', in: 'cookie', name: 'staff_session' }, 'staff-session')
    .addGlobalResponse({
      status: 503,
      type: ErrorView,
      description: 'service/database_unavailable: the database does not answer; nothing was changed (Retry-After)',
    })
    .build();
  SwaggerModule.setup('docs', app, () => documentGithubAlerts(SwaggerModule.createDocument(app, openapi)), {
    jsonDocumentUrl: 'docs/openapi.json',
  });
}

/** Swagger UI sets inline styles; it alone gets 'unsafe-inline' styles (never scripts). */
export function relaxDocsCsp(req: FastifyRequest, reply: FastifyReply): void {
  if (req.url === '/docs' || req.url.startsWith('/docs/')) {
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string') reply.header('content-security-policy', csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"));
  }
}
