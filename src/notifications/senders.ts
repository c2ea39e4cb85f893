import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import twilio from 'twilio';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import { maskEmail, maskPhone } from './mask.js';
import { DevOutbox } from './outbox.js';
import type { RenderedEmail } from './templates.js';

/**
 * How a send attempt ended. `retry`: definitely not accepted (connection refused, 4xx SMTP, Twilio 5xx/429),
 * safe to try again. `permanent`: the provider refused for good (bad number, rejected recipient).
 * `ambiguous`: it may have been accepted (timeout, connection lost mid-request): an SMS is not resent.
 */
export type SendOutcome = { kind: 'sent'; providerId: string } | { kind: 'retry' | 'permanent' | 'ambiguous'; reason: string };

export interface OutgoingEmail {
  to: string;
  template: string;
  rendered: RenderedEmail;
  idempotencyKey: string;
  notificationId: string;
}

export interface OutgoingSms {
  to: string;
  template: string;
  body: string;
  idempotencyKey: string;
}

/** The one port of this codebase with two implementations: real providers and the development outbox. */
export abstract class MessageSender {
  abstract sendEmail(m: OutgoingEmail): Promise<SendOutcome>;
  abstract sendSms(m: OutgoingSms): Promise<SendOutcome>;
}

export function createSender(config: AppConfig, outbox: DevOutbox, logger: Logger): MessageSender {
  return config.devOutbox ? new OutboxSender(outbox, logger) : new ProviderSender(config);
}

export class OutboxSender extends MessageSender {
  constructor(
    private readonly outbox: DevOutbox,
    private readonly logger: Logger,
  ) {
    super();
  }
  async sendEmail(m: OutgoingEmail): Promise<SendOutcome> {
    const c = this.outbox.capture({
      channel: 'email',
      to: m.to,
      template: m.template,
      subject: m.rendered.subject,
      text: m.rendered.text,
      html: m.rendered.html,
    });
    // A summary only: the message itself may hold a one-time link.
    this.logger.info({ channel: 'email', template: m.template, recipient: maskEmail(m.to), outboxId: c.id }, 'dev outbox: email captured (see /dev/outbox)');
    return { kind: 'sent', providerId: `outbox-${c.id}` };
  }
  async sendSms(m: OutgoingSms): Promise<SendOutcome> {
    const c = this.outbox.capture({ channel: 'sms', to: m.to, template: m.template, text: m.body });
    this.logger.info({ channel: 'sms', template: m.template, recipient: maskPhone(m.to), outboxId: c.id }, 'dev outbox: SMS captured (see /dev/outbox)');
    return { kind: 'sent', providerId: `outbox-${c.id}` };
  }
}

/** Points the twilio client at another base URL (a regional proxy, or a local server in tests). */
export class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    opts: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(opts);
  }
  override request<T>(opts: Parameters<twilio.RequestClient['request']>[0]) {
    const u = new URL(opts.uri);
    return super.request<T>({ ...opts, uri: this.baseUrl + u.pathname + u.search } as typeof opts as never);
  }
}

export class ProviderSender extends MessageSender {
  private transporter?: Transporter;
  private twilioClient?: ReturnType<typeof twilio>;
  private readonly messageIdDomain: string;

  constructor(private readonly config: AppConfig) {
    super();
    if (config.smtpUrl) {
      // Timeouts ride on the URL's query (nodemailer reads transport options from it) unless it sets them.
      const url = new URL(config.smtpUrl);
      for (const [k, v] of [
        ['connectionTimeout', '10000'],
        ['greetingTimeout', '10000'],
        ['socketTimeout', '30000'],
      ]) {
        if (!url.searchParams.has(k)) url.searchParams.set(k, v);
      }
      this.transporter = nodemailer.createTransport(url.toString());
    }
    const t = config.twilio;
    if (t.accountSid && t.authToken) {
      const httpClient = t.apiBaseUrl ? new BaseUrlRequestClient(t.apiBaseUrl, { timeout: t.timeoutMs }) : new twilio.RequestClient({ timeout: t.timeoutMs });
      this.twilioClient = twilio(t.accountSid, t.authToken, { httpClient });
    }
    this.messageIdDomain = /@([^>\s]+)/.exec(config.mailFrom)?.[1] ?? 'localhost';
  }

  async sendEmail(m: OutgoingEmail): Promise<SendOutcome> {
    if (!this.transporter) return { kind: 'retry', reason: 'SMTP_URL is not configured' };
    try {
      const info = await this.transporter.sendMail({
        from: this.config.mailFrom,
        to: m.to,
        subject: m.rendered.subject,
        text: m.rendered.text,
        html: m.rendered.html,
        // Same key, same Message-ID: a retried send after an ambiguous SMTP failure can be recognised.
        messageId: `<${createHash('sha256').update(m.idempotencyKey).digest('hex').slice(0, 32)}@${this.messageIdDomain}>`,
        headers: { 'X-Notification-Id': m.notificationId },
      });
      return { kind: 'sent', providerId: info.messageId };
    } catch (err) {
      return classifySmtpError(err);
    }
  }

  async sendSms(m: OutgoingSms): Promise<SendOutcome> {
    if (!this.twilioClient || !this.config.twilio.from) return { kind: 'retry', reason: 'Twilio is not configured' };
    try {
      const msg = await this.twilioClient.messages.create({ to: m.to, from: this.config.twilio.from, body: m.body });
      return { kind: 'sent', providerId: msg.sid };
    } catch (err) {
      return classifyTwilioError(err);
    }
  }
}

/** Reasons are built from the provider's status and code: never the raw error, whose request config holds the body. */
export function classifySmtpError(err: unknown): SendOutcome {
  const e = err as { responseCode?: number; code?: string; response?: string };
  const response = typeof e.response === 'string' ? e.response.slice(0, 300) : undefined;
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) {
    return { kind: 'permanent', reason: `SMTP ${e.responseCode}: ${response ?? e.code ?? 'rejected'}` };
  }
  if (typeof e.responseCode === 'number') return { kind: 'retry', reason: `SMTP ${e.responseCode}: ${response ?? e.code ?? 'deferred'}` };
  return { kind: 'retry', reason: `SMTP unavailable (${e.code ?? 'error'})` };
}

export function classifyTwilioError(err: unknown): SendOutcome {
  const e = err as { status?: number; code?: number | string; message?: string; moreInfo?: string };
  if (typeof e.status === 'number') {
    const detail = `Twilio HTTP ${e.status}${typeof e.code === 'number' ? ` error ${e.code}` : ''}: ${String(e.message ?? '').slice(0, 300)}`;
    if (e.status === 429 || e.status >= 500) return { kind: 'retry', reason: detail };
    return { kind: 'permanent', reason: detail };
  }
  // No HTTP status: the request never got an answer. Refused or unresolvable means it never arrived.
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(e.code)) {
    return { kind: 'retry', reason: `Twilio unreachable (${e.code})` };
  }
  return { kind: 'ambiguous', reason: `no answer from Twilio (${typeof e.code === 'string' ? e.code : 'timeout or connection lost'})` };
}
