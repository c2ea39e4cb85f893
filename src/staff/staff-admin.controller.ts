import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ctx } from '../common/ctx.decorator.js';
import { hasErrorCode } from '../common/domain-error.js';
import type { RequestContext } from '../common/request-context.js';
import { renderConfirmPage } from '../web/confirm-page.js';
import { consoleNav, renderPage } from '../web/page.js';
import { Roles } from '../common/auth.decorators.js';
import { formText, readForm } from '../common/form.js';
import { uuidParamOrBadRequest } from '../common/uuid-param.js';
import { ChangeRoleDto, CreatedStaffMemberView, CreateStaffDto, StaffMemberView } from './staff.dto.js';
import { StaffService } from './staff.service.js';

const DONE: Record<string, string> = {
  role: 'The role was changed.',
  disable: 'The account was disabled and its sessions ended.',
  enable: 'The account was enabled again.',
  'reset-totp': 'The second factor was reset: at next sign-in they set up their authenticator app again. Their sessions and recovery codes were ended.',
};

/** A staff id that is not a UUID is a malformed request (400 request/bad_request). */
const StaffIdPipe = uuidParamOrBadRequest();

/** Staff management for admins: console pages and the same actions as JSON. */
@ApiTags('staff')
@Controller()
export class StaffAdminController {
  constructor(private readonly staff: StaffService) {}

  // ------------------------------------------------------------ JSON
  @Get('api/staff')
  @Roles('admin')
  @ApiOperation({ summary: 'List staff members' })
  @ApiOkResponse({ type: [StaffMemberView] })
  list() {
    return this.staff.list();
  }

  @Post('api/staff')
  @Roles('admin')
  @ApiOperation({ summary: 'Create a staff member with a one-time password (returned once); they set up TOTP and their own password at first sign-in' })
  @ApiCreatedResponse({ type: CreatedStaffMemberView })
  @ApiErrors({ 400: INVALID, 409: 'staff/email_taken' })
  async create(@Body() body: CreateStaffDto, @Ctx() ctx: RequestContext): Promise<CreatedStaffMemberView> {
    // The API never enrols at creation: only the member and the one-time password leave here.
    const { member, oneTimePassword } = await this.staff.create(ctx, body);
    return { member, oneTimePassword: oneTimePassword! };
  }

  @Get('api/staff/:id')
  @Roles('admin')
  @ApiOperation({ summary: 'One staff member' })
  @ApiOkResponse({ type: StaffMemberView })
  @ApiErrors({ 400: 'request/bad_request: the id is not a UUID', 404: 'staff/not_found' })
  get(@Param('id', StaffIdPipe) id: string) {
    return this.staff.get(id);
  }

  @Put('api/staff/:id/role')
  @Roles('admin')
  @ApiOperation({ summary: 'Change the role (refused with 409 staff/last_admin if no enabled admin would remain)' })
  @ApiOkResponse({ type: StaffMemberView })
  @ApiErrors({ 400: `request/bad_request: the id is not a UUID, ${INVALID}`, 404: 'staff/not_found', 409: 'staff/last_admin' })
  changeRole(@Param('id', StaffIdPipe) id: string, @Body() body: ChangeRoleDto, @Ctx() ctx: RequestContext) {
    return this.staff.changeRole(ctx, id, body.role);
  }

  @Post('api/staff/:id/disable')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable the account and end its sessions (409 staff/last_admin for the last enabled admin)' })
  @ApiOkResponse({ type: StaffMemberView })
  @ApiErrors({ 400: 'request/bad_request: the id is not a UUID', 404: 'staff/not_found', 409: 'staff/last_admin' })
  disable(@Param('id', StaffIdPipe) id: string, @Ctx() ctx: RequestContext) {
    return this.staff.disable(ctx, id);
  }

  @Post('api/staff/:id/enable')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a disabled account' })
  @ApiOkResponse({ type: StaffMemberView })
  @ApiErrors({ 400: 'request/bad_request: the id is not a UUID', 404: 'staff/not_found' })
  enable(@Param('id', StaffIdPipe) id: string, @Ctx() ctx: RequestContext) {
    return this.staff.enable(ctx, id);
  }

  @Post('api/staff/:id/reset-totp')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove the second factor and recovery codes and end sessions; the member enrols again at next sign-in' })
  @ApiOkResponse({ type: StaffMemberView })
  @ApiErrors({ 400: 'request/bad_request: the id is not a UUID', 404: 'staff/not_found' })
  resetTotp(@Param('id', StaffIdPipe) id: string, @Ctx() ctx: RequestContext) {
    return this.staff.resetTotp(ctx, id);
  }

  @Post('api/staff/:id/reset-sign-in')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Forgotten password: a new one-time password (returned once, valid 7 days), second factor removed, sessions ended' })
  @ApiOkResponse({ type: CreatedStaffMemberView })
  @ApiErrors({ 400: 'request/bad_request: the id is not a UUID', 404: 'staff/not_found' })
  async resetSignIn(@Param('id', StaffIdPipe) id: string, @Ctx() ctx: RequestContext): Promise<CreatedStaffMemberView> {
    const { member, oneTimePassword } = await this.staff.resetSignIn(ctx, id);
    return { member, oneTimePassword };
  }

  // ------------------------------------------------------------ pages
  @Get('console/staff')
  @Roles('admin')
  @ApiExcludeEndpoint()
  async listPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return renderPage(req, reply, 'staff/staff-list.eta', { title: 'Staff', nav: consoleNav(req, '/console/staff'), members: await this.staff.list() });
  }

  @Get('console/staff/new')
  @Roles('admin')
  @ApiExcludeEndpoint()
  newPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return renderPage(req, reply, 'staff/staff-new.eta', {
      title: 'Add a staff member',
      nav: consoleNav(req, '/console/staff'),
      errors: {},
      form: { role: 'viewer' },
    });
  }

  @Post('console/staff')
  @Roles('admin')
  @ApiExcludeEndpoint()
  async createPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown, @Ctx() ctx: RequestContext) {
    const form = await readForm(CreateStaffDto, body);
    const values = { name: formText(body, 'name', 200), email: formText(body, 'email', 320), role: formText(body, 'role', 20) };
    const again = (errs: Record<string, string>, status: number) =>
      renderPage(
        req,
        reply,
        'staff/staff-new.eta',
        { title: 'Add a staff member', nav: consoleNav(req, '/console/staff'), errors: errs, form: values },
        status,
      );
    if (!form.ok) return again(form.errors, 400);
    try {
      const created = await this.staff.create(ctx, form.value);
      return renderPage(req, reply, 'staff/staff-created.eta', { title: 'Staff member added', nav: consoleNav(req, '/console/staff'), created });
    } catch (err) {
      if (hasErrorCode(err, 'staff/email_taken')) return again({ email: err.message }, 409);
      throw err;
    }
  }

  @Get('console/staff/:id')
  @Roles('admin')
  @ApiExcludeEndpoint()
  async detailPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('id', StaffIdPipe) id: string, @Query('done') done?: string) {
    return this.renderDetail(req, reply, id, { done: done && DONE[done] ? DONE[done] : undefined });
  }

  @Get('console/staff/:id/disable')
  @Roles('admin')
  @ApiExcludeEndpoint()
  async confirmDisablePage(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('id', StaffIdPipe) id: string) {
    const member = await this.staff.get(id);
    if (member.disabled) return reply.redirect(`/console/staff/${id}`, 303);
    const self = member.id === req.staff!.staffId;
    return renderConfirmPage(req, reply, consoleNav(req, '/console/staff'), {
      title: 'Disable this account?',
      heading: `Disable ${member.name}'s account?`,
      consequences: [
        `${self ? 'You are' : `${member.name} is`} signed out at once, on every device, and cannot sign in until an admin enables the account again.`,
        'Their audit history stays; nothing they did is undone.',
      ],
      facts: [
        ['Email address', member.email],
        ['Role', member.role],
      ],
      destructive: true,
      warningText: self ? 'This is your own account: you will be signed out straight away.' : 'Their open sessions end immediately.',
      action: `/console/staff/${id}/disable`,
      confirmLabel: 'Yes, disable the account',
      cancelHref: `/console/staff/${id}`,
    });
  }

  @Post('console/staff/:id/:action')
  @Roles('admin')
  @ApiExcludeEndpoint()
  async actionPage(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id', StaffIdPipe) id: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @Ctx() ctx: RequestContext,
  ) {
    try {
      if (action === 'role') {
        const form = await readForm(ChangeRoleDto, body);
        if (!form.ok) return this.renderDetail(req, reply, id, { errors: form.errors }, 400);
        await this.staff.changeRole(ctx, id, form.value.role);
      } else if (action === 'disable') await this.staff.disable(ctx, id);
      else if (action === 'enable') await this.staff.enable(ctx, id);
      else if (action === 'reset-totp') await this.staff.resetTotp(ctx, id);
      else if (action === 'reset-sign-in') {
        const created = await this.staff.resetSignIn(ctx, id);
        return renderPage(req, reply, 'staff/staff-created.eta', {
          title: 'New one-time password',
          nav: consoleNav(req, '/console/staff'),
          created,
          reset: true,
        });
      } else return this.renderDetail(req, reply, id, { errors: { action: 'Unknown action.' } }, 404);
    } catch (err) {
      if (hasErrorCode(err, 'staff/last_admin')) return this.renderDetail(req, reply, id, { errors: { role: err.message } }, 409);
      throw err;
    }
    return reply.redirect(`/console/staff/${id}?done=${action}`, 303);
  }

  private async renderDetail(req: FastifyRequest, reply: FastifyReply, id: string, data: { errors?: Record<string, string>; done?: string }, status = 200) {
    const member = await this.staff.get(id);
    return renderPage(
      req,
      reply,
      'staff/staff-detail.eta',
      {
        title: member.name,
        nav: consoleNav(req, '/console/staff'),
        member,
        isSelf: member.id === req.staff!.staffId,
        errors: data.errors ?? {},
        done: data.done,
      },
      status,
    );
  }
}
