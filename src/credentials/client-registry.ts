import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { LOGGER } from '../common/logger.module.js';
import { CREDENTIAL_CHANNEL, CredentialsRepository } from './credentials.repository.js';
import type { ClientRecord } from './credentials.types.js';

const MAX_ENTRIES = 50_000;

/**
 * The token service's read model of clients: records cached in memory by client_id, dropped on a
 * PostgreSQL NOTIFY that every change to a credential sends in its own transaction, so a revocation on one
 * instance takes effect on all of them at commit. The listener has its own `pg.Client` (LISTEN needs one
 * session; Prisma's pool hands out any connection). While the listener is down the cache is bypassed:
 * stale answers are never served. Last-used times are kept here and written in batches.
 */
@Injectable()
export class ClientRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, ClientRecord | null>();
  /** Bumped on every invalidation: a load that started before one must not be cached after it. */
  private generation = 0;
  private listener: pg.Client | null = null;
  private listening = false;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private lastUsed = new Map<string, Date>();

  constructor(
    private readonly repo: CredentialsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.connect();
    this.flushTimer = setInterval(() => void this.flushLastUsed(), this.config.credentials.lastUsedFlushMs);
    this.flushTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.flushLastUsed();
    const l = this.listener;
    this.listener = null;
    this.listening = false;
    await l?.end().catch(() => undefined);
  }

  async get(clientId: string): Promise<ClientRecord | null> {
    if (this.listening) {
      const hit = this.cache.get(clientId);
      if (hit !== undefined) return hit;
    }
    const gen = this.generation;
    const record = await this.repo.loadClient(clientId);
    if (this.listening && gen === this.generation) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(clientId, record);
    }
    return record;
  }

  /** Drops one record (or all) on this instance now; other instances hear of it through NOTIFY. */
  invalidate(clientId: string | '*'): void {
    this.generation++;
    if (clientId === '*') this.cache.clear();
    else this.cache.delete(clientId);
  }

  markUsed(secretId: string, at: Date): void {
    this.lastUsed.set(secretId, at);
  }

  async flushLastUsed(): Promise<void> {
    if (!this.lastUsed.size) return;
    const batch = [...this.lastUsed].map(([secretId, at]) => ({ secretId, at }));
    this.lastUsed = new Map();
    try {
      await this.repo.recordLastUsed(batch);
    } catch (err) {
      this.logger.warn({ err, count: batch.length }, 'could not record last-used times; will retry');
      for (const b of batch) if (!this.lastUsed.has(b.secretId)) this.lastUsed.set(b.secretId, b.at);
    }
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    const client = new pg.Client({ connectionString: this.config.databaseUrl, application_name: 'credential-cache-listener' });
    const lost = (err?: unknown) => {
      if (this.listener !== client) return;
      this.listening = false;
      this.listener = null;
      this.invalidate('*');
      if (!this.closing) {
        this.logger.warn({ err }, 'credential cache listener lost; cache bypassed until it reconnects');
        client.end().catch(() => undefined);
        this.reconnectTimer = setTimeout(() => void this.connect(), 1000);
        this.reconnectTimer.unref();
      }
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      if (msg.channel === CREDENTIAL_CHANNEL) this.invalidate((msg.payload ?? '*') as string);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CREDENTIAL_CHANNEL}`);
      this.listener = client;
      // Anything cached before we listened may have missed a notification.
      this.invalidate('*');
      this.listening = true;
    } catch (err) {
      this.logger.warn({ err }, 'credential cache listener could not connect; retrying');
      await client.end().catch(() => undefined);
      if (!this.closing) {
        this.reconnectTimer = setTimeout(() => void this.connect(), 1000);
        this.reconnectTimer.unref();
      }
    }
  }
}
