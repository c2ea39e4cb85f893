import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, INVALID } from '../common/api-docs.js';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { SigningKeysService } from '../oauth/signing-keys.service.js';
import { Roles } from '../common/auth.decorators.js';
import { KeyRotationService } from './key-rotation.service.js';
import { WithdrawSigningKeyDto } from './keys.dto.js';
import { KeyStatusView, SigningKeyView, toKeyStatusView, toSigningKeyView, WithdrawnSigningKeyView } from './keys.views.js';

/** The service's own keys, for admins: where each key is still in use, and withdrawing a signing key now. */
@ApiTags('keys')
@Controller()
export class KeysController {
  constructor(
    private readonly rotation: KeyRotationService,
    private readonly signingKeys: SigningKeysService,
  ) {}

  @Get('api/keys/status')
  @Roles('admin')
  @ApiOperation({ summary: 'Key ids in use: sealed values per master key, client secret hashes per hash key' })
  @ApiOkResponse({ type: KeyStatusView })
  async status(): Promise<KeyStatusView> {
    return toKeyStatusView(await this.rotation.status());
  }

  @Get('api/signing-keys')
  @Roles('admin')
  @ApiOperation({ summary: 'The OAuth signing keys of both issuers, with their signing and publishing windows' })
  @ApiOkResponse({ type: [SigningKeyView] })
  async signingKeysList(): Promise<SigningKeyView[]> {
    return (await this.signingKeys.listKeys()).map(toSigningKeyView);
  }

  @Post('api/signing-keys/:kid/withdraw')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a signing key now: gone from the JWKS, its tokens inactive at introspection, a new key signs' })
  @ApiOkResponse({ type: WithdrawnSigningKeyView })
  @ApiErrors({ 400: INVALID, 404: 'signing_key/not_found (no such key, or already withdrawn)' })
  async withdraw(@Param('kid') kid: string, @Body() body: WithdrawSigningKeyDto, @Ctx() ctx: RequestContext): Promise<WithdrawnSigningKeyView> {
    const w = await this.signingKeys.withdraw(ctx, kid.slice(0, 100), body.reason);
    return { kid: w.kid, environment: w.environment, signingKid: w.signingKid };
  }
}
