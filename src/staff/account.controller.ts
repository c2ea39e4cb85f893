import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import { DomainError, STATUS_BY_KIND, hasErrorCode } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { consoleNav, renderPage } from '../web/page.js';
import { Roles } from '../common/auth.decorators.js';
import { fieldErrorsOf, readForm } from '../common/form.js';
import { PasswordChangeService } from './password-change.service.js';
import { StaffCookies } from './staff-cookies.js';
import { ChangePasswordDto, RecoveryCodesView, SignedOutView, StaffMemberView, TotpCodeDto } from './staff.dto.js';
import { StaffService } from './staff.service.js';

/** At or below this many unused recovery codes the account page warns and offers new ones. */
export const LOW_RECOVERY_CODES = 2;

/** The signed-in member's own account: page and JSON. */
@ApiTags('staff account')
@Controller()
export class AccountController {
  constructor(
    private readonly staff: StaffService,
    private readonly cookies: StaffCookies,
    private readonly passwords: PasswordChangeService,
  ) {}

  @Get('console/account')
  @Roles('viewer')
  @ApiExcludeEndpoint()
  async page(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Query('done') done?: string, @Query('ended') ended?: string) {
    const n = /^\d{1,4}$/.test(String(ended ?? '')) ? Number(ended) : 0;
    const notice = done === 'password' ? `Your password was changed.${n ? ` ${n} other session${n === 1 ? ' was' : 's were'} signed out.` : ''}` : undefined;
    return this.render(req, reply, { notice });
  }

  @Post('console/account/password')
  @Roles('viewer')
  @ApiExcludeEndpoint()
  async changePasswordPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown, @Ctx() ctx: RequestContext) {
    const form = await readForm(ChangePasswordDto, body);
    if (!form.ok) return this.render(req, reply, { errors: form.errors }, 400);
    const { currentPassword, passwordCode: code, newPassword, confirmPassword } = form.value;
    try {
      const { otherSessionsEnded } = await this.passwords.change(ctx, req.staff!.staffId, req.staff!.id, {
        currentPassword,
        code,
        newPassword,
        confirmPassword,
      });
      return reply.redirect(`/console/account?done=password&ended=${otherSessionsEnded}`, 303);
    } catch (err) {
      if (!(err instanceof DomainError) || !['invalid', 'unauthenticated'].includes(err.kind)) throw err;
      const errors = fieldErrorsOf(err, { fieldIds: (k) => (k === 'code' ? 'passwordCode' : k) });
      return this.render(req, reply, { errors }, STATUS_BY_KIND[err.kind]);
    }
  }

  @Post('console/account/sign-out-everywhere')
  @Roles('viewer')
  @ApiExcludeEndpoint()
  async signOutEverywherePage(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Ctx() ctx: RequestContext) {
    await this.staff.signOutEverywhere(ctx, req.staff!.staffId);
    this.cookies.clearSession(reply);
    return reply.redirect('/console/sign-in', 303);
  }

  @Post('console/account/recovery-codes')
  @Roles('viewer')
  @ApiExcludeEndpoint()
  async regeneratePage(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown, @Ctx() ctx: RequestContext) {
    const form = await readForm(TotpCodeDto, body);
    if (!form.ok) return this.render(req, reply, { errors: form.errors }, 400);
    try {
      const codes = await this.staff.regenerateRecoveryCodes(ctx, req.staff!.staffId, form.value.code);
      return renderPage(req, reply, 'staff/recovery-codes.eta', {
        title: 'Your new recovery codes',
        nav: consoleNav(req, '/console/account'),
        codes,
        next: '/console/account',
        enrolled: false,
      });
    } catch (err) {
      if (!hasErrorCode(err, 'auth/code_refused')) throw err;
      return this.render(req, reply, { errors: { code: err.message } }, 401);
    }
  }

  @Get('api/staff/me')
  @Roles('viewer')
  @ApiOperation({ summary: 'The signed-in staff member' })
  @ApiOkResponse({ type: StaffMemberView })
  me(@Req() req: FastifyRequest) {
    return this.staff.get(req.staff!.staffId);
  }

  @Post('api/staff/me/sign-out')
  @Roles('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'End this session' })
  @ApiOkResponse({ type: SignedOutView })
  async signOut(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Ctx() ctx: RequestContext) {
    await this.staff.signOut(ctx, req.staff!.id, req.staff!.staffId);
    this.cookies.clearSession(reply);
    return { sessionsEnded: 1 };
  }

  @Post('api/staff/me/sign-out-everywhere')
  @Roles('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'End every session of the signed-in member, this one included' })
  @ApiOkResponse({ type: SignedOutView })
  async signOutEverywhere(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Ctx() ctx: RequestContext) {
    const n = await this.staff.signOutEverywhere(ctx, req.staff!.staffId);
    this.cookies.clearSession(reply);
    return { sessionsEnded: n };
  }

  @Post('api/staff/me/recovery-codes')
  @Roles('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace all recovery codes (needs a current, unused TOTP code); the new codes are returned once' })
  @ApiOkResponse({ type: RecoveryCodesView })
  @ApiErrors({ 400: INVALID, 401: 'auth/code_refused: the TOTP code is wrong or was used already' })
  async regenerate(@Req() req: FastifyRequest, @Body() body: TotpCodeDto, @Ctx() ctx: RequestContext) {
    return { recoveryCodes: await this.staff.regenerateRecoveryCodes(ctx, req.staff!.staffId, body.code) };
  }

  private async render(req: FastifyRequest, reply: FastifyReply, data: { errors?: Record<string, string>; notice?: string }, status = 200) {
    const me = await this.staff.get(req.staff!.staffId);
    const left = await this.staff.recoveryCodesLeft(req.staff!.staffId);
    return renderPage(
      req,
      reply,
      'staff/account.eta',
      {
        title: 'Your account',
        nav: consoleNav(req, '/console/account'),
        me,
        recoveryCodesLeft: left,
        recoveryCodesLow: left <= LOW_RECOVERY_CODES,
        errors: data.errors ?? {},
        notice: data.notice,
      },
      status,
    );
  }
}
