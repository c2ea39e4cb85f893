import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { parseArgs } from 'node:util';
import { createLogger } from './common/logger.js';
import { loadCliConfig } from './config/cli-config.js';
import { loadMigrationConfig } from './config/migration-config.js';
import { migrateCommand } from './database/migrate-command.js';
import { resolveDatabase } from './database/resolve-database.js';
import type { CliCommand } from './cli.commands.js';

const MIGRATE_SUMMARY = 'Apply database migrations and the job queue schema as the owner role (MIGRATION_DATABASE_URL, else DATABASE_URL)';

/** `node dist/cli.js <command> [--flags]`: operations that need no HTTP, run against the same database. */
async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  // Migrating needs only the owner's database URL: it runs before the service's own settings matter.
  if (name === 'migrate') return migrateCommand(loadMigrationConfig(), process.stdout);
  // The application's modules take seconds to load; the one-shot migrate step does not need them.
  const [{ NestFactory }, { AppModule }, { CLI_COMMANDS }] = await Promise.all([
    import('@nestjs/core'),
    import('./app.module.js'),
    import('./cli.commands.js'),
  ]);
  const command: CliCommand | undefined = CLI_COMMANDS.find((c) => c.name === name);
  if (!command) {
    const lines = [...CLI_COMMANDS.map((c) => [c.name, c.summary]), ['migrate', MIGRATE_SUMMARY]].map(([n, s]) => `  ${n.padEnd(18)} ${s}`);
    process.stderr.write(`usage: node dist/cli.js <command>   (npm run cli -- <command>)\n\n${lines.join('\n')}\n`);
    return name ? 64 : 0;
  }
  const { values } = parseArgs({ args: rest, options: command.options ?? {}, strict: true, allowPositionals: false });
  const base = loadCliConfig();
  const db = await resolveDatabase(base);
  const logger = createLogger(db.config.logLevel, process.stderr);
  let ctx: INestApplicationContext | undefined;
  try {
    ctx = await NestFactory.createApplicationContext(AppModule.register(db.config, logger), { logger: false });
    return await command.run(ctx, values as Record<string, string | boolean | undefined>, { stdout: process.stdout, stdin: process.stdin });
  } finally {
    await ctx?.close();
    await db.embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
