import type { Registry } from 'prom-client';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Requests {
  labels: { method: string; route: string; status: string };
  count: number;
}

interface Durations {
  labels: { method: string; route: string };
  /** Per bucket (not cumulative); the last slot holds what is above every bound. */
  buckets: Float64Array;
  count: number;
  sum: number;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * `http_requests_total` and `http_request_duration_seconds`, counted on every request by two Map lookups
 * keyed by plain strings. prom-client's own Counter and Histogram hash a label object per call (~7 µs
 * for the pair here, several percent of a token request's CPU); these are turned into its exposition
 * format only when scraped. The label sets stay bounded: route templates (never raw URLs) and statuses.
 */
export class RequestMetrics {
  private readonly requests = new Map<string, Requests>();
  private readonly durations = new Map<string, Durations>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    let d = this.durations.get(key);
    if (!d) this.durations.set(key, (d = { labels: { method, route }, buckets: new Float64Array(BUCKETS.length + 1), count: 0, sum: 0 }));
    const rkey = `${key} ${status}`;
    let r = this.requests.get(rkey);
    if (!r) this.requests.set(rkey, (r = { labels: { method, route, status: String(status) }, count: 0 }));
    r.count++;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    d.buckets[i]++;
    d.count++;
    d.sum += seconds;
  }

  register(registry: Registry): void {
    const counter = { name: 'http_requests_total', help: 'HTTP requests by route template and status', type: 'counter', aggregator: 'sum' };
    const histogram = { name: 'http_request_duration_seconds', help: 'HTTP request duration by route template', type: 'histogram', aggregator: 'sum' };
    const metric = (meta: typeof counter, values: () => MetricValue[]) => ({
      ...meta,
      get: async () => ({ ...meta, values: values() }),
      reset: () => this.reset(),
    });
    registry.registerMetric(metric(counter, () => [...this.requests.values()].map((r) => ({ value: r.count, labels: r.labels }))) as never);
    registry.registerMetric(
      metric(histogram, () =>
        [...this.durations.values()].flatMap((d) => {
          let cumulative = 0;
          const values: MetricValue[] = BUCKETS.map((le, i) => ({
            value: (cumulative += d.buckets[i]),
            labels: { ...d.labels, le },
            metricName: `${histogram.name}_bucket`,
          }));
          values.push({ value: d.count, labels: { ...d.labels, le: '+Inf' }, metricName: `${histogram.name}_bucket` });
          values.push({ value: d.sum, labels: d.labels, metricName: `${histogram.name}_sum` });
          values.push({ value: d.count, labels: d.labels, metricName: `${histogram.name}_count` });
          return values;
        }),
      ) as never,
    );
  }

  private reset(): void {
    this.requests.clear();
    this.durations.clear();
  }
}
