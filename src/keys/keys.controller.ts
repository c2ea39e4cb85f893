import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx } from '../common/ctx.decorator.js';
import type { RequestContext } from '../common/request-context.js';
import { SigningKeysService } from '../oauth/signing-keys.service.js';
import { Roles } from '../staff/auth.decorators.js';
import { KeyRotationService } from './key-rotation.service.js';
import { WithdrawSigningKeyDto } from './keys.dto.js';

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
  status() {
    return this.rotation.status();
  }

  @Get('api/signing-keys')
  @Roles('admin')
  @ApiOperation({ summary: 'The OAuth signing keys of both issuers, with their signing and publishing windows' })
  signingKeysList() {
    return this.signingKeys.listKeys();
  }

  @Post('api/signing-keys/:kid/withdraw')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a signing key now: gone from the JWKS, its tokens inactive at introspection, a new key signs' })
  withdraw(@Param('kid') kid: string, @Body() body: WithdrawSigningKeyDto, @Ctx() ctx: RequestContext) {
    return this.signingKeys.withdraw(ctx, kid.slice(0, 100), body.reason);
  }
}
