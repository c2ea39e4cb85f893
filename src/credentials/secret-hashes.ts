import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { constantTimeEqual, hmacSha256Hex } from '../common/crypto.js';
import { keyId } from '../common/keyring.js';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { CredentialsRepository } from './credentials.repository.js';

/**
 * Client secret hashes across a SECRET_HASH_KEY rotation: a presented secret is hashed with the current key
 * (one HMAC, the usual case) and, only when that matches nothing, with each previous key. A secret that
 * matched under a previous key is re-hashed under the current one, once, after the answer.
 */
@Injectable()
export class SecretHashes {
  private readonly currentKid: string;
  private readonly previous: Array<{ key: Buffer; kid: string }>;
  private readonly rehashing = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly prisma: PrismaService,
    private readonly repo: CredentialsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.currentKid = keyId(config.secretHashKey);
    this.previous = config.secretHashKeysPrevious.map((key) => ({ key, kid: keyId(key) }));
  }

  match<S extends { id: string; hash: string }>(clientId: string, secrets: readonly S[], presented: string): S | undefined {
    const hash = hmacSha256Hex(this.config.secretHashKey, presented);
    let match: S | undefined;
    for (const s of secrets) if (constantTimeEqual(s.hash, hash) && !match) match = s;
    if (match || !this.previous.length) return match;
    for (const { key } of this.previous) {
      const old = hmacSha256Hex(key, presented);
      for (const s of secrets) if (constantTimeEqual(s.hash, old) && !match) match = s;
      if (match) {
        this.rehash(clientId, match.id, old, hash);
        return match;
      }
    }
    return undefined;
  }

  private rehash(clientId: string, secretId: string, oldHash: string, newHash: string): void {
    if (this.rehashing.has(secretId)) return;
    this.rehashing.add(secretId);
    void this.prisma
      .transaction(async (tx) => {
        if (await this.repo.rehashSecret(tx, secretId, oldHash, newHash, this.currentKid)) await this.repo.notifyChanged(tx, clientId);
      })
      .catch((err) => this.logger.warn({ err, secretId }, 'could not re-hash a client secret under the current key; will try on its next use'))
      .finally(() => this.rehashing.delete(secretId));
  }
}
