// Chained audit appends per second with 16 concurrent writers, each event its own transaction, then a
// checkpoint and a full verification of the keyed chain against it. Two write paths are measured in turn:
//   append  - an audit-only event (one INSERT, then the shared after-commit seal), the path target >= 1000/s
//   record  - the event inside a Prisma interactive transaction, as business changes write it
// The clock of each phase stops only when every event of it is sealed.
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
const PATHS = (process.env.BENCH_AUDIT_PATHS ?? 'append,record').split(',') as Array<'append' | 'record'>;

const db = await benchDatabase('bench_audit');
const checkpointDir = mkdtempSync(join(tmpdir(), 'audit-checkpoints-'));
const key = () => randomBytes(32).toString('base64');
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, SECRET_HASH_KEY: key(), MASTER_KEY: key(), AUDIT_CHAIN_KEY: key(), AUDIT_CHECKPOINT_KEY: key(), AUDIT_CHECKPOINT_DIR: checkpointDir });
const prisma = new PrismaService(config);
const logger = pino({ level: 'warn' });
const repo = new AuditRepository(prisma, config, logger);
const sealer = new AuditSealer(repo, config, logger);
const audit = new AuditService(repo, sealer, new AuditVerifier(repo, config), new CheckpointStore(config), prisma, new Clock());

async function writer(path: 'append' | 'record', id: number, until: number): Promise<number> {
  let n = 0;
  while (Date.now() < until) {
    const event = { action: 'bench.appended', subjectType: 'bench', subjectId: String(id), detail: { n } };
    if (path === 'append') await audit.append(systemContext(), event);
    else await prisma.transaction((tx) => audit.record(tx, systemContext(), event));
    n++;
  }
  return n;
}

const results: Record<string, { events: number; seconds: number; eventsPerSecond: number; nodeCpuMsPerEvent: number }> = {};
for (const path of PATHS) {
  await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(path, i, Date.now() + 1000))); // warm-up: connections, plans
  const cpu = process.cpuUsage();
  const start = Date.now();
  const counts = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(path, i, start + SECONDS * 1000)));
  await audit.sealPending();
  const seconds = (Date.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const events = counts.reduce((a, b) => a + b, 0);
  results[path] = { events, seconds, eventsPerSecond: Math.round(events / seconds), nodeCpuMsPerEvent: Number(((used.user + used.system) / 1000 / events).toFixed(3)) };
}
const unsealed = await prisma.auditEvent.count({ where: { seq: null } });
const checkpoint = await audit.checkpoint();
const verifyStart = Date.now();
const verification = await audit.verify();
const verifySeconds = (Date.now() - verifyStart) / 1000;

console.log(JSON.stringify({ writers: WRITERS, results, target: 1000, chainOk: verification.ok, chainLength: verification.checked, unsealedAtEnd: unsealed, checkpointSeq: checkpoint.seq, checkpointsMatched: verification.checkpoints.matched, verifySeconds }, null, 2));
for (const [path, r] of Object.entries(results)) {
  console.log(`audit ${path}: ${r.eventsPerSecond} chained events/s with ${WRITERS} writers${path === 'append' ? ' (target >= 1000)' : ''}`);
}
console.log(`chain of ${verification.checked} verified ${verification.ok ? 'OK' : 'BROKEN'} against a signed checkpoint in ${verifySeconds.toFixed(2)} s`);
await repo.onModuleDestroy();
await prisma.$disconnect();
await db.drop();
rmSync(checkpointDir, { recursive: true, force: true });
process.exit(verification.ok && verification.checkpoints.matched === 1 && unsealed === 0 ? 0 : 1);
