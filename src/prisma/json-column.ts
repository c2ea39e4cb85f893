import type { Prisma } from '../generated/prisma/client.js';

/**
 * Reads a Json column back as the shape the code stored, checking it on the way: Prisma types such columns as
 * any JSON value, and a row edited by hand (or written by an older version) must fail loudly here, not later.
 */
export function jsonObject(value: Prisma.JsonValue, column: string): Prisma.JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${column} holds no JSON object`);
  return value;
}

export function stringField(o: Prisma.JsonObject, key: string, column: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`${column}.${key} is not a string`);
  return v;
}

export function oneOf<T extends string>(o: Prisma.JsonObject, key: string, allowed: readonly T[], column: string): T {
  const v = stringField(o, key, column);
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`${column}.${key} is not one of ${allowed.join(', ')}`);
  return v as T;
}
