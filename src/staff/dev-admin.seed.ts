import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import { findProjectRoot, type AppConfig } from '../config/config.js';
import { Clock } from '../common/clock.js';
import { systemContext } from '../common/request-context.js';
import { StartupHints } from '../common/startup-hints.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';
import { totpAad } from './sign-in.service.js';
import { StaffRepository } from './staff.repository.js';
import { newTotpSecret, totpUri } from './totp.js';

export const DEV_ADMIN_EMAIL = 'admin@example.com';
/** Where the demo admin's generated password and TOTP seed are kept (tests point it elsewhere). */
export const DEV_ADMIN_FILE = Symbol('DEV_ADMIN_FILE');
export const defaultDevAdminFile = () => resolve(findProjectRoot(), '.data/dev-admin.json');

interface DevAdminFile {
  email: string;
  password: string;
  totpSecret: string;
}

/**
 * Development only (`NODE_ENV=development`, the default of `npm start` without configuration): a demo
 * admin whose password and TOTP seed are generated once into the git-ignored `.data/dev-admin.json`,
 * so `npm start` can print how to sign in. Never runs in test or production.
 */
@Injectable()
export class DevAdminSeed implements OnApplicationBootstrap {
  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: StaffRepository,
    private readonly audit: AuditService,
    private readonly hints: StartupHints,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DEV_ADMIN_FILE) private readonly file: string,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.nodeEnv !== 'development') return;
    const file = this.file;
    const existing = await this.repo.findByEmail(DEV_ADMIN_EMAIL);
    let creds: DevAdminFile | undefined = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DevAdminFile) : undefined;
    if (!existing && !(await this.repo.anyAdmin())) {
      creds ??= { email: DEV_ADMIN_EMAIL, password: generatePassword(), totpSecret: newTotpSecret() };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
      const passwordHash = await hashPassword(creds.password);
      const now = this.clock.now();
      await this.prisma.transaction(async (tx) => {
        const id = await this.repo.create(tx, { email: DEV_ADMIN_EMAIL, name: 'Demo Admin', role: 'admin', passwordHash, mustChangePassword: false, now });
        await this.repo.enrol(tx, id, { totpSecretEnc: this.config.masterKeys.seal(creds!.totpSecret, totpAad(id)), step: 0, now });
        await this.audit.record(tx, systemContext(), {
          action: 'staff.created',
          subjectType: 'staff_account',
          subjectId: id,
          detail: { role: 'admin', via: 'development_seed' },
        });
      });
    }
    // The file may belong to another database (or be gone): only print what actually signs in.
    const current = await this.repo.findByEmail(DEV_ADMIN_EMAIL);
    const matches = !!creds && !!current && (await verifyPassword(current.passwordHash, creds.password));
    const signInCreds = matches ? creds : undefined;
    this.hints.add((base) => {
      if (!signInCreds) {
        return [`  Staff console: ${base}/console/sign-in (make yourself an admin: npm run cli -- staff:create --email you@example.com --role admin)`];
      }
      return [
        `  Staff console: ${base}/console/sign-in`,
        `    demo admin (development only): ${signInCreds.email}  password: ${signInCreds.password}`,
        `    second factor: add this to an authenticator app: ${totpUri(signInCreds.totpSecret, signInCreds.email)}`,
        `    or print the current code:  npm run cli -- staff:totp --email ${signInCreds.email}`,
      ];
    });
  }
}
