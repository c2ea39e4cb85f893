import type { INestApplicationContext } from '@nestjs/common';
import type { CliCommand, CliIo } from '../cli.commands.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { systemContext } from '../common/request-context.js';
import type { StaffRole } from '../generated/prisma/enums.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.js';
import { normaliseEmail, SignInService } from './sign-in.service.js';
import { StaffRepository } from './staff.repository.js';
import { StaffService } from './staff.service.js';
import { currentTotp } from './totp.js';

const ROLES: StaffRole[] = ['viewer', 'reviewer', 'admin'];

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

function fail(io: CliIo, message: string, code = 64): number {
  io.stdout.write(`${message}\n`);
  return code;
}

export const staffCreateCommand: CliCommand = {
  name: 'staff:create',
  summary: 'Create an enrolled staff account: --email --role viewer|reviewer|admin [--name]; password from stdin, or generated',
  options: { email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } },
  async run(app: INestApplicationContext, args, io) {
    const email = typeof args.email === 'string' ? normaliseEmail(args.email) : '';
    const role = args.role as StaffRole;
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320) return fail(io, 'staff:create needs --email name@example.com');
    if (!ROLES.includes(role)) return fail(io, `staff:create needs --role ${ROLES.join('|')}`);
    const name = typeof args.name === 'string' && args.name.trim() ? args.name.trim().slice(0, 200) : email.split('@')[0];
    let password: string | undefined;
    if (!io.stdin.isTTY) {
      // Piped: the first line is the password (nothing on stdin means: generate one).
      const first = (await readAll(io.stdin)).split(/\r?\n/)[0];
      if (first) password = first;
    }
    if (password !== undefined && (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH)) {
      return fail(io, `the password on stdin must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`);
    }
    try {
      const created = await app.get(StaffService).create(systemContext(), { email, name, role }, { password, enrolNow: true });
      const lines = [
        `Created ${created.member.role} ${created.member.email} (id ${created.member.id}).`,
        ...(created.oneTimePassword ? [`Password (shown once): ${created.oneTimePassword}`] : ['Password: the one given on stdin.']),
        `Authenticator app (shown once; add it now, or turn it into a QR code):`,
        `  ${created.otpauthUri}`,
        `Recovery codes (shown once; each works once):`,
        ...created.recoveryCodes!.map((c) => `  ${c}`),
        `Sign in at /console/sign-in.`,
      ];
      io.stdout.write(lines.join('\n') + '\n');
      return 0;
    } catch (err) {
      if (err instanceof DomainError) return fail(io, `${err.code}: ${err.message}`, 1);
      throw err;
    }
  },
};

export const staffTotpCommand: CliCommand = {
  name: 'staff:totp',
  summary: 'Development only: print the current TOTP code of a staff account (--email)',
  options: { email: { type: 'string' } },
  async run(app, args, io) {
    const config = app.get<AppConfig>(APP_CONFIG);
    if (config.nodeEnv !== 'development') return fail(io, 'staff:totp works only with NODE_ENV=development.', 1);
    const email = typeof args.email === 'string' ? normaliseEmail(args.email) : '';
    const account = email ? await app.get(StaffRepository).findByEmail(email) : null;
    if (!account?.totpSecretEnc) return fail(io, 'No enrolled staff account with that email address.', 1);
    const now = app.get(Clock).now();
    const code = await currentTotp(app.get(SignInService).totpSecretOf(account), now);
    const left = 30 - (Math.floor(now.getTime() / 1000) % 30);
    io.stdout.write(`${code}  (valid for about ${left} more seconds, and once)\n`);
    return 0;
  },
};
