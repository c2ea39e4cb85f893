import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAccessLog, createLogger } from './logger.js';
import { requestContextStorage, systemContext } from './request-context.js';

function sink(level: string) {
  const lines: string[] = [];
  const logger = createLogger(
    level,
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  return { logger, lines };
}

describe('createAccessLog', () => {
  it('writes the line logger.info writes for the same request: same keys, order and values', () => {
    const { logger, lines } = sink('info');
    const access = createAccessLog(logger);
    const fields = { method: 'POST', route: '/oauth/:env/token', status: 401, ms: 3, correlationId: 'abc-1234567"8', ip: '::ffff:10.0.0.1' };
    requestContextStorage.run({ ...systemContext(), correlationId: fields.correlationId }, () => {
      logger.info(fields, 'request');
      access(fields);
    });
    access({ ...fields, correlationId: undefined, ip: null, route: 'unmatched' });
    logger.info({ ...fields, correlationId: undefined, ip: null, route: 'unmatched' }, 'request');
    const [viaPino, direct, directNoCtx, pinoNoCtx] = lines.map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'));
    expect(direct).toBe(viaPino);
    expect(directNoCtx.endsWith('\n')).toBe(true);
    expect(JSON.parse(directNoCtx)).toEqual(JSON.parse(pinoNoCtx));
    expect(new Date(JSON.parse(lines[1]).time).getTime()).toBeGreaterThan(Date.now() - 5000);
  });

  it('writes nothing below the info level', () => {
    const { logger, lines } = sink('warn');
    createAccessLog(logger)({ method: 'GET', route: '/health', status: 200, ms: 0, correlationId: 'x', ip: null });
    expect(lines).toEqual([]);
  });
});
