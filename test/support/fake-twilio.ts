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
export type TwilioBehaviour = { kind: 'accept' } | { kind: 'error'; status: number; code?: number; message?: string } | { kind: 'hang' };

/** One number as the fake Lookup v2 describes it: its line type and, when set, the date of its last SIM change. */
export interface LookupEntry {
  lineType?: string;
  swappedAt?: Date | null;
  /** The period the (fake) Twilio account checks swaps over; `swapped_in_period` is computed against it. */
  swappedPeriod?: string;
  /** Leave the swap date out (many carriers only say whether a swap happened in the period). */
  hideSwapDate?: boolean;
}

export type LookupBehaviour = { kind: 'answer' } | { kind: 'error'; status: number } | { kind: 'hang' } | { kind: 'malformed' };

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
  /** Lookup v2 requests that reached the server: the number and the Fields asked for. */
  readonly lookups: Array<{ number: string; fields: string | null }> = [];
  readonly numbers = new Map<string, LookupEntry>();
  lookupBehaviour: LookupBehaviour = { kind: 'answer' };
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
    if ((req.url ?? '').startsWith('/v2/PhoneNumbers/')) return answerLookup(this, req, res);
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
      return json(res, b.status, {
        code: b.code ?? b.status * 100,
        message: b.message ?? 'error',
        more_info: `https://www.twilio.com/docs/errors/${b.code ?? ''}`,
        status: b.status,
      });
    }
    if (!to.startsWith('+') || !from || !body) {
      this.requests.push({ to, body, answered: 400 });
      return json(res, 400, { code: 21211, message: `The 'To' number ${to} is not a valid phone number.`, status: 400 });
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    this.requests.push({ to, body, answered: 201 });
    this.messages.push({ sid, accountSid: m[1], to, from, body });
    json(res, 201, {
      sid,
      account_sid: m[1],
      to,
      from,
      body,
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${m[1]}/Messages/${sid}.json`,
    });
  }
}

/**
 * Lookup v2: `GET /v2/PhoneNumbers/{E164}?Fields=line_type_intelligence,sim_swap`, basic auth, the JSON shape
 * Twilio documents. Numbers not in `numbers` are mobile lines without a SIM change.
 */
function answerLookup(t: FakeTwilio, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const number = decodeURIComponent(url.pathname.slice('/v2/PhoneNumbers/'.length));
  const expected = 'Basic ' + Buffer.from(`${TEST_TWILIO.accountSid}:${TEST_TWILIO.authToken}`).toString('base64');
  if (req.method !== 'GET') return json(res, 405, { code: 20004, message: 'Method not allowed', status: 405 });
  if (req.headers.authorization !== expected) return json(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
  const fields = url.searchParams.get('Fields');
  t.lookups.push({ number, fields });
  const b = t.lookupBehaviour;
  if (b.kind === 'hang') return;
  if (b.kind === 'error')
    return json(res, b.status, { code: 20500, message: 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status: b.status });
  if (b.kind === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end('{"line_type_intelligence": "mobile", "sim_swap": ');
  }
  const e = t.numbers.get(number) ?? {};
  const wanted = new Set((fields ?? '').split(',').map((f) => f.trim()));
  const period = e.swappedPeriod ?? 'PT168H';
  const periodMs = Number(/^PT(\d+)H$/.exec(period)?.[1] ?? 168) * 3600_000;
  const swappedAt = e.swappedAt ?? null;
  json(res, 200, {
    calling_country_code: '31',
    country_code: 'NL',
    phone_number: number,
    national_format: number,
    valid: true,
    validation_errors: [],
    caller_name: null,
    sim_swap: wanted.has('sim_swap')
      ? {
          last_sim_swap: {
            last_sim_swap_date: swappedAt && !e.hideSwapDate ? swappedAt.toISOString().replace(/\.\d{3}Z$/, 'Z') : null,
            swapped_period: period,
            swapped_in_period: swappedAt !== null && Date.now() - swappedAt.getTime() <= periodMs,
          },
          carrier_name: 'Fake Mobile',
          mobile_country_code: '204',
          mobile_network_code: '16',
          error_code: null,
        }
      : null,
    call_forwarding: null,
    line_status: null,
    line_type_intelligence: wanted.has('line_type_intelligence')
      ? { error_code: null, mobile_country_code: '204', mobile_network_code: '16', carrier_name: 'Fake Mobile', type: e.lineType ?? 'mobile' }
      : null,
    identity_match: null,
    reassigned_number: null,
    sms_pumping_risk: null,
    phone_number_quality_score: null,
    pre_fill: null,
    url: `https://lookups.twilio.com/v2/PhoneNumbers/${number}`,
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
