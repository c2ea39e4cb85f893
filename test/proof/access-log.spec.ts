import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { ensureBuilt, jsonLogs, sharedKeys, startInstance } from '../support/instances.js';

/**
 * The built service buffers its stdout (a write per 4 KiB of lines, not per request). A quiet service's line
 * must still show up promptly, and a stop must write every line gathered: none of the requests answered
 * before SIGTERM may be missing from the access log.
 */
let db: TestDatabase;

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase();
}, 240_000);

afterAll(async () => {
  await db?.drop();
});

const accessLines = (logs: Array<Record<string, unknown>>, prefix: string) =>
  logs.filter((l) => l.msg === 'request' && typeof l.correlationId === 'string' && l.correlationId.startsWith(prefix));

describe('the buffered access log', () => {
  it('shows a lone request within a second, and loses no line on a graceful stop', async () => {
    const inst = await startInstance('access-log', { DATABASE_URL: db.url, NOTIFICATION_WORKERS: 'false', ...sharedKeys() });
    const prefix = `acc-log-${randomUUID().slice(0, 8)}`;
    try {
      await fetch(`${inst.baseUrl}/no-such-page`, { headers: { 'x-correlation-id': `${prefix}-lone` } });
      const lonely = Date.now();
      while (accessLines(jsonLogs(inst), `${prefix}-lone`).length === 0 && Date.now() - lonely < 3000) await new Promise((r) => setTimeout(r, 20));
      const loneMs = Date.now() - lonely;
      expect(loneMs).toBeLessThan(1000);

      // Many small lines in quick succession (fewer than fill a buffer at the end), then the stop at once.
      const sent: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(
          Array.from({ length: 16 }, (_, i) => {
            const id = `${prefix}-${batch}-${i}`;
            sent.push(id);
            return fetch(`${inst.baseUrl}/no-such-page`, { headers: { 'x-correlation-id': id } }).then((r) => r.arrayBuffer());
          }),
        );
      }
      process.kill(inst.proc.pid!, 'SIGTERM');
      const code = await inst.exited;
      // Let the pipe drain into the test's reader.
      await new Promise((r) => setTimeout(r, 200));
      const logged = new Set(accessLines(jsonLogs(inst), prefix).map((l) => l.correlationId));
      const missing = sent.filter((id) => !logged.has(id));
      console.log(`[proof] access log: lone line after ${loneMs} ms; ${sent.length} requests before SIGTERM, ${missing.length} lines missing, exit ${code}`);
      expect(missing).toEqual([]);
      expect(code).toBe(0);
      // The last line, logged right before the process exits: only the exit flush writes it.
      expect(jsonLogs(inst).at(-1)).toMatchObject({ msg: 'stopped', signal: 'SIGTERM' });
    } finally {
      await inst.stop();
    }
  }, 120_000);
});
