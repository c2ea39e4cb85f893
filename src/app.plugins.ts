import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Eta } from 'eta';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppConfig } from './config/config.js';
import { GithubAlertEndpoint } from './secret-scanning/github-alerts.endpoint.js';
import { layoutText } from './web/i18n/layout.text.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The scanner alert endpoint's own scope, cookies, the security headers (a strict CSP), static assets and the page templates. */
export async function registerPlugins(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  // Its own scope: the signature covers the raw body bytes, so that scope's only parser keeps them.
  await app.register(app.get(GithubAlertEndpoint).plugin as never);
  await app.register(fastifyCookie as never);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: config.publicBaseUrl.startsWith('https:') ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  } as never);
  await app.register(fastifyStatic, {
    root: [join(here, 'web/public'), dirname(require.resolve('@picocss/pico/css/pico.min.css'))],
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    maxAge: '1h',
  } as never);
  const eta = new Eta({ views: join(here, 'web/views'), cache: config.nodeEnv !== 'development', autoEscape: true });
  // Error pages are rendered inside the layout from the (synchronous) exception path, so they need a sync renderer.
  app
    .getHttpAdapter()
    .getInstance()
    .decorate('renderViewSync', (template: string, data: Record<string, unknown>) =>
      eta.render(template, { publicBaseUrl: config.publicBaseUrl, L: layoutText(data.lang), ...data }),
    );
  await app.register(fastifyView, {
    engine: { eta },
    root: join(here, 'web/views'),
    viewExt: 'eta',
    defaultContext: { publicBaseUrl: config.publicBaseUrl },
  });
}
