import type { MigrationConfig } from '../config/migration-config.js';
import { migrate } from '../prisma/migrator.js';
import { migrateJobQueueSchema } from './job-queue-schema.js';
import { locateDatabase, migrationsDir } from './resolve-database.js';

/** `node dist/cli.js migrate`: applies the SQL migrations and the job queue's schema as the owner role. */
export async function migrateCommand(config: MigrationConfig, out: NodeJS.WritableStream): Promise<number> {
  const { url, embedded } = await locateDatabase(config);
  try {
    const result = await migrate(url, migrationsDir());
    await migrateJobQueueSchema(url);
    out.write(
      `migrations: ${result.applied.length} applied${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.alreadyApplied.length} already applied; job queue schema current\n`,
    );
    return 0;
  } finally {
    await embedded?.stop();
  }
}
