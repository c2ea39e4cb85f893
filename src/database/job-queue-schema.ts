import { PgBoss } from 'pg-boss';
import pg from 'pg';

/** pg-boss keeps its tables in this schema; the service and the `migrate` command must agree on it. */
export const JOB_QUEUE_SCHEMA = 'pgboss';

/**
 * Creates or upgrades the job queue's schema as the owner role, then grants the service's group role what
 * pg-boss needs at run time (rows, not DDL): in production the service starts pg-boss without migrating.
 */
export async function migrateJobQueueSchema(ownerUrl: string): Promise<void> {
  const boss = new PgBoss({
    connectionString: ownerUrl,
    schema: JOB_QUEUE_SCHEMA,
    max: 1,
    supervise: false,
    schedule: false,
    registerInstance: false,
    migrate: true,
  });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.stop({ graceful: false, timeout: 1000 });
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const hasGroup = (await client.query(`SELECT 1 FROM pg_roles WHERE rolname = 'credentials_app'`)).rowCount === 1;
    if (!hasGroup) return;
    await client.query(`
      GRANT USAGE ON SCHEMA ${JOB_QUEUE_SCHEMA} TO credentials_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${JOB_QUEUE_SCHEMA} TO credentials_app;
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${JOB_QUEUE_SCHEMA} TO credentials_app;
      ALTER DEFAULT PRIVILEGES IN SCHEMA ${JOB_QUEUE_SCHEMA} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO credentials_app;
      ALTER DEFAULT PRIVILEGES IN SCHEMA ${JOB_QUEUE_SCHEMA} GRANT USAGE, SELECT ON SEQUENCES TO credentials_app;`);
  } finally {
    await client.end();
  }
}
