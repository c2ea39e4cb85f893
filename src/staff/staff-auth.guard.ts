import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthenticatedError } from '../common/domain-error.js';
import { contextFromRequest } from '../common/http-context.js';
import type { StaffRole } from '../generated/prisma/enums.js';
import type { ActiveSession } from './session.repository.js';
import { SessionService } from './session.service.js';
import { PUBLIC_ROUTE, REQUIRED_ROLE, ROLE_RANK, SKIP_CSRF } from '../common/auth.decorators.js';

declare module 'fastify' {
  interface FastifyRequest {
    staff?: ActiveSession;
    /** The signed-in session's CSRF token, for forms rendered in this request. */
    csrfToken?: string;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Global and fail-closed: a route is reachable only if it is marked @Public() or names a role.
 * Cookie-authenticated state changes must carry the session's CSRF token (header or form field).
 */
@Injectable()
export class StaffAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    if (!req.ctx) req.ctx = contextFromRequest(req);
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets);
    const role = this.reflector.getAllAndOverride<StaffRole | undefined>(REQUIRED_ROLE, targets);

    const token = req.cookies?.[this.sessions.cookieName];
    const session = token ? await this.sessions.resolve(token) : null;
    if (session) {
      req.staff = session;
      req.csrfToken = this.sessions.csrfTokenFor(session.id);
      req.ctx.actor = { type: 'staff', id: session.staffId };
    }
    if (isPublic) return true;
    if (!role) throw new ForbiddenError('auth/no_policy', 'This route has no access policy.');
    if (!session) {
      // A person whose session ended, opening a console page, is sent to sign in rather than shown a 401 page.
      if ((req.method === 'GET' || req.method === 'HEAD') && req.url.startsWith('/console/') && String(req.headers.accept ?? '').includes('text/html')) {
        context.switchToHttp().getResponse<FastifyReply>().redirect('/console/sign-in', 303);
        return false;
      }
      throw new UnauthenticatedError('auth/signin_required', 'Sign in as staff to continue.');
    }
    if (ROLE_RANK[session.role] < ROLE_RANK[role]) {
      throw new ForbiddenError('auth/role_required', `This needs the ${role} role.`, { required: role, current: session.role });
    }
    if (!SAFE_METHODS.has(req.method) && !this.reflector.getAllAndOverride<boolean>(SKIP_CSRF, targets)) {
      const body = req.body as Record<string, unknown> | undefined;
      const presented = req.headers['x-csrf-token'] ?? body?._csrf;
      // The form field has done its job; DTO validation should not see it as an unknown field.
      if (body && typeof body === 'object') delete body._csrf;
      if (!this.sessions.checkCsrf(session.id, presented)) {
        throw new ForbiddenError('auth/csrf_failed', 'The form is out of date or was not sent by this site. Reload the page and try again.');
      }
    }
    return true;
  }
}
