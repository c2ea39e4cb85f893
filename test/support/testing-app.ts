import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { Logger } from 'pino';
import { createApp } from '../../src/app.factory.js';
import type { AppConfig } from '../../src/config/config.js';

export interface TestingAppOptions {
  logger?: Logger;
  /** Providers that cross the process boundary (the clock, file locations) replaced for a test. */
  overrides?: Array<{ provide: unknown; useValue: unknown }>;
  extraImports?: ModuleMetadata['imports'];
}

/** The whole application as `main.ts` builds it, through Nest's testing module so providers can be overridden. */
export function createTestingApp(config: AppConfig, opts: TestingAppOptions = {}): Promise<NestFastifyApplication> {
  return createApp(config, {
    logger: opts.logger,
    build: async (rootModule, adapter, options) => {
      let builder = Test.createTestingModule({ imports: [rootModule, ...(opts.extraImports ?? [])] });
      for (const o of opts.overrides ?? []) builder = builder.overrideProvider(o.provide).useValue(o.useValue);
      const moduleRef = await builder.compile();
      return moduleRef.createNestApplication<NestFastifyApplication>(adapter, options);
    },
  });
}
