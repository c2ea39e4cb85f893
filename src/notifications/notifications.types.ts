// The contract features use to send email and SMS. Implemented by NotificationsService (this module);
// messages are enqueued inside the caller's transaction and sent after commit, with retries.
import type { Language } from '../generated/prisma/enums.js';

export interface EmailMessage {
  to: string;
  /** A template name under the notifications templates, e.g. 'onboarding-received'. */
  template: string;
  language: Language;
  /** Values the template shows. Never a secret: a delivery link is added only when the email is sent (`registerLateData`). */
  data: Record<string, unknown>;
  /** Same key, same message: enqueueing twice sends once. E.g. `onboarding:<id>:received`. */
  idempotencyKey: string;
  /** What the message is about, so staff can see its fate next to the subject. */
  subject?: { type: string; id: string };
}

export interface SmsMessage {
  /** E.164. */
  to: string;
  template: string;
  language: Language;
  data: Record<string, unknown>;
  idempotencyKey: string;
  subject?: { type: string; id: string };
}
