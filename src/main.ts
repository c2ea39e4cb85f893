import 'reflect-metadata';
import pino from 'pino';
import { createApp } from './app.factory.js';
import { createLogger } from './common/logger.js';
import { StartupHints } from './common/startup-hints.js';
import { ConfigError, loadConfig } from './config/config.js';
import { resolveDatabase } from './database/resolve-database.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  // Asynchronous stdout: a synchronous write per access-log line costs the token endpoint about a third of
  // its throughput. Lines written while one is in flight are coalesced; what is pending is flushed on exit.
  const destination = pino.destination({ dest: 1, sync: false });
  process.on('exit', () => {
    try {
      destination.flushSync();
    } catch {
      /* not open yet: nothing was written */
    }
  });
  const logger = createLogger(config.logLevel, destination);
  if (!config.databaseUrl) logger.info({ dataDir: config.embeddedPgDir, port: config.embeddedPgPort }, 'no DATABASE_URL: using the embedded PostgreSQL');
  const db = await resolveDatabase(config);
  config = db.config;
  const embedded = db.embedded;
  logger.info({ applied: db.applied, alreadyApplied: db.alreadyApplied }, 'migrations up to date');

  const app = await createApp(config, { logger });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    try {
      // HTTP first: stop taking connections and let requests in flight finish while the database and
      // the queue are still there; then the workers, listener and pools (module destroy hooks).
      await app.getHttpAdapter().getInstance().close();
      await app.close();
      await embedded?.stop();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  const base = config.publicBaseUrl;
  const lines = [
    '',
    `  Credential service is up (${config.nodeEnv}${embedded ? ', embedded PostgreSQL' : ''})`,
    `  Health:       ${base}/health`,
    `  API docs:     ${base}/docs`,
    ...(await startupHints(app, base)),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** Features add lines (console, outbox, demo sign-in) to the StartupHints provider. */
function startupHints(app: Awaited<ReturnType<typeof createApp>>, base: string): Promise<string[]> {
  return app.get(StartupHints).lines(base);
}

bootstrap().catch((err) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
