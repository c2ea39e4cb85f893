import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface TwilioMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
}

/** What the server does with one request: accept it (default), answer with an error, or never answer. */
export type TwilioBehaviour =
  | { kind: 'accept' }
  | { kind: 'error'; status: number; code?: number; message?: string }
  | { kind: 'hang' };

export const TEST_TWILIO = { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, authToken: 'test-auth-token-0123456789', from: '+15005550006' };

/**
 * A local HTTP server speaking Twilio's Messages API: `POST /2010-04-01/Accounts/{Sid}/Messages.json`
 * (form fields To, From, Body; basic auth with the account SID and auth token). Accepted messages are in
 * `messages`; every request that reached it (accepted or not) is in `requests`. Program failures with
 * `next(...)` (one behaviour per coming request) or `always(...)`. `env()` gives the app's config.
 */
export class FakeTwilio {
  readonly messages: TwilioMessage[] = [];
  readonly requests: Array<{ to: string; body: string; answered: number | 'hang' }> = [];
  private readonly plan: TwilioBehaviour[] = [];
  private fallback: TwilioBehaviour = { kind: 'accept' };
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  port = 0;

  static async start(): Promise<FakeTwilio> {
    const t = new FakeTwilio();
    await t.start();
    return t;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  env(extra: { timeoutMs?: number } = {}): Record<string, string> {
    return {
      TWILIO_ACCOUNT_SID: TEST_TWILIO.accountSid,
      TWILIO_AUTH_TOKEN: TEST_TWILIO.authToken,
      TWILIO_FROM: TEST_TWILIO.from,
      TWILIO_API_BASE_URL: this.baseUrl,
      TWILIO_TIMEOUT_MS: String(extra.timeoutMs ?? 1000),
    };
  }

  next(...behaviours: TwilioBehaviour[]): void {
    this.plan.push(...behaviours);
  }

  always(b: TwilioBehaviour): void {
    this.fallback = b;
  }

  /** The bodies sent to one number, oldest first. */
  to(number: string): TwilioMessage[] {
    return this.messages.filter((m) => m.to === number);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return json(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    const expected = 'Basic ' + Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString('base64');
    if (req.headers.authorization !== expected || m[1] !== TEST_TWILIO.accountSid) {
      return json(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const to = form.get('To') ?? '';
    const body = form.get('Body') ?? '';
    const from = form.get('From') ?? '';
    const b = this.plan.shift() ?? this.fallback;
    if (b.kind === 'hang') {
      this.requests.push({ to, body, answered: 'hang' });
      return; // never answers; the socket is destroyed on stop()
    }
    if (b.kind === 'error') {
      this.requests.push({ to, body, answered: b.status });
      return json(res, b.status, { code: b.code ?? b.status * 100, message: b.message ?? 'error', more_info: `https://www.twilio.com/docs/errors/${b.code ?? ''}`, status: b.status });
    }
    if (!to.startsWith('+') || !from || !body) {
      this.requests.push({ to, body, answered: 400 });
      return json(res, 400, { code: 21211, message: `The 'To' number ${to} is not a valid phone number.`, status: 400 });
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    this.requests.push({ to, body, answered: 201 });
    this.messages.push({ sid, accountSid: m[1], to, from, body });
    json(res, 201, { sid, account_sid: m[1], to, from, body, status: 'queued', num_segments: '1', direction: 'outbound-api', date_created: new Date().toUTCString(), uri: `/2010-04-01/Accounts/${m[1]}/Messages/${sid}.json` });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
