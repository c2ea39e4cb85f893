import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { Public, SkipCsrf } from '../common/auth.decorators.js';
import { SessionService } from './session.service.js';
import { signInFailed, SignInService } from './sign-in.service.js';
import { StaffCookies } from './staff-cookies.js';
import { SecondFactorDto, SignInDto } from './staff.dto.js';

class PasswordAcceptedView {
  @ApiProperty({ enum: ['second_factor', 'enrol'], description: 'enrol: set up TOTP in the console first (/console/enrol)' }) next!: 'second_factor' | 'enrol';
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: string;
}

class SignedInView {
  @ApiProperty({ description: 'Send as x-csrf-token on every unsafe request of this session' }) csrfToken!: string;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: string;
}

/**
 * The same two-step sign-in for scripts and API clients, with the same cookies, throttling and
 * audit as the pages. Login CSRF: these routes take JSON only, which a cross-site form cannot send
 * without a CORS preflight that this service never grants.
 */
@ApiTags('staff session')
@Controller('api/session')
export class SessionApiController {
  constructor(
    private readonly signIn: SignInService,
    private readonly sessions: SessionService,
    private readonly cookies: StaffCookies,
  ) {}

  @Post()
  @Public()
  @SkipCsrf()
  @HttpCode(200)
  @ApiOperation({ summary: 'Step 1: email and password; sets a short-lived pending cookie (not a session)' })
  @ApiOkResponse({ type: PasswordAcceptedView })
  @ApiErrors({ 400: INVALID, 401: 'auth/sign_in_failed: the same answer for every failure, lockouts and a body that is not JSON included' })
  async password(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: SignInDto,
    @Ctx() ctx: RequestContext,
  ): Promise<PasswordAcceptedView> {
    requireJson(req);
    const r = await this.signIn.passwordStep(body.email, body.password, ctx, this.cookies.deviceCookie(req));
    this.cookies.setPending(reply, r.pendingToken);
    return { next: r.next, expiresAt: r.expiresAt.toISOString() };
  }

  @Post('second-factor')
  @Public()
  @SkipCsrf()
  @HttpCode(200)
  @ApiOperation({ summary: 'Step 2: a TOTP code or a recovery code; sets the session cookie and returns its CSRF token' })
  @ApiOkResponse({ type: SignedInView })
  @ApiErrors({ 400: INVALID, 401: 'auth/sign_in_failed: a wrong or used code, or no pending sign-in' })
  async secondFactor(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: SecondFactorDto,
    @Ctx() ctx: RequestContext,
  ): Promise<SignedInView> {
    requireJson(req);
    const s = await this.signIn.secondFactor(this.cookies.pendingToken(req) ?? '', body.code, ctx, this.cookies.deviceCookie(req));
    this.cookies.clearPending(reply);
    this.cookies.setSession(reply, s.sessionToken);
    this.cookies.setDevice(reply, s.deviceCookie);
    return { csrfToken: this.sessions.csrfTokenFor(s.sessionId), expiresAt: s.expiresAt.toISOString() };
  }
}

function requireJson(req: FastifyRequest): void {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) throw signInFailed();
}
