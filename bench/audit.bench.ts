// Chained audit appends per second with 16 concurrent writers, then a full chain verification.
// Each append is its own transaction (insert, commit, then the shared after-commit seal with the keyed MAC);
// the clock stops only when every event is sealed, and a signed checkpoint is written and checked at the end.
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

const db = await benchDatabase('bench_audit');
const checkpointDir = mkdtempSync(join(tmpdir(), 'audit-checkpoints-'));
const key = () => randomBytes(32).toString('base64');
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, SECRET_HASH_KEY: key(), MASTER_KEY: key(), AUDIT_CHAIN_KEY: key(), AUDIT_CHECKPOINT_KEY: key(), AUDIT_CHECKPOINT_DIR: checkpointDir });
const prisma = new PrismaService(config);
const repo = new AuditRepository(prisma);
const sealer = new AuditSealer(repo, config, pino({ level: 'warn' }));
const audit = new AuditService(repo, sealer, new AuditVerifier(repo, config), new CheckpointStore(config), prisma, new Clock());

async function writer(id: number, until: number): Promise<number> {
  let n = 0;
  while (Date.now() < until) {
    await prisma.transaction((tx) => audit.record(tx, systemContext(), { action: 'bench.appended', subjectType: 'bench', subjectId: String(id), detail: { n } }));
    n++;
  }
  return n;
}

// Warm-up: connections, plans.
await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i, Date.now() + 1000)));
const warm = await prisma.auditEvent.count();
const start = Date.now();
const counts = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i, start + SECONDS * 1000)));
const elapsed = (Date.now() - start) / 1000;
const total = counts.reduce((a, b) => a + b, 0);
const unsealed = await prisma.auditEvent.count({ where: { seq: null } });
const checkpoint = await audit.checkpoint();
const verifyStart = Date.now();
const verification = await audit.verify();
const verifySeconds = (Date.now() - verifyStart) / 1000;

console.log(JSON.stringify({ writers: WRITERS, seconds: elapsed, events: total, eventsPerSecond: Math.round(total / elapsed), target: 1000, chainOk: verification.ok, chainLength: verification.checked, unsealedAtStop: unsealed, checkpointSeq: checkpoint.seq, checkpointsMatched: verification.checkpoints.matched, warmupEvents: warm, verifySeconds }, null, 2));
console.log(`audit appends: ${Math.round(total / elapsed)} events/s with ${WRITERS} writers (target >= 1000); chain of ${verification.checked} verified ${verification.ok ? 'OK' : 'BROKEN'} in ${verifySeconds.toFixed(2)} s`);
await prisma.$disconnect();
await db.drop();
rmSync(checkpointDir, { recursive: true, force: true });
process.exit(verification.ok && verification.checkpoints.matched === 1 && unsealed === 0 ? 0 : 1);
