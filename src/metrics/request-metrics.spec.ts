import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.js';

describe('request metrics', () => {
  it('exposes counts by status and a cumulative duration histogram in the Prometheus format', async () => {
    const m = new Metrics();
    m.http.observe('POST', '/oauth/:env/token', 200, 0.003);
    m.http.observe('POST', '/oauth/:env/token', 200, 0.005);
    m.http.observe('POST', '/oauth/:env/token', 401, 3);
    const text = await m.registry.metrics();
    const route = 'method="POST",route="/oauth/:env/token"';
    expect(text).toContain(`http_requests_total{${route},status="200"} 2\n`);
    expect(text).toContain(`http_requests_total{${route},status="401"} 1\n`);
    expect(text).toContain(`http_request_duration_seconds_bucket{${route},le="0.0025"} 0\n`);
    // A value on a bound counts in that bucket (le is "less than or equal").
    expect(text).toContain(`http_request_duration_seconds_bucket{${route},le="0.005"} 2\n`);
    expect(text).toContain(`http_request_duration_seconds_bucket{${route},le="2.5"} 2\n`);
    expect(text).toContain(`http_request_duration_seconds_bucket{${route},le="+Inf"} 3\n`);
    expect(text).toContain(`http_request_duration_seconds_sum{${route}} 3.008\n`);
    expect(text).toContain(`http_request_duration_seconds_count{${route}} 3\n`);
  });
});
