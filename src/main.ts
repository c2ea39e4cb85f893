import 'reflect-metadata';
import { createLogDestination, createLogger } from './common/logger.js';
import { ConfigError, loadConfig } from './config/config.js';
import { resolveDatabase } from './database/resolve-database.js';
import { DatabaseRoleError } from './database/runtime-checks.js';

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
  // Buffered stdout (see createLogDestination): flushed on exit, whatever the exit path.
  const destination = createLogDestination();
  // The application's modules take a few seconds to load on a busy machine: load them while the database
  // starts and is checked, not after.
  const loading = Promise.all([import('./app.factory.js'), import('./common/startup-hints.js')]);
  loading.catch(() => undefined);
  const logger = createLogger(config.logLevel, destination);
  if (!config.databaseUrl) logger.info({ dataDir: config.embeddedPgDir, port: config.embeddedPgPort }, 'no DATABASE_URL: using the embedded PostgreSQL');
  const starting = resolveDatabase(config);
  starting.catch(() => undefined);
  let app: Awaited<ReturnType<typeof import('./app.factory.js').createApp>> | undefined;
  /** What a stop waits for before tearing down: the start-up step in progress (database, then application). */
  let startup: Promise<unknown> = starting;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 15_000).unref();
    try {
      // A signal during start-up: let the step in progress finish (no further one begins), then undo it.
      await startup.catch(() => undefined);
      if (app) {
        // HTTP first: stop taking connections and let requests in flight finish while the database and
        // the queue are still there; then the workers, listener and pools (module destroy hooks).
        await app.getHttpAdapter().getInstance().close();
        await app.close();
      }
      // The embedded database runs in a process group of its own and would outlive us.
      const started = await starting.catch(() => undefined);
      await started?.embedded?.stop();
    } finally {
      clearTimeout(force);
      // Written from the log buffer by the exit handler, like every line still gathered.
      logger.info({ signal }, 'stopped');
      process.exit(0);
    }
  };
  // `on`, not `once`: under `npm start` a terminal's Ctrl-C reaches this process twice (the group's SIGINT and
  // the one npm forwards), and a second signal must not cut the shutdown short and orphan the database.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  let db;
  try {
    db = await starting;
  } catch (err) {
    if (err instanceof DatabaseRoleError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  if (stopping) return;
  config = db.config;
  const embedded = db.embedded;
  if (config.nodeEnv === 'production') logger.info('database checked: migrations applied, least-privilege role');
  else logger.info({ applied: db.applied, alreadyApplied: db.alreadyApplied }, 'migrations up to date');

  const ready = config;
  const creating = loading.then(async ([{ createApp }, { StartupHints }]) => {
    if (stopping) return undefined;
    app = await createApp(ready, { logger });
    return { app, StartupHints };
  });
  startup = creating;
  const created = await creating;
  if (!created || stopping) return;

  await created.app.listen({ port: config.port, host: config.host });
  const base = config.publicBaseUrl;
  const lines = [
    '',
    `  Credential service is up (${config.nodeEnv}${embedded ? ', embedded PostgreSQL' : ''})`,
    `  Health:       ${base}/health`,
    `  API docs:     ${base}/docs`,
    ...(await created.app.get(created.StartupHints).lines(base)),
    '',
  ];
  // The banner goes straight to stdout: write the log lines gathered so far first, so they stay in order.
  destination.flushSync();
  process.stdout.write(lines.join('\n') + '\n');
}

bootstrap().catch((err) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
