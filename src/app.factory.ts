import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { ValidationPipe, type DynamicModule, type INestApplication, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { ErrorView } from './common/api-docs.js';
import { InvalidInputError } from './common/domain-error.js';
import { ErrorFilter, isOAuthPath, sendError } from './common/error.filter.js';
import { contextFromRequest } from './common/http-context.js';
import { PinoNestLogger, createLogger } from './common/logger.js';
import { requestContextStorage } from './common/request-context.js';
import type { AppConfig } from './config/config.js';
import { fastifyTrustProxy } from './config/trust-proxy.js';
import { Metrics } from './metrics/metrics.js';
import { OAuthEndpoints } from './oauth/oauth-endpoints.js';
import { GithubAlertEndpoint } from './secret-scanning/github-alerts.endpoint.js';
import { documentGithubAlerts } from './secret-scanning/github-alerts.docs.js';
import type { ValidationError } from 'class-validator';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Creates the Nest application from the root module; tests pass one that overrides providers (the clock). */
export type AppBuilder = (rootModule: DynamicModule, adapter: FastifyAdapter<any>, options: NestApplicationOptions) => Promise<NestFastifyApplication>;

export interface CreateAppOptions {
  logger?: Logger;
  build?: AppBuilder;
}

const nestFactoryBuilder: AppBuilder = (rootModule, adapter, options) => NestFactory.create<NestFastifyApplication>(rootModule, adapter, options);

/** Builds the whole application the same way for `main.ts`, tests and benchmarks. */
export async function createApp(config: AppConfig, opts: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const adapter: FastifyAdapter<any> = new FastifyAdapter({
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: 256 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    genReqId: () => '',
    // Malformed URLs are refused by the router before any hook runs: same error contract as everything else.
    frameworkErrors: (err: unknown, req: FastifyRequest, reply: FastifyReply) => sendError(err, req, reply, logger),
  } as ConstructorParameters<typeof FastifyAdapter>[0]);
  const rootModule = AppModule.register(config, logger);
  const build = opts.build ?? nestFactoryBuilder;
  const app = await build(rootModule, adapter, { logger: new PinoNestLogger(logger), bufferLogs: false, abortOnError: false });
  await configureApp(app, config, logger);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

async function configureApp(app: NestFastifyApplication, config: AppConfig, logger: Logger): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.decorate('deploymentName', config.nodeEnv);
  // The OAuth POST endpoints skip Nest's per-request pipeline: Fastify calls their handlers directly.
  const oauthRoutes = app.get(OAuthEndpoints).fastRoutes();
  fastify.addHook('onRoute', (route) => {
    const direct = typeof route.method === 'string' ? oauthRoutes.get(`${route.method} ${route.url}`) : undefined;
    if (direct) route.handler = direct;
  });
  const metrics = app.get(Metrics);
  // Errors thrown by plugin routes (Swagger UI, static files) never reach Nest's filter: map them the same way.
  // Plugins registered below inherit this handler; Nest then sets its own at the root during init, which
  // Fastify reports as FSTWRN004 (silenced with --disable-warning in the start scripts: it is intended).
  fastify.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => sendError(err, req, reply, logger));

  fastify.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    req.ctx = contextFromRequest(req);
    reply.header('x-correlation-id', req.ctx.correlationId);
    requestContextStorage.run(req.ctx, done);
  });
  // Swagger UI sets inline styles; it alone gets 'unsafe-inline' styles (never scripts).
  fastify.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => {
    if (req.url === '/docs' || req.url.startsWith('/docs/')) {
      const csp = reply.getHeader('content-security-policy');
      if (typeof csp === 'string') reply.header('content-security-policy', csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"));
    }
    done(null, payload);
  });
  // class-transformer recurses without a limit and trips over nested `constructor` keys; validator's isEmail
  // throws on lone surrogates; PostgreSQL refuses NUL in text. Refuse such input before any DTO or query sees
  // it (a 400, not a 500).
  // The OAuth endpoints read their flat form parameters themselves and answer such input per RFC 6749
  // (a control character in credentials is a failed client authentication, not a malformed request).
  fastify.addHook('preValidation', (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) =>
    done(isOAuthPath(req.url) ? undefined : (inputShapeError(req.body) ?? inputShapeError(req.query) ?? inputShapeError(req.params))),
  );
  fastify.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // The route template, never the raw URL: paths and queries may carry one-time tokens.
    const route = req.routeOptions?.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: req.method, route }, seconds);
    logger.info({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime), correlationId: req.ctx?.correlationId, ip: req.ctx?.clientIp }, 'request');
    done();
  });

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
  await app.register(fastifyView, {
    engine: { eta: new Eta({ views: join(here, 'web/views'), cache: config.nodeEnv !== 'development', autoEscape: true }) },
    root: join(here, 'web/views'),
    viewExt: 'eta',
    defaultContext: { publicBaseUrl: config.publicBaseUrl },
  });

  app.useGlobalFilters(new ErrorFilter(logger));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) => new InvalidInputError('request/validation_failed', 'Some fields are missing or not valid.', { fields: fieldMessages(errors) }),
    }),
  );

  const openapi = new DocumentBuilder()
    .setTitle('Credential onboarding and rotation service')
    .setDescription('Onboarding requests, client credentials per API and environment, two-channel secret delivery, and the OAuth 2.0 token service.')
    .setVersion('1')
    .addCookieAuth('staff_session', { type: 'apiKey', in: 'cookie', name: 'staff_session' }, 'staff-session')
    .addGlobalResponse({ status: 503, type: ErrorView, description: 'service/database_unavailable: the database does not answer; nothing was changed (Retry-After)' })
    .build();
  SwaggerModule.setup('docs', app, () => documentGithubAlerts(SwaggerModule.createDocument(app, openapi)), {
    jsonDocumentUrl: 'docs/openapi.json',
  });
}

const MAX_BODY_DEPTH = 32;
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const MALFORMED_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function inputShapeError(input: unknown): InvalidInputError | undefined {
  const stack: Array<[unknown, number]> = [[input, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string' && MALFORMED_TEXT.test(value)) return new InvalidInputError('request/malformed_text', 'The request holds text with a NUL character or broken Unicode.');
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) continue;
    if (depth >= MAX_BODY_DEPTH) return new InvalidInputError('request/too_deeply_nested', `The request body is nested deeper than ${MAX_BODY_DEPTH} levels.`);
    for (const key of Object.keys(value)) {
      if (POISON_KEYS.has(key)) return new InvalidInputError('request/forbidden_field', `The field name "${key}" is not accepted.`);
      if (MALFORMED_TEXT.test(key)) return new InvalidInputError('request/malformed_text', 'The request holds a field name with a NUL character or broken Unicode.');
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}

function fieldMessages(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out[path] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, fieldMessages(e.children, path));
  }
  return out;
}
