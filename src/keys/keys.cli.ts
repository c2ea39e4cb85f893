import type { CliCommand } from '../cli.commands.js';
import { systemContext } from '../common/request-context.js';
import { SigningKeysService } from '../oauth/signing-keys.service.js';
import { KeyRotationService } from './key-rotation.service.js';

export const keysRotateCommand: CliCommand = {
  name: 'keys:rotate',
  summary: 'Re-seal every value under the current MASTER_KEY (online, in batches, audited): [--batch-size 500] [--json]',
  options: { 'batch-size': { type: 'string' }, json: { type: 'boolean' } },
  async run(app, args, io) {
    const batchSize = args['batch-size'] ? Number(args['batch-size']) : 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      io.stdout.write('--batch-size must be a whole number of at least 1\n');
      return 64;
    }
    const report = await app.get(KeyRotationService).reseal({ batchSize });
    const status = await app.get(KeyRotationService).status();
    if (args.json) io.stdout.write(JSON.stringify({ ...report, status }) + '\n');
    else {
      const rate = report.ms > 0 ? Math.round((report.resealed * 1000) / report.ms) : report.resealed;
      io.stdout.write(`re-sealed ${report.resealed} values under key ${report.toKey} in ${report.batches} batches, ${report.ms} ms (${rate}/s)\n`);
      io.stdout.write(`values not under the current key: ${status.masterKey.notCurrent}\n`);
      for (const u of report.unreadable) io.stdout.write(`  unreadable: ${u.table} ${u.id}: ${u.reason}\n`);
    }
    return report.unreadable.length || status.masterKey.notCurrent ? 1 : 0;
  },
};

export const keysStatusCommand: CliCommand = {
  name: 'keys:status',
  summary: 'Which key ids are still in use: sealed values per master key, client secret hashes per hash key',
  async run(app, _args, io) {
    io.stdout.write(JSON.stringify(await app.get(KeyRotationService).status(), null, 2) + '\n');
    return 0;
  },
};

export const signingKeyWithdrawCommand: CliCommand = {
  name: 'signing-key:withdraw',
  summary: 'Withdraw an OAuth signing key now: --kid <kid> --reason <why>',
  options: { kid: { type: 'string' }, reason: { type: 'string' } },
  async run(app, args, io) {
    if (typeof args.kid !== 'string' || typeof args.reason !== 'string') {
      io.stdout.write('usage: signing-key:withdraw --kid <kid> --reason <why>\n');
      return 64;
    }
    const done = await app.get(SigningKeysService).withdraw(systemContext(), args.kid, args.reason);
    io.stdout.write(`withdrawn ${done.kid} (${done.environment}); now signing with ${done.signingKid}\n`);
    return 0;
  },
};
