import { Registry, collectDefaultMetrics } from 'prom-client';
import { RequestMetrics } from './request-metrics.js';

/** One registry per app instance, so tests that start several apps in one process do not collide. */
export class Metrics {
  readonly registry = new Registry();
  /** Every HTTP request's route template, status and duration (see RequestMetrics). */
  readonly http = new RequestMetrics();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.http.register(this.registry);
  }
}
