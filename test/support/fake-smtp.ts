import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: ParsedMail['headers'];
}

/**
 * A real SMTP server (smtp-server + mailparser) on a random local port. `url` goes into SMTP_URL.
 * `stop()`/`start()` simulate an outage (same port), `rejectRecipients` answers 550 for matching addresses,
 * `failNext(n)` answers 451 (a temporary failure) to the next n messages.
 */
export class FakeSmtp {
  readonly messages: ReceivedMail[] = [];
  /** Addresses (or patterns) refused with `550 5.1.1 recipient rejected`. */
  rejectRecipients: Array<string | RegExp> = [];
  private tempFailures = 0;
  private server?: SMTPServer;
  port = 0;

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<FakeSmtp> {
    const s = new FakeSmtp();
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (address, _session, cb) => {
        const rejected = this.rejectRecipients.some((r) =>
          typeof r === 'string' ? r.toLowerCase() === address.address.toLowerCase() : r.test(address.address),
        );
        if (rejected) {
          const err = Object.assign(new Error('5.1.1 recipient rejected: no such user'), { responseCode: 550 });
          return cb(err);
        }
        cb();
      },
      onData: (stream, session, cb) => {
        if (this.tempFailures > 0) {
          this.tempFailures--;
          stream.resume();
          stream.on('end', () => cb(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 })));
          return;
        }
        simpleParser(stream)
          .then((mail) => {
            this.messages.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
              messageId: mail.messageId ?? '',
              headers: mail.headers,
            });
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  failNext(n: number): void {
    this.tempFailures = n;
  }

  /** Messages to one address, oldest first. */
  to(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.to.some((a) => a.toLowerCase() === address.toLowerCase()));
  }

  clear(): void {
    this.messages.length = 0;
  }
}
