// Chained audit appends per second with 16 concurrent writers, each event its own transaction, then a
// checkpoint and a full verification of the keyed chain against it. The write paths, measured in turn:
//   record  - the event inside its own Prisma interactive transaction (PrismaService.transaction), exactly as
//             routes write it; the transaction returns once its rows are sealed
//   append  - an audit-only event (one autocommit INSERT, sealed moments later together with its neighbours)
//   empty   - the same Prisma transaction holding only `SELECT 1` and no audit row: what the ORM's
//             transaction costs by itself, so `record / empty` is what the audit trail adds
// The clock of each phase stops only when every event of it is sealed.
//   BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), BENCH_AUDIT_PATHS (empty,record,append)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditRepository } from '../src/audit/audit.repository.js';
import { AuditSealer } from '../src/audit/audit.sealer.js';
import { AuditService } from '../src/audit/audit.service.js';
import { AuditVerifier } from '../src/audit/audit.verifier.js';
import { CheckpointStore } from '../src/audit/checkpoint.store.js';
import { Clock } from '../src/common/clock.js';
import { systemContext } from '../src/common/request-context.js';
import { loadConfig } from '../src/config/config.js';
import { PrismaService } from '../src/prisma/prisma.service.js';
import { benchDatabase } from './support.js';

const WRITERS = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
type Path = 'append' | 'record' | 'empty';
const PATHS = (process.env.BENCH_AUDIT_PATHS ?? 'empty,record,append').split(',') as Path[];

const db = await benchDatabase('bench_audit');
const checkpointDir = mkdtempSync(join(tmpdir(), 'audit-checkpoints-'));
const key = () => randomBytes(32).toString('base64');
const config = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: db.url,
  SECRET_HASH_KEY: key(),
  MASTER_KEY: key(),
  AUDIT_CHAIN_KEY: key(),
  AUDIT_CHECKPOINT_KEY: key(),
  AUDIT_CHECKPOINT_DIR: checkpointDir,
});
const prisma = new PrismaService(config);
const logger = pino({ level: 'warn' });
const repo = new AuditRepository(prisma, config, logger);
const sealer = new AuditSealer(repo, config, logger);
const audit = new AuditService(repo, sealer, new AuditVerifier(repo, config), new CheckpointStore(config), prisma, new Clock());

async function writer(path: Path, id: number, until: number): Promise<number> {
  let n = 0;
  while (Date.now() < until) {
    const event = { action: 'bench.appended', subjectType: 'bench', subjectId: String(id), detail: { n } };
    if (path === 'append') await audit.append(systemContext(), event);
    else if (path === 'record') await prisma.transaction((tx) => audit.record(tx, systemContext(), event));
    else await prisma.transaction((tx) => tx.$queryRaw`SELECT 1`);
    n++;
  }
  return n;
}

const results: Record<string, { events: number; seconds: number; eventsPerSecond: number; nodeCpuMsPerEvent: number }> = {};
for (const path of PATHS) {
  // Warm-up: both pools open their connections (a SCRAM handshake each), plans and JIT settle.
  await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(path, i, Date.now() + WARMUP_SECONDS * 1000)));
  await audit.sealPending();
  const cpu = process.cpuUsage();
  const start = Date.now();
  const counts = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(path, i, start + SECONDS * 1000)));
  await audit.sealPending();
  const seconds = (Date.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const events = counts.reduce((a, b) => a + b, 0);
  results[path] = {
    events,
    seconds,
    eventsPerSecond: Math.round(events / seconds),
    nodeCpuMsPerEvent: Number(((used.user + used.system) / 1000 / events).toFixed(3)),
  };
}
const unsealed = await prisma.auditEvent.count({ where: { seq: null } });
const checkpoint = await audit.checkpoint();
const verifyStart = Date.now();
const verification = await audit.verify();
const verifySeconds = (Date.now() - verifyStart) / 1000;

console.log(
  JSON.stringify(
    {
      writers: WRITERS,
      results,
      target: 1000,
      chainOk: verification.ok,
      chainLength: verification.checked,
      unsealedAtEnd: unsealed,
      checkpointSeq: checkpoint.seq,
      checkpointsMatched: verification.checkpoints.matched,
      verifySeconds,
    },
    null,
    2,
  ),
);
for (const [path, r] of Object.entries(results)) {
  const what = path === 'empty' ? 'empty Prisma transactions/s (no audit row)' : 'chained events/s';
  console.log(
    `audit ${path}: ${r.eventsPerSecond} ${what} with ${WRITERS} writers, ${r.nodeCpuMsPerEvent} ms Node CPU each${path === 'empty' ? '' : ' (target >= 1000)'}`,
  );
}
if (results.record && results.empty)
  console.log(
    `record / empty transaction: ${(results.record.eventsPerSecond / results.empty.eventsPerSecond).toFixed(2)}x the rate, ${(results.record.nodeCpuMsPerEvent / results.empty.nodeCpuMsPerEvent).toFixed(2)}x the Node CPU`,
  );
console.log(
  `load average ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
);
console.log(`chain of ${verification.checked} verified ${verification.ok ? 'OK' : 'BROKEN'} against a signed checkpoint in ${verifySeconds.toFixed(2)} s`);
await repo.onModuleDestroy();
await prisma.$disconnect();
await db.drop();
rmSync(checkpointDir, { recursive: true, force: true });
process.exit(verification.ok && verification.checkpoints.matched === 1 && unsealed === 0 ? 0 : 1);
