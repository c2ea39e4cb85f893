import { describe, expect, it } from 'vitest';
import { digestCron } from './reviewer-digest.js';

describe('digestCron', () => {
  it('runs every N minutes, hourly at 60', () => {
    expect([1, 15, 30, 60].map(digestCron)).toEqual(['*/1 * * * *', '*/15 * * * *', '*/30 * * * *', '0 * * * *']);
  });
});
