import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { FakeSmtp } from '../support/fake-smtp.js';
import { ensureBuilt, jsonLogs, sharedKeys, startInstance, type Instance } from '../support/instances.js';
import { sparePort } from '../support/net.js';

/**
 * The built service (`node main.js`) stopped the way an orchestrator or a terminal stops it: a request that
 * is half sent when the signal arrives is still answered, the queue workers stop, the process exits 0,
 * and nothing is logged at error level.
 */
let db: TestDatabase;
let smtp: FakeSmtp;

beforeAll(async () => {
  ensureBuilt();
  db = await createTestDatabase();
  smtp = await FakeSmtp.start();
}, 240_000);

afterAll(async () => {
  await db?.drop();
  await smtp?.stop();
});

/** Opens a connection and sends a request's head and half its body; the rest goes with `finish()`. */
async function halfSentRequest(inst: Instance): Promise<{ finish(): void; response: Promise<string> }> {
  const body = 'grant_type=client_credentials&client_id=acc_nobody&client_secret=not-a-secret';
  const socket: Socket = connect(inst.port, '127.0.0.1');
  await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
  let received = '';
  socket.on('data', (c) => (received += c.toString('utf8')));
  const response = new Promise<string>((res) => socket.once('close', () => res(received)));
  socket.write(
    `POST /oauth/acceptance/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ` +
      `${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
  );
  return { finish: () => void socket.write(body.slice(10)), response };
}

async function waitForLog(inst: Instance, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!inst.logs.some((l) => pattern.test(l))) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern}:\n${inst.logs.slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('stopping the service', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: answers the request in flight, stops the workers, exits 0 without an error line`, async () => {
      const inst = await startInstance(`shutdown-${signal}`, { DATABASE_URL: db.url, SMTP_URL: smtp.url, ...sharedKeysOnce() });
      try {
        // Workers have polled at least once and the request is half way in when the signal lands.
        await new Promise((r) => setTimeout(r, 1500));
        const pending = await halfSentRequest(inst);
        process.kill(inst.proc.pid!, signal);
        await waitForLog(inst, /shutting down/);
        pending.finish();
        const response = await pending.response;
        const code = await inst.exited;
        const errors = jsonLogs(inst).filter((l) => l.level === 'error' || l.level === 'fatal' || (typeof l.level === 'number' && l.level >= 50));
        process.stdout.write(
          `[proof] shutdown on ${signal}: exit code ${code}, ${errors.length} error lines, request in flight answered ` +
            `${response.split('\r\n')[0] || '(nothing)'}\n`,
        );
        expect(errors.map((e) => `${String(e.msg)} ${JSON.stringify(e.err ?? '')}`)).toEqual([]);
        expect(response).toMatch(/^HTTP\/1\.1 401 /);
        expect(code).toBe(0);
        expect(inst.logs.some((l) => /stderr|failed to stop|Error:/.test(l))).toBe(false);
      } finally {
        await inst.kill();
      }
    }, 120_000);
  }

  it('on Ctrl-C to the whole process group with the embedded PostgreSQL: no error line, the database stops after the service', async () => {
    const dataDir = resolve(import.meta.dirname, `../../.data/test-embedded-${process.pid}`);
    const inst = await startInstance('shutdown-embedded', { EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(await sparePort()), ...sharedKeys() }, {});
    try {
      await new Promise((r) => setTimeout(r, 1500));
      // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group at once; under
      // `npm start`, npm forwards it to the service a second time.
      process.kill(-inst.proc.pid!, 'SIGINT');
      await waitForLog(inst, /shutting down/);
      process.kill(inst.proc.pid!, 'SIGINT');
      const code = await inst.exited;
      const errors = jsonLogs(inst).filter((l) => l.level === 'error' || l.level === 'fatal');
      process.stdout.write(`[proof] shutdown with the embedded database on Ctrl-C: exit code ${code}, ${errors.length} error lines\n`);
      expect(errors.map((e) => `${String(e.msg)} ${JSON.stringify(e.err ?? '')}`)).toEqual([]);
      expect(code).toBe(0);
      expect(existsSync(join(dataDir, 'postmaster.pid')), 'the embedded database was left running').toBe(false);
    } finally {
      await inst.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('on Ctrl-C during start-up with the embedded PostgreSQL: exit 0, no error line, and the database is not left running', async () => {
    const dataDir = resolve(import.meta.dirname, `../../.data/test-embedded-early-${process.pid}`);
    const inst = await startInstance(
      'shutdown-early',
      { EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(await sparePort()), ...sharedKeys() },
      { waitHealthy: false },
    );
    try {
      // Between the migrations and the application's start: the database is up, the workers are starting.
      await waitForLog(inst, /migrations up to date/, 120_000);
      process.kill(-inst.proc.pid!, 'SIGINT');
      const code = await inst.exited;
      const errors = jsonLogs(inst).filter((l) => l.level === 'error' || l.level === 'fatal');
      const leftRunning = existsSync(join(dataDir, 'postmaster.pid'));
      process.stdout.write(
        `[proof] shutdown with the embedded database on Ctrl-C during start-up: exit code ${code}, ${errors.length} error lines, database left running: ` +
          `${leftRunning}\n`,
      );
      expect(errors.map((e) => `${String(e.msg)} ${JSON.stringify(e.err ?? '')}`)).toEqual([]);
      expect(inst.logs.some((l) => /failed to start/.test(l))).toBe(false);
      expect(code).toBe(0);
      expect(leftRunning).toBe(false);
    } finally {
      await inst.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});

let keys: Record<string, string> | undefined;
/** The same keys for every start on this database (its signing keys are sealed under MASTER_KEY). */
function sharedKeysOnce(): Record<string, string> {
  keys ??= sharedKeys();
  return keys;
}
