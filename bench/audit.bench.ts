// Chained audit appends per second with 16 concurrent writers, then a full chain verification.
// Each append is its own business-sized transaction (insert + sealing at commit).
import { randomBytes } from 'node:crypto';
import { AuditRepository } from '../src/audit/audit.repository.js';
import { AuditService } from '../src/audit/audit.service.js';
import { systemContext } from '../src/common/request-context.js';
import { loadConfig } from '../src/config/config.js';
import { PrismaService } from '../src/prisma/prisma.service.js';
import { benchDatabase } from './support.js';

const WRITERS = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

const db = await benchDatabase('bench_audit');
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, SECRET_HASH_KEY: randomBytes(32).toString('base64'), MASTER_KEY: randomBytes(32).toString('base64') });
const prisma = new PrismaService(config);
const audit = new AuditService(new AuditRepository(prisma));

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
const verifyStart = Date.now();
const verification = await audit.verify();
const verifySeconds = (Date.now() - verifyStart) / 1000;

console.log(JSON.stringify({ writers: WRITERS, seconds: elapsed, events: total, eventsPerSecond: Math.round(total / elapsed), target: 1000, chainOk: verification.ok, chainLength: verification.checked, warmupEvents: warm, verifySeconds }, null, 2));
console.log(`audit appends: ${Math.round(total / elapsed)} events/s with ${WRITERS} writers (target >= 1000); chain of ${verification.checked} verified ${verification.ok ? 'OK' : 'BROKEN'} in ${verifySeconds.toFixed(2)} s`);
await prisma.$disconnect();
await db.drop();
process.exit(verification.ok ? 0 : 1);
