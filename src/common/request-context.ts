import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export type ActorType = 'staff' | 'partner_contact' | 'system';
export interface Actor {
  type: ActorType;
  id: string | null;
}

/** Who does what, from where, under which correlation id: the facts every audit row and log line carries. */
export interface RequestContext {
  correlationId: string;
  clientIp: string | null;
  userAgent: string | null;
  actor: Actor;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };

const storage = new AsyncLocalStorage<RequestContext>();

export const requestContextStorage = storage;

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** For jobs, CLIs and tests: a context with the system as actor. */
export function systemContext(correlationId = randomUUID()): RequestContext {
  return { correlationId, clientIp: null, userAgent: null, actor: SYSTEM_ACTOR };
}

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** A caller's correlation id is kept when it is well-formed, otherwise a fresh one is made. */
export function correlationIdFrom(header: unknown): string {
  return typeof header === 'string' && WELL_FORMED.test(header) ? header : randomUUID();
}
