import type { INestApplicationContext } from '@nestjs/common';
import type { ParseArgsConfig } from 'node:util';
import { AuditService } from './audit/audit.service.js';
import { keysRotateCommand, keysStatusCommand, signingKeyWithdrawCommand } from './keys/keys.cli.js';
import { staffCreateCommand, staffTotpCommand } from './staff/staff.cli.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CliCommand {
  name: string;
  summary: string;
  options?: ParseArgsConfig['options'];
  /** Returns the process exit code. */
  run(app: INestApplicationContext, args: Record<string, string | boolean | undefined>, io: CliIo): Promise<number>;
}

export const CLI_COMMANDS: CliCommand[] = [
  {
    name: 'audit:verify',
    summary: 'Walk the audit hash chain; exit 1 and name the first broken row if it does not verify',
    options: { json: { type: 'boolean' } },
    async run(app, args, io) {
      const result = await app.get(AuditService).verify();
      if (args.json) io.stdout.write(JSON.stringify(result) + '\n');
      else if (result.ok) io.stdout.write(`audit chain OK: ${result.checked} events, head ${result.headHash.slice(0, 16)}… at seq ${result.headSeq}\n`);
      else io.stdout.write(`audit chain BROKEN at seq ${result.firstBroken?.seq} (id ${result.firstBroken?.id}): ${result.firstBroken?.reason}; ${result.checked} events verified before it\n`);
      return result.ok ? 0 : 1;
    },
  },
  staffCreateCommand,
  staffTotpCommand,
  keysRotateCommand,
  keysStatusCommand,
  signingKeyWithdrawCommand,
];
