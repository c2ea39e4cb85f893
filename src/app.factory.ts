import type { DynamicModule, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RawServerBase } from 'fastify';
import type { Logger } from 'pino';
import { installHooks } from './app.hooks.js';
import { registerPlugins } from './app.plugins.js';
import { setupSwagger } from './app.swagger.js';
import { AppModule } from './app.module.js';
import { ErrorFilter, sendError } from './common/error.filter.js';
import { PinoNestLogger, createLogger } from './common/logger.js';
import { validationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.js';
import { fastifyTrustProxy } from './config/trust-proxy.js';

/** Creates the Nest application from the root module; tests pass one that overrides providers (the clock). */
export type AppBuilder = (
  rootModule: DynamicModule,
  adapter: FastifyAdapter<RawServerBase>,
  options: NestApplicationOptions,
) => Promise<NestFastifyApplication>;

export interface CreateAppOptions {
  logger?: Logger;
  build?: AppBuilder;
}

const nestFactoryBuilder: AppBuilder = (rootModule, adapter, options) => NestFactory.create<NestFastifyApplication>(rootModule, adapter, options);

/** Builds the whole application the same way for `main.ts`, tests and benchmarks. */
export async function createApp(config: AppConfig, opts: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const adapter = new FastifyAdapter({
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
  installHooks(app, config, logger);
  await registerPlugins(app, config);
  app.useGlobalFilters(new ErrorFilter(logger));
  app.useGlobalPipes(validationPipe());
  setupSwagger(app);
}
