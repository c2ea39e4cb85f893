import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiCookieAuth } from '@nestjs/swagger';
import { ApiErrors } from './api-docs.js';
import type { StaffRole } from '../generated/prisma/enums.js';

export const PUBLIC_ROUTE = 'auth:public';
export const REQUIRED_ROLE = 'auth:role';
export const SKIP_CSRF = 'auth:skip-csrf';

/** Reachable without a staff session (partner pages, OAuth endpoints, health). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The least role that may call this route: viewer < reviewer < admin. */
export const Roles = (role: StaffRole) =>
  applyDecorators(
    SetMetadata(REQUIRED_ROLE, role),
    ApiCookieAuth('staff-session'),
    ApiErrors({
      401: 'auth/signin_required: no valid staff session',
      403: `auth/role_required (needs ${role} or higher), auth/csrf_failed (x-csrf-token missing or wrong on an unsafe request)`,
    }),
  );

/** For sign-in itself, where no session (and so no CSRF token) exists yet. */
export const SkipCsrf = () => SetMetadata(SKIP_CSRF, true);

export const ROLE_RANK: Record<StaffRole, number> = { viewer: 1, reviewer: 2, admin: 3 };
