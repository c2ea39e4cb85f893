import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';

/**
 * Validates a posted form with the same DTO the JSON endpoint uses, but returns GOV.UK-style
 * field messages for re-rendering the page instead of throwing.
 */
export async function validateForm<T extends object>(dto: new () => T, body: unknown): Promise<{ value: T; errors: Record<string, string> }> {
  const plain = body && typeof body === 'object' ? { ...(body as Record<string, unknown>) } : {};
  delete plain._csrf;
  const value = plainToInstance(dto, plain);
  const errors: Record<string, string> = {};
  for (const e of await validate(value, { whitelist: true, forbidNonWhitelisted: false })) {
    const first = e.constraints ? Object.values(e.constraints)[0] : undefined;
    if (first) errors[e.property] = first;
  }
  return { value, errors };
}
