import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { parseArgs } from 'node:util';
import { AppModule } from './app.module.js';
import { createLogger } from './common/logger.js';
import { loadConfig } from './config/config.js';
import { resolveDatabase } from './database/resolve-database.js';
import { CLI_COMMANDS, type CliCommand } from './cli.commands.js';

/** `npm run cli -- <command> [--flags]`: operations that need no HTTP, run against the same database. */
async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  const command: CliCommand | undefined = CLI_COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`usage: npm run cli -- <command>\n\n${CLI_COMMANDS.map((c) => `  ${c.name.padEnd(18)} ${c.summary}`).join('\n')}\n`);
    return name ? 64 : 0;
  }
  const { values } = parseArgs({ args: rest, options: command.options ?? {}, strict: true, allowPositionals: false });
  const base = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const db = await resolveDatabase(base);
  const logger = createLogger(db.config.logLevel, process.stderr as never);
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
