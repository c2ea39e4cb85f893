import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_COMMANDS, type CliIo } from '../src/cli.commands.js';
import { StartupHints } from '../src/common/startup-hints.js';
import { DEV_ADMIN_FILE } from '../src/staff/dev-admin.seed.js';
import { startTestApp, type TestApp } from './support/app.js';
import { Browser, secretOf } from './support/staff.helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dev-admin-'));
const file = join(dir, 'dev-admin.json');
const apps: TestApp[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(): { io: CliIo; out: () => string } {
  let out = '';
  const stdout = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
  const stdin = Readable.from([]) as unknown as CliIo['stdin'];
  stdin.isTTY = true;
  return { io: { stdout, stdin }, out: () => out };
}

describe('development demo admin', () => {
  it('is seeded once in development, printed by the start-up hints, and signs in with the CLI code', async () => {
    const t = await startTestApp({ env: { NODE_ENV: 'development' }, overrides: [{ provide: DEV_ADMIN_FILE, useValue: file }] });
    apps.push(t);
    const lines = (await t.app.get(StartupHints).lines('http://localhost:3000')).join('\n');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { email: string; password: string; totpSecret: string };
    expect(lines).toContain('http://localhost:3000/console/sign-in');
    expect(lines).toContain(`admin@example.com  password: ${stored.password}`);
    const uri = /(otpauth:\/\/totp\/\S+)/.exec(lines)![1];
    expect(secretOf(uri)).toBe(stored.totpSecret);
    expect(lines).toContain('npm run cli -- staff:totp --email admin@example.com');

    const totp = io();
    expect(await CLI_COMMANDS.find((c) => c.name === 'staff:totp')!.run(t.app, { email: 'admin@example.com' }, totp.io)).toBe(0);
    const code = /^(\d{6})\s/.exec(totp.out())![1];
    const b = new Browser(t);
    expect((await b.submit('/console/sign-in', '/console/sign-in', { email: 'admin@example.com', password: stored.password })).statusCode).toBe(303);
    expect((await b.submit('/console/sign-in/second-factor', '/console/sign-in/second-factor', { code })).headers.location).toBe('/console');
    expect((await b.get('/console/staff')).statusCode).toBe(200);
    // Nothing of it reaches the logs.
    expect(t.logs.join('\n')).not.toContain(stored.password);
    expect(t.logs.join('\n')).not.toContain(stored.totpSecret);

    // A second start on the same database and file reuses both; no second account.
    const keys = { SECRET_HASH_KEY: t.config.secretHashKey.toString('base64'), MASTER_KEY: t.config.masterKey.toString('base64') };
    const again = await startTestApp({ db: t.db, env: { NODE_ENV: 'development', ...keys }, overrides: [{ provide: DEV_ADMIN_FILE, useValue: file }] });
    apps.unshift(again);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(stored);
    expect(await again.prisma.staffAccount.count({ where: { email: 'admin@example.com' } })).toBe(1);
    expect((await again.app.get(StartupHints).lines('http://x')).join('\n')).toContain(stored.password);

    // A file that does not match the database's demo admin is not printed as if it did.
    rmSync(file);
    const third = await startTestApp({ db: t.db, env: { NODE_ENV: 'development', ...keys }, overrides: [{ provide: DEV_ADMIN_FILE, useValue: file }] });
    apps.unshift(third);
    const hint = (await third.app.get(StartupHints).lines('http://x')).join('\n');
    expect(hint).not.toContain('password:');
    expect(hint).toContain('staff:create');
  });

  it('never happens in test (or production) mode, and staff:totp refuses there', async () => {
    const other = join(dir, 'other.json');
    const t = await startTestApp({ overrides: [{ provide: DEV_ADMIN_FILE, useValue: other }] });
    apps.push(t);
    expect(await t.prisma.staffAccount.count()).toBe(0);
    expect((await t.app.get(StartupHints).lines('http://x')).join('\n')).not.toContain('admin@example.com');
    const totp = io();
    expect(await CLI_COMMANDS.find((c) => c.name === 'staff:totp')!.run(t.app, { email: 'admin@example.com' }, totp.io)).toBe(1);
  });
});
