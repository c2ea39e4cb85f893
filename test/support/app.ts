import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FakeClock, Clock } from '../../src/common/clock.js';
import { createLogger } from '../../src/common/logger.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { PrismaService } from '../../src/prisma/prisma.service.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { createTestingApp } from './testing-app.js';

export interface TestApp {
  app: NestFastifyApplication;
  prisma: PrismaService;
  db: TestDatabase;
  config: AppConfig;
  clock: FakeClock;
  /** Every log line the app wrote, as text: tests grep it for secrets that must not be there. */
  logs: string[];
  inject: NestFastifyApplication['inject'];
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  overrides?: Array<{ provide: unknown; useValue: unknown }>;
  /** Reuse a database (e.g. for a second instance on the same database). */
  db?: TestDatabase;
  clock?: FakeClock;
}

export function testEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    SECRET_HASH_KEY: randomBytes(32).toString('base64'),
    MASTER_KEY: randomBytes(32).toString('base64'),
    PUBLIC_BASE_URL: 'http://localhost:3000',
    LOG_LEVEL: 'debug',
    // Each app its own checkpoint folder: checkpoints of one test database mean nothing for another.
    AUDIT_CHECKPOINT_DIR: mkdtempSync(join(tmpdir(), 'audit-checkpoints-')),
    ...extra,
  };
}

/** The real application on its own database clone, driven through `inject` (no port needed). */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const db = opts.db ?? (await createTestDatabase());
  const config = loadConfig(testEnv(db.url, opts.env));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const clock = opts.clock ?? new FakeClock(new Date());
  const app = await createTestingApp(config, {
    logger: createLogger(config.logLevel, sink),
    overrides: [{ provide: Clock, useValue: clock }, ...(opts.overrides ?? [])],
  });
  const prisma = app.get(PrismaService);
  return {
    app,
    prisma,
    db,
    config,
    clock,
    logs,
    inject: app.inject.bind(app),
    async close() {
      await app.close();
      if (!opts.db) await db.drop();
    },
  };
}
