import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import {
  checkCheckpoint,
  checkpointFileName,
  checkpointPrivateKey,
  keyIdOf,
  publicKeyPem,
  signCheckpoint,
  type CheckpointBody,
  type SignedCheckpoint,
} from './checkpoint.js';
import type { VerifyInput } from './audit.verifier.js';

/** Signs checkpoints with AUDIT_CHECKPOINT_KEY and keeps them as files outside the database. */
@Injectable()
export class CheckpointStore {
  private readonly privateKey: KeyObject;
  readonly keyId: string;
  readonly publicKeyPem: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.privateKey = checkpointPrivateKey(config.audit.checkpointKey);
    this.keyId = keyIdOf(this.privateKey);
    this.publicKeyPem = publicKeyPem(this.privateKey);
  }

  sign(body: Omit<CheckpointBody, 'keyId'>): SignedCheckpoint {
    return signCheckpoint(this.privateKey, body);
  }

  /** Writes the checkpoint into the checkpoint directory (complete or not at all) and returns its path. */
  async write(c: SignedCheckpoint): Promise<string> {
    const dir = this.config.audit.checkpointDir;
    await mkdir(dir, { recursive: true });
    const path = join(dir, checkpointFileName(c));
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(c, null, 2) + '\n', { mode: 0o644 });
    await rename(tmp, path);
    return path;
  }

  /** The newest checkpoint in the configured directory that this service's key signed, or null. */
  async latest(): Promise<SignedCheckpoint | null> {
    const names = await readdir(this.config.audit.checkpointDir).catch(() => [] as string[]);
    const files = names.filter((f) => /^audit-checkpoint-\d{12}-\w+\.json$/.test(f)).sort();
    for (const f of files.reverse()) {
      const checked = checkCheckpoint(this.privateKey, await readFile(join(this.config.audit.checkpointDir, f), 'utf8').catch(() => ''));
      if (checked.ok) return checked.checkpoint;
    }
    return null;
  }

  /**
   * Reads checkpoint files (each path a file or a directory of `*.json` files; the configured directory when
   * none is given) and checks each one's signature with `publicKey` (this service's own key when none is given).
   */
  async load(paths?: string[], publicKey?: KeyObject): Promise<VerifyInput> {
    const key = publicKey ?? this.privateKey;
    const files: string[] = [];
    for (const p of paths ?? [this.config.audit.checkpointDir]) {
      const info = await stat(p).catch(() => null);
      if (!info) {
        if (paths) throw new Error(`no checkpoint file or directory at ${p}`);
        continue;
      }
      if (info.isDirectory())
        files.push(
          ...(await readdir(p))
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => join(p, f)),
        );
      else files.push(p);
    }
    const out: VerifyInput = { checkpoints: [], rejected: [] };
    for (const file of files) {
      const checked = checkCheckpoint(key, await readFile(file, 'utf8'));
      if (checked.ok) out.checkpoints.push(checked.checkpoint);
      else out.rejected.push({ file, reason: checked.reason });
    }
    return out;
  }
}
