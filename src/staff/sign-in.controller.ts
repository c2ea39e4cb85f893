import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { Ctx } from '../common/ctx.decorator.js';
import { hasErrorCode } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { renderPage } from '../web/page.js';
import { Public, Roles, SkipCsrf } from '../common/auth.decorators.js';
import { formText, readForm } from '../common/form.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.js';
import { SIGN_IN_FAILED, SignInService } from './sign-in.service.js';
import { StaffCookies } from './staff-cookies.js';
import { EnrolDto, SecondFactorDto, SignInDto } from './staff.dto.js';
import { StaffService } from './staff.service.js';

const FORM_EXPIRED = 'This form has expired or was not sent from this site. Try again.';

/** The console's sign-in pages. JSON clients use the console session too (see the account API). */
@ApiExcludeController()
@Controller('console')
export class SignInController {
  constructor(
    private readonly signIn: SignInService,
    private readonly staff: StaffService,
    private readonly cookies: StaffCookies,
  ) {}

  @Get()
  @Public()
  home(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return reply.redirect(req.staff ? '/console/home' : '/console/sign-in', 303);
  }

  @Get('sign-in')
  @Public()
  signInPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    if (req.staff) return reply.redirect('/console', 303);
    return this.renderSignIn(req, reply, {});
  }

  @Post('sign-in')
  @Public()
  @SkipCsrf()
  async signInPost(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown, @Ctx() ctx: RequestContext) {
    const email = formText(body, 'email', 320);
    if (!this.cookies.checkLoginCsrf(req, (body as Record<string, unknown> | undefined)?._csrf)) {
      return this.renderSignIn(req, reply, { errors: { email: FORM_EXPIRED }, email }, 403);
    }
    const form = await readForm(SignInDto, body);
    if (!form.ok) return this.renderSignIn(req, reply, { errors: form.errors, email }, 400);
    const { value } = form;
    try {
      const r = await this.signIn.passwordStep(value.email, value.password, ctx, this.cookies.deviceCookie(req));
      this.cookies.setPending(reply, r.pendingToken);
      return reply.redirect(r.next === 'enrol' ? '/console/enrol' : '/console/sign-in/second-factor', 303);
    } catch (err) {
      if (!isSignInFailure(err)) throw err;
      return this.renderSignIn(req, reply, { errors: { email: SIGN_IN_FAILED }, email }, 401);
    }
  }

  @Get('sign-in/second-factor')
  @Public()
  async secondFactorPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    if (!(await this.signIn.hasPending(this.cookies.pendingToken(req), 'second_factor'))) return reply.redirect('/console/sign-in', 303);
    return this.renderSecondFactor(req, reply, {});
  }

  @Post('sign-in/second-factor')
  @Public()
  @SkipCsrf()
  async secondFactorPost(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown, @Ctx() ctx: RequestContext) {
    const token = this.cookies.pendingToken(req);
    if (!this.cookies.checkLoginCsrf(req, (body as Record<string, unknown> | undefined)?._csrf)) {
      return this.renderSecondFactor(req, reply, { errors: { code: FORM_EXPIRED } }, 403);
    }
    const form = await readForm(SecondFactorDto, body);
    if (!form.ok) return this.renderSecondFactor(req, reply, { errors: form.errors }, 400);
    try {
      const s = await this.signIn.secondFactor(token ?? '', form.value.code, ctx, this.cookies.deviceCookie(req));
      this.cookies.clearPending(reply);
      this.cookies.setDevice(reply, s.deviceCookie);
      this.cookies.setSession(reply, s.sessionToken);
      return reply.redirect('/console', 303);
    } catch (err) {
      if (!isSignInFailure(err)) throw err;
      if (await this.signIn.hasPending(token, 'second_factor')) return this.renderSecondFactor(req, reply, { errors: { code: SIGN_IN_FAILED } }, 401);
      this.cookies.clearPending(reply);
      return this.renderSignIn(req, reply, { errors: { email: SIGN_IN_FAILED } }, 401);
    }
  }

  @Get('enrol')
  @Public()
  async enrolPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.renderEnrol(req, reply, {});
  }

  @Post('enrol')
  @Public()
  @SkipCsrf()
  async enrolPost(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown, @Ctx() ctx: RequestContext) {
    const token = this.cookies.pendingToken(req);
    if (!this.cookies.checkLoginCsrf(req, (body as Record<string, unknown> | undefined)?._csrf)) {
      return this.renderEnrol(req, reply, { errors: { code: FORM_EXPIRED } }, 403);
    }
    const form = await readForm(EnrolDto, body);
    const { value = new EnrolDto(), errors = {} } = form;
    const enrolment = await this.signIn.enrolmentFor(token ?? '');
    // The new password is required only of a member who must change it; checked once the form reads.
    if (form.ok && enrolment?.mustChangePassword) {
      if (!value.newPassword && !errors.newPassword)
        errors.newPassword = `Choose a new password of ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`;
      else if (value.newPassword !== value.confirmPassword) errors.confirmPassword = 'The two passwords are not the same';
    }
    if (Object.keys(errors).length) return this.renderEnrol(req, reply, { errors }, 400);
    try {
      const s = await this.signIn.enrol(
        token ?? '',
        value.code,
        enrolment?.mustChangePassword ? value.newPassword : undefined,
        ctx,
        this.cookies.deviceCookie(req),
      );
      this.cookies.clearPending(reply);
      this.cookies.setDevice(reply, s.deviceCookie);
      this.cookies.setSession(reply, s.sessionToken);
      return renderPage(req, reply, 'staff/recovery-codes.eta', { title: 'Your recovery codes', codes: s.recoveryCodes, next: '/console', enrolled: true });
    } catch (err) {
      if (!isSignInFailure(err)) throw err;
      if (await this.signIn.hasPending(token, 'enrol')) return this.renderEnrol(req, reply, { errors: { code: SIGN_IN_FAILED } }, 401);
      this.cookies.clearPending(reply);
      return this.renderSignIn(req, reply, { errors: { email: SIGN_IN_FAILED } }, 401);
    }
  }

  @Post('sign-out')
  @Roles('viewer')
  async signOut(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    await this.staff.signOut(ctx, req.staff!.id, req.staff!.staffId);
    this.cookies.clearSession(reply);
    return reply.redirect('/console/sign-in', 303);
  }

  private renderSignIn(req: FastifyRequest, reply: FastifyReply, data: { errors?: Record<string, string>; email?: string }, status = 200) {
    return renderPage(
      req,
      reply,
      'staff/sign-in.eta',
      { title: 'Sign in', loginCsrf: this.cookies.loginCsrfToken(req, reply), errors: data.errors ?? {}, email: data.email ?? '' },
      status,
    );
  }

  private renderSecondFactor(req: FastifyRequest, reply: FastifyReply, data: { errors?: Record<string, string> }, status = 200) {
    return renderPage(
      req,
      reply,
      'staff/second-factor.eta',
      { title: 'Enter your code', loginCsrf: this.cookies.loginCsrfToken(req, reply), errors: data.errors ?? {} },
      status,
    );
  }

  private async renderEnrol(req: FastifyRequest, reply: FastifyReply, data: { errors?: Record<string, string> }, status = 200) {
    const enrolment = await this.signIn.enrolmentFor(this.cookies.pendingToken(req) ?? '');
    if (!enrolment) return reply.redirect('/console/sign-in', 303);
    const qr = await QRCode.toDataURL(enrolment.otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
    return renderPage(
      req,
      reply,
      'staff/enrol.eta',
      {
        title: 'Set up your authenticator app',
        loginCsrf: this.cookies.loginCsrfToken(req, reply),
        errors: data.errors ?? {},
        qr,
        otpauthUri: enrolment.otpauthUri,
        secretGroups: enrolment.secret.match(/.{1,4}/g)!.join(' '),
        email: enrolment.email,
        mustChangePassword: enrolment.mustChangePassword,
      },
      status,
    );
  }
}

function isSignInFailure(err: unknown): boolean {
  return hasErrorCode(err, 'auth/sign_in_failed', 'staff/weak_password');
}
