import { randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { StaffRole } from '../../src/generated/prisma/enums.js';
import { SessionService } from '../../src/staff/session.service.js';
import { systemContext } from '../../src/common/request-context.js';
import type { TestApp } from './app.js';

export interface StaffLogin {
  staffId: string;
  email: string;
  role: StaffRole;
  /** Ready to pass as request headers: the session cookie and the CSRF token. */
  headers: { cookie: string; 'x-csrf-token': string };
  sessionId: string;
}

/** These accounts never sign in with a password: one hash serves them all (the proof suites make hundreds). */
let unusedPasswordHash: Promise<string> | undefined;

/** A staff account with a live session, made directly (tests of sign-in itself go through the pages). */
export async function createStaffWithSession(t: TestApp, overrides: { role?: StaffRole; email?: string; name?: string } = {}): Promise<StaffLogin> {
  const staffId = randomUUID();
  const role = overrides.role ?? 'reviewer';
  const email = overrides.email ?? `staff-${staffId.slice(0, 8)}@example.com`;
  await t.prisma.staffAccount.create({
    data: {
      id: staffId,
      email,
      name: overrides.name ?? `Staff ${role}`,
      role,
      passwordHash: await (unusedPasswordHash ??= hash('not-used-in-this-test', { timeCost: 2, memoryCost: 4096 })),
    },
  });
  const sessions = t.app.get(SessionService);
  const { token, sessionId } = await t.prisma.transaction((tx) => sessions.start(tx, staffId, systemContext()));
  return {
    staffId,
    email,
    role,
    sessionId,
    headers: { cookie: `${sessions.cookieName}=${token}`, 'x-csrf-token': sessions.csrfTokenFor(sessionId) },
  };
}
