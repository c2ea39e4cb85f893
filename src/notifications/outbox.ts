import { Injectable } from '@nestjs/common';

export interface CapturedMessage {
  id: number;
  channel: 'email' | 'sms';
  to: string;
  template: string;
  subject?: string;
  text: string;
  html?: string;
  capturedAt: string;
}

const KEEP = 200;

/**
 * The development outbox: messages that would have gone to SMTP or Twilio. Kept in this process's memory
 * on purpose: they hold one-time links and SMS codes, which must never be written to the database or logs.
 * (Each instance has its own outbox; development runs one.) Never enabled in production (loadConfig refuses).
 */
@Injectable()
export class DevOutbox {
  private readonly messages: CapturedMessage[] = [];
  private next = 1;

  capture(m: Omit<CapturedMessage, 'id' | 'capturedAt'>): CapturedMessage {
    const captured = { ...m, id: this.next++, capturedAt: new Date().toISOString() };
    this.messages.push(captured);
    if (this.messages.length > KEEP) this.messages.splice(0, this.messages.length - KEEP);
    return captured;
  }

  /** Newest first. */
  list(): CapturedMessage[] {
    return [...this.messages].reverse();
  }

  clear(): void {
    this.messages.length = 0;
  }
}
