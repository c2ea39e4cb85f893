/** A whole-number setting within bounds; a bad value is reported as a problem and the default used. */
export function wholeNumber(env: NodeJS.ProcessEnv, problems: string[], name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return n;
}

/** `true`/`false`, or the fallback when unset; anything else is a problem. */
export function flag(env: NodeJS.ProcessEnv, problems: string[], name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') problems.push(`${name} must be true or false (got "${raw}")`);
  return raw === 'true';
}
