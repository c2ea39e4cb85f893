import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { LOGGER } from '../common/logger.module.js';
import { Metrics } from '../metrics/metrics.js';
import { CREDENTIAL_CHANNEL, CredentialsRepository } from './credentials.repository.js';
import type { ClientRecord } from './credentials.types.js';

const MAX_ENTRIES = 50_000;

interface Cached {
  record: ClientRecord | null;
  /** Monotonic time (performance.now()) at which its load started. */
  loadedAt: number;
}

/**
 * The token service's read model of clients: records cached in memory by client_id, dropped on a
 * PostgreSQL NOTIFY that every change to a credential sends in its own transaction, so a revocation on one
 * instance takes effect on all of them at commit. The listener has its own `pg.Client` (LISTEN needs one
 * session; Prisma's pool hands out any connection).
 *
 * A listener can fail silently (a connection black-holed by the network delivers nothing and reports
 * nothing), so the cache is trusted only while a heartbeat NOTIFY, sent through the pool every few seconds,
 * comes back on the listener: PostgreSQL delivers notifications in commit order, so each heartbeat that
 * arrives proves every change committed before it has arrived too. Without that proof the cache is bypassed
 * (every lookup reads the database) until the listener has reconnected and the cache was emptied. Records
 * also expire after a maximum age, whatever the listener says. Cache ages use a monotonic clock, not the
 * injected business Clock (tests freeze that one). Last-used times are kept here and written in batches.
 */
@Injectable()
export class ClientRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, Cached>();
  /** Bumped on every invalidation: a load that started before one must not be cached after it. */
  private generation = 0;
  private listener: pg.Client | null = null;
  /** Monotonic time until which the listener counts as healthy; moved on by each heartbeat that comes back. */
  private healthyUntil = 0;
  private readonly heartbeatChannel = `credential_heartbeat_${randomBytes(6).toString('hex')}`;
  private heartbeatSeq = 0;
  /** The heartbeat sent and not back yet (`committedAt` once its NOTIFY committed). */
  private awaitedBeat: { seq: number; committedAt: number | null } | null = null;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private reconnectFailures = 0;
  private connectedBefore = false;
  private lastUsed = new Map<string, Date>();
  private readonly heartbeatMs: number;
  private readonly maxAgeMs: number;
  private readonly listenerLosses: Counter;

  constructor(
    private readonly repo: CredentialsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.heartbeatMs = config.credentials.listenerHeartbeatMs;
    this.maxAgeMs = config.credentials.clientCacheMaxAgeSeconds * 1000;
    const healthy: Gauge = new Gauge({
      name: 'credential_cache_listener_healthy',
      help: '1 while the client cache may answer (its listener heartbeat comes back), 0 while every lookup reads the database',
      registers: [metrics.registry],
      // An arrow function, so `this` stays the registry; the gauge is set through its own name.
      collect: () => healthy.set(performance.now() < this.healthyUntil ? 1 : 0),
    });
    this.listenerLosses = new Counter({
      name: 'credential_cache_listener_lost_total',
      help: 'Times the client cache listener was found dead or dropped',
      registers: [metrics.registry],
    });
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
    // Per instance, not pg-boss schedules: this process's last-used times, and its own LISTEN connection's health.
    this.flushTimer = setInterval(() => void this.flushLastUsed(), this.config.credentials.lastUsedFlushMs);
    this.flushTimer.unref();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.flushLastUsed();
    const l = this.listener;
    this.listener = null;
    this.healthyUntil = 0;
    if (l) await closeQuietly(l);
  }

  async get(clientId: string): Promise<ClientRecord | null> {
    const now = performance.now();
    if (now < this.healthyUntil) {
      const hit = this.cache.get(clientId);
      if (hit && now - hit.loadedAt < this.maxAgeMs) return hit.record;
    }
    const gen = this.generation;
    const record = await this.repo.loadClient(clientId);
    if (gen === this.generation && performance.now() < this.healthyUntil) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(clientId, { record, loadedAt: now });
    }
    return record;
  }

  /** Drops one record (or all, for '*') on this instance now; other instances hear of it through NOTIFY. */
  invalidate(clientId: string): void {
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

  /**
   * A heartbeat that has not come back one interval after its NOTIFY committed marks the listener lost;
   * otherwise the next one goes out through the pool. The cache stops answering on its own, by
   * `healthyUntil`, when echoes stop, even before the listener is declared lost.
   */
  private async heartbeat(): Promise<void> {
    const client = this.listener;
    if (!client || this.closing) return;
    const beat = this.awaitedBeat;
    if (beat) {
      if (beat.committedAt !== null && performance.now() - beat.committedAt >= this.heartbeatMs) {
        this.lost(client, new Error(`heartbeat not back on the listener within ${this.heartbeatMs} ms`));
      }
      return;
    }
    const sent = { seq: ++this.heartbeatSeq, committedAt: null as number | null };
    this.awaitedBeat = sent;
    try {
      await this.repo.notify(this.heartbeatChannel, String(sent.seq));
      sent.committedAt = performance.now();
    } catch (err) {
      // Not sent (the pool cannot reach the database either): try again at the next beat.
      if (this.awaitedBeat === sent) this.awaitedBeat = null;
      this.logger.debug({ err }, 'credential cache heartbeat not sent');
    }
  }

  private onHeartbeat(payload: string | undefined): void {
    if (!this.awaitedBeat || payload !== String(this.awaitedBeat.seq)) return;
    this.awaitedBeat = null;
    // Healthy until the next beat has had its own interval to come back.
    this.healthyUntil = performance.now() + 2 * this.heartbeatMs;
  }

  private lost(client: pg.Client, err?: unknown): void {
    if (this.listener !== client) return;
    this.listener = null;
    this.healthyUntil = 0;
    this.awaitedBeat = null;
    this.invalidate('*');
    void closeQuietly(client);
    if (this.closing) return;
    this.listenerLosses.inc();
    this.logger.warn({ err }, 'credential cache listener lost; every lookup reads the database until it has reconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing) return;
    this.reconnectTimer = setTimeout(() => void this.connect(), 1000);
    this.reconnectTimer.unref();
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    const client = new pg.Client({
      connectionString: this.config.databaseListenerUrl ?? this.config.databaseUrl,
      application_name: 'credential-cache-listener',
      // The heartbeat finds a dead connection within seconds; keepalive lets the kernel close it too.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: Math.max(2000, this.heartbeatMs),
      query_timeout: Math.max(2000, this.heartbeatMs),
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => {
      if (msg.channel === CREDENTIAL_CHANNEL) this.invalidate(msg.payload ?? '*');
      else if (msg.channel === this.heartbeatChannel) this.onHeartbeat(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CREDENTIAL_CHANNEL}`);
      await client.query(`LISTEN ${this.heartbeatChannel}`);
      if (this.closing) return void (await closeQuietly(client));
      this.listener = client;
      this.awaitedBeat = null;
      // Anything cached before we listened may have missed a notification.
      this.invalidate('*');
      this.healthyUntil = performance.now() + 2 * this.heartbeatMs;
      if (this.connectedBefore)
        this.logger.info({ failedAttempts: this.reconnectFailures }, 'credential cache listener reconnected; cache emptied and in use again');
      this.connectedBefore = true;
      this.reconnectFailures = 0;
    } catch (err) {
      // Logged once per outage, not at every retry.
      if (this.reconnectFailures++ === 0) this.logger.warn({ err }, 'credential cache listener could not connect; retrying every second');
      await closeQuietly(client);
      this.scheduleReconnect();
    }
  }
}

/** end() waits for the server's goodbye, which a black-holed connection never sends: destroy the socket after a moment. */
async function closeQuietly(client: pg.Client): Promise<void> {
  const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 500).unref())]);
  socket?.destroy();
}
