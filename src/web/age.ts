/** "3 days", "5 hours", "12 minutes": how long something has waited, in its largest whole unit. */
export function ageOf(since: Date | string, now: Date): string {
  const ms = now.getTime() - new Date(since).getTime();
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, name] of units) {
    const n = Math.floor(ms / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? '' : 's'}`;
  }
  return 'less than a minute';
}
