import { Inject, Injectable } from '@nestjs/common';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/logger.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';

const MAX_DOCUMENT = 256 * 1024;

/** The key server could not be read and the alert's key is not known: the alert should be retried later (503). */
export class KeysUnavailable extends Error {}

/**
 * The public keys GitHub signs secret scanning alerts with, read from the meta endpoint
 * (`{ public_keys: [{ key_identifier, key, is_current }] }`) and kept in memory. An unknown key id reads
 * the document again, at most once per SECRET_SCANNING_KEY_REFRESH_SECONDS however many requests name
 * unknown ids (concurrent ones share one fetch), so a flood of made-up ids cannot hammer the key server.
 * A failed refresh keeps the keys already known. While the last read failed, an unknown key id is not called
 * unknown (a 4xx GitHub would not retry): it may be a key GitHub rotated to, so the alert is to be retried.
 */
@Injectable()
export class GithubKeys {
  private keys = new Map<string, KeyObject>();
  private loaded = false;
  private lastReadFailed = false;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | null = null;
  /** How many times the document was fetched (the tests read it). */
  fetches = 0;

  constructor(
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async key(keyId: string): Promise<KeyObject | null> {
    const known = this.keys.get(keyId);
    if (known) return known;
    const due = this.clock.now().getTime() - this.lastAttemptAt >= this.config.secretScanning.keyRefreshSeconds * 1000;
    if (due || this.inflight) {
      try {
        await (this.inflight ??= this.fetchKeys().finally(() => (this.inflight = null)));
      } catch (err) {
        this.logger.warn(
          { err: String(err), url: this.config.secretScanning.keysUrl },
          'secret scanning keys could not be read; keeping the keys known before',
        );
      }
    }
    const key = this.keys.get(keyId);
    if (key) return key;
    if (!this.loaded || this.lastReadFailed) throw new KeysUnavailable('the secret scanning keys could not be read');
    return null;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = this.clock.now().getTime();
    this.fetches++;
    this.lastReadFailed = true;
    const res = await fetch(this.config.secretScanning.keysUrl, {
      signal: AbortSignal.timeout(5000),
      headers: { accept: 'application/json', 'user-agent': 'credential-service-secret-scanning' },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`key server answered ${res.status}`);
    if (text.length > MAX_DOCUMENT) throw new Error('key document too large');
    const list = (JSON.parse(text) as { public_keys?: unknown }).public_keys;
    if (!Array.isArray(list)) throw new Error('key document has no public_keys list');
    const next = new Map<string, KeyObject>();
    for (const entry of list as Array<Record<string, unknown>>) {
      if (typeof entry?.key_identifier !== 'string' || typeof entry.key !== 'string') continue;
      try {
        const key = createPublicKey(entry.key);
        // ECDSA over P-256 only: a key of another kind is not one GitHub signs alerts with.
        if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') next.set(entry.key_identifier, key);
      } catch {
        /* an unreadable key is skipped; the others still count */
      }
    }
    if (!next.size) throw new Error('key document holds no usable P-256 key');
    this.keys = next;
    this.loaded = true;
    this.lastReadFailed = false;
  }
}
