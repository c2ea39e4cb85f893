import type { INestApplicationContext } from '@nestjs/common';
import type { ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { AuditService } from './audit/audit.service.js';
import { keysRotateCommand, keysStatusCommand, signingKeyWithdrawCommand } from './keys/keys.cli.js';
import { parsePublicKey } from './audit/checkpoint.js';
import { systemContext } from './common/request-context.js';
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
    summary: 'Verify the audit chain against signed checkpoints; exit 1 and name the first row that does not match',
    options: { json: { type: 'boolean' }, checkpoints: { type: 'string', multiple: true }, 'public-key': { type: 'string' } },
    async run(app, args, io) {
      const paths = args.checkpoints as unknown as string[] | undefined;
      const keyFile = args['public-key'] as string | undefined;
      const result = await app
        .get(AuditService)
        .verify({ checkpointPaths: paths, publicKey: keyFile ? parsePublicKey(readFileSync(keyFile, 'utf8')) : undefined });
      const cps = `${result.checkpoints.matched} of ${result.checkpoints.given} signed checkpoints matched`;
      if (args.json) io.stdout.write(JSON.stringify(result) + '\n');
      else if (result.ok) io.stdout.write(`audit chain OK: ${result.checked} events, head ${result.headHash.slice(0, 16)}… at seq ${result.headSeq}; ${cps}\n`);
      else
        io.stdout.write(
          `audit chain BROKEN at seq ${result.firstBroken?.seq} (id ${result.firstBroken?.id || '-'}): ${result.firstBroken?.reason}; ${result.checked} events verified before it; ${cps}\n`,
        );
      return result.ok ? 0 : 1;
    },
  },
  {
    name: 'audit:checkpoint',
    summary: 'Sign the audit chain head now and write the checkpoint to the checkpoint directory',
    async run(app, _args, io) {
      const c = await app.get(AuditService).checkpoint(systemContext());
      io.stdout.write(`checkpoint at seq ${c.seq} (head ${c.headHash.slice(0, 16)}…) signed by key ${c.keyId}: ${c.file}\n`);
      return 0;
    },
  },
  {
    name: 'audit:checkpoint-key',
    summary: 'Print the public key that verifies audit checkpoints (PEM); keep a copy away from the servers',
    async run(app, _args, io) {
      const k = app.get(AuditService).checkpointKey();
      io.stdout.write(`# key id ${k.keyId}\n${k.publicKeyPem}`);
      return 0;
    },
  },
  staffCreateCommand,
  staffTotpCommand,
  keysRotateCommand,
  keysStatusCommand,
  signingKeyWithdrawCommand,
];
