import { Injectable } from '@nestjs/common';

/** Time comes from here so expiry, TOTP windows and overlap windows are testable without sleeping. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

export class FakeClock extends Clock {
  constructor(private current = new Date()) {
    super();
  }
  override now(): Date {
    return new Date(this.current);
  }
  set(at: Date): void {
    this.current = new Date(at);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
