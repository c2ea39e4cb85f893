import { describe, expect, it } from 'vitest';
import { classifySmtpError, classifyTwilioError } from './senders.js';

describe('classifying provider failures', () => {
  it('SMTP: 5xx is permanent, 4xx and connection problems are retried', () => {
    expect(classifySmtpError({ responseCode: 550, code: 'EENVELOPE', response: '550 5.1.1 no such user' })).toEqual({
      kind: 'permanent',
      reason: 'SMTP 550: 550 5.1.1 no such user',
    });
    expect(classifySmtpError({ responseCode: 451, response: '451 try later' }).kind).toBe('retry');
    expect(classifySmtpError({ code: 'ECONNECTION' })).toEqual({ kind: 'retry', reason: 'SMTP unavailable (ECONNECTION)' });
  });

  it('Twilio: 4xx is permanent, 5xx/429/refused are retried, no answer is ambiguous (an SMS is then not resent)', () => {
    expect(classifyTwilioError({ status: 400, code: 21211, message: 'invalid To' })).toEqual({
      kind: 'permanent',
      reason: 'Twilio HTTP 400 error 21211: invalid To',
    });
    expect(classifyTwilioError({ status: 400, code: 21614, message: 'not a mobile number' }).kind).toBe('permanent');
    expect(classifyTwilioError({ status: 503 }).kind).toBe('retry');
    expect(classifyTwilioError({ status: 429, code: 20429 }).kind).toBe('retry');
    expect(classifyTwilioError({ code: 'ECONNREFUSED' }).kind).toBe('retry');
    expect(classifyTwilioError({ code: 'ECONNABORTED' }).kind).toBe('ambiguous');
    expect(classifyTwilioError({ code: 'ECONNRESET' }).kind).toBe('ambiguous');
    expect(classifyTwilioError(new Error('timeout of 1000ms exceeded')).kind).toBe('ambiguous');
  });

  it('never copies the request (which holds the message body) into the reason', () => {
    const err = Object.assign(new Error('x'), { code: 'ECONNRESET', config: { data: 'Body=12345678' } });
    expect(JSON.stringify(classifyTwilioError(err))).not.toContain('12345678');
  });
});
