import { Inject, Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verify, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { isDatabaseUnavailable, isWriteConflict } from '../common/database-unavailable.js';
import { sha256Hex } from '../common/crypto.js';
import { ERROR_CODES, type ErrorCode } from '../common/error-codes.js';
import { contextFromRequest, correlationIdOf } from '../common/http-context.js';
import { LOGGER } from '../common/logger.module.js';
import { SYSTEM_ACTOR } from '../common/request-context.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.js';
import { LeakService } from '../credentials/leak.service.js';
import type { LeakSighting } from '../credentials/leak.types.js';
import { GithubKeys, KeysUnavailable } from './github-keys.js';

export const GITHUB_ALERT_PATH = '/secret-scanning/github';

/** A refusal in GitHub's plain { code, message, correlationId } shape; its status comes from the registry. */
class Refusal extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = ERROR_CODES[code].status;
  }
}

interface Alert {
  token: string;
  type: string;
  url?: string;
  source?: string;
}

/**
 * GitHub's secret scanning partner endpoint. The signature covers the exact bytes sent, so the route lives
 * in its own Fastify scope whose only body parser keeps the raw bytes (and its own size limit); JSON is
 * read only after the signature checked out. The answer is GitHub's feedback format, one entry per token.
 * Tokens are never logged or stored: the access log has the route only, and errors name no token.
 */
@Injectable()
export class GithubAlertEndpoint {
  constructor(
    private readonly keys: GithubKeys,
    private readonly leaks: LeakService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  readonly plugin = async (scope: FastifyInstance): Promise<void> => {
    const bodyLimit = this.config.secretScanning.maxBodyBytes;
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
    scope.post(GITHUB_ALERT_PATH, { bodyLimit }, (req, reply) => this.handle(req, reply));
  };

  private async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('cache-control', 'no-store');
    try {
      if (!this.config.secretScanning.enabled)
        throw new Refusal('secret_scanning/disabled', 'Secret scanning alerts are not accepted here (SECRET_SCANNING_ENABLED is off).');
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      await this.checkSignature(req, body);
      const alerts = parse(body, this.config.secretScanning.maxTokens);
      const ctx = { ...(req.ctx ?? contextFromRequest(req)), actor: SYSTEM_ACTOR };
      const sightings: LeakSighting[] = alerts.map((a) => ({ token: a.token, url: a.url ?? null, source: a.source ?? null }));
      const verdicts = await this.leaks.report(ctx, 'github', sightings, { receiptDigest: sha256Hex(body) });
      reply
        .status(200)
        .type('application/json; charset=utf-8')
        .send(alerts.map((a, i) => ({ token_raw: a.token, token_type: a.type, label: verdicts[i].ours ? 'true_positive' : 'false_positive' })));
    } catch (err) {
      this.fail(req, reply, err);
    }
  }

  private async checkSignature(req: FastifyRequest, body: Buffer): Promise<void> {
    const keyId = header(req, 'github-public-key-identifier');
    const signature = header(req, 'github-public-key-signature');
    if (!keyId || !signature)
      throw new Refusal('secret_scanning/signature_missing', 'Send the Github-Public-Key-Identifier and Github-Public-Key-Signature headers.');
    if (keyId.length > 200 || signature.length > 300 || !/^[A-Za-z0-9+/=]+$/.test(signature))
      throw new Refusal('secret_scanning/bad_signature', 'The signature does not match the body.');
    let key;
    try {
      key = await this.keys.key(keyId);
    } catch (err) {
      if (err instanceof KeysUnavailable) throw new Refusal('secret_scanning/keys_unavailable', 'The signing keys cannot be read right now; retry later.');
      throw err;
    }
    if (!key) throw new Refusal('secret_scanning/unknown_key', 'The key identifier names no current signing key.');
    if (!safeVerify(body, key, signature)) throw new Refusal('secret_scanning/bad_signature', 'The signature does not match the body.');
  }

  private fail(req: FastifyRequest, reply: FastifyReply, err: unknown): void {
    const correlationId = correlationIdOf(req);
    if (err instanceof Refusal) {
      if (err.status === 503) reply.header('retry-after', '60');
      reply.status(err.status).send({ code: err.code, message: err.message, correlationId });
      return;
    }
    if (isDatabaseUnavailable(err) || isWriteConflict(err)) {
      reply
        .status(503)
        .header('retry-after', '2')
        .send({ code: 'service/database_unavailable', message: 'The database does not answer; nothing was changed. Retry shortly.', correlationId });
      return;
    }
    // The error object, never the request: its body holds the tokens.
    this.logger.error({ err, route: GITHUB_ALERT_PATH, correlationId }, 'secret scanning alert failed');
    reply.status(500).send({ code: 'internal/error', message: `Something went wrong on our side; quote correlation id ${correlationId}.`, correlationId });
  }
}

/** A signature that cannot even be read (not DER) is simply a bad one. */
function safeVerify(body: Buffer, key: KeyObject, signature: string): boolean {
  try {
    return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

function parse(body: Buffer, maxTokens: number): Alert[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Refusal('secret_scanning/malformed_body', 'The body is not JSON.');
  }
  if (!Array.isArray(doc)) throw new Refusal('secret_scanning/invalid_payload', 'The body must be a JSON array of { token, type, url, source }.');
  if (doc.length > maxTokens) throw new Refusal('secret_scanning/invalid_payload', `At most ${maxTokens} tokens per alert.`);
  return doc.map((a: unknown, i) => {
    const o = (a && typeof a === 'object' && !Array.isArray(a) ? a : {}) as Record<string, unknown>;
    if (
      !str(o.token, 1000) ||
      !o.token ||
      !str(o.type, 200) ||
      (o.url !== undefined && o.url !== null && !str(o.url, 4000)) ||
      (o.source !== undefined && o.source !== null && !str(o.source, 500))
    ) {
      throw new Refusal('secret_scanning/invalid_payload', `Entry ${i} must have a token and a type (strings), and url and source as strings when given.`);
    }
    return { token: o.token, type: o.type, url: (o.url as string | null) ?? undefined, source: (o.source as string | null) ?? undefined };
  });
}
