import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { currentContext } from './request-context.js';

/** Any key that looks like it could hold a credential is replaced, at any depth. */
const SENSITIVE_KEY =
  /pass(word)?|secret|token|authori[sz]ation|cookie|^code$|otp|totp|recovery|api[-_]?key|private|session|signature|jwt|assertion|ciphertext|link/i;
export const REDACTED = '[redacted]';

/** Keys of the per-request access line (and other flat lines) that are known to hold no credential. */
const PLAIN_KEYS = new Set(['method', 'route', 'status', 'ms', 'correlationId', 'ip', 'context', 'signal', 'msg']);

/**
 * A flat object of plain keys and primitive values is passed through as it is: the access log's line is
 * written on every request and copying it costs more than checking it.
 */
function plainLine(value: Record<string, unknown>): boolean {
  for (const k in value) {
    const v = value[k];
    if (!PLAIN_KEYS.has(k) || (v !== null && typeof v === 'object')) return false;
  }
  return true;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (depth === 0 && !Array.isArray(value) && !(value instanceof Error) && plainLine(value as Record<string, unknown>)) return value;
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SENSITIVE_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/**
 * The service's stdout as pino writes it: lines are gathered in memory and written `LOG_BUFFER_BYTES` at a
 * time (4 KiB: one write per ~25 access lines instead of one per request, which cost the token endpoint a
 * quarter of its throughput), and at the latest every 250 ms, so a quiet service's lines still appear at once.
 * The writes are synchronous: nothing is ever in flight in a thread, so `flushSync` on exit writes every
 * line, on every path that ends the process through JavaScript (shutdown, `process.exit`, an uncaught
 * exception). A SIGKILL or a crash of Node itself loses at most the last buffer (~250 ms of lines).
 */
export function createLogDestination(fd = 1, bufferBytes = 4096): pino.DestinationStream & { flushSync(): void } {
  const destination = pino.destination({ dest: fd, sync: true, minLength: bufferBytes, periodicFlush: 250 });
  process.on('exit', () => {
    try {
      destination.flushSync();
    } catch {
      /* not open yet: nothing was written */
    }
  });
  return destination;
}

const SERVICE = 'credential-service';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: SERVICE },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      mixin() {
        const ctx = currentContext();
        return ctx ? { correlationId: ctx.correlationId } : {};
      },
    },
    destination,
  );
}

export interface AccessLine {
  method: string;
  route: string;
  status: number;
  ms: number;
  correlationId: string | undefined;
  ip: string | null | undefined;
}

/**
 * The per-request access line, written straight into the logger's destination: the same JSON line (same
 * keys, same order) `logger.info({ ... }, 'request')` writes, without pino's per-call merging, mixin,
 * redaction pass and serialisation, which together cost more than the rest of the line's work. Its keys are
 * fixed and hold no credential (the route template, never the raw URL); the correlation id is well-formed or
 * generated (see correlationIdFrom) and every string still goes through JSON escaping.
 */
export function createAccessLog(logger: Logger): (line: AccessLine) => void {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  const head = `{"level":"info","time":"`;
  const service = `","service":${JSON.stringify(SERVICE)}`;
  const routes = new Map<string, string>();
  let lastMs = 0;
  let lastTime = '';
  return (l) => {
    if (!logger.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastTime = new Date(now).toISOString();
    }
    let route = routes.get(l.route);
    if (route === undefined) {
      route = JSON.stringify(l.route);
      if (routes.size < 1000) routes.set(l.route, route);
    }
    const id = l.correlationId === undefined ? '' : `,"correlationId":${JSON.stringify(l.correlationId)}`;
    const ip = l.ip === undefined ? '' : `,"ip":${JSON.stringify(l.ip)}`;
    stream.write(
      `${head}${lastTime}${service}${id},"method":${JSON.stringify(l.method)},"route":${route},"status":${l.status},"ms":${l.ms}${ip},"msg":"request"}\n`,
    );
  };
}

/** Nest's start-up chatter (one line per module and route) is debug detail, not news. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Nest's logger interface over pino, so framework messages are JSON lines too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.write(context && BOOT_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, trace?: string, context?: string) {
    this.write('error', message, context, trace);
  }
  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string) {
    this.write('fatal', message, context);
  }
  private write(level: pino.Level, message: unknown, context?: string, trace?: string) {
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ context, trace, ...message });
    else this.logger[level]({ context, trace }, String(message));
  }
}
