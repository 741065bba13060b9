// The shim's Prometheus metrics: requests by route and status, their latency, open streams.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ShimMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'rdev_shim_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'rdev_shim_request_duration_seconds',
    help: 'HTTP request latency (streams: until the stream ends)',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly streams = new Gauge({
    name: 'rdev_shim_open_streams',
    help: 'Server-sent event streams open now',
    labelNames: ['route'],
    registers: [this.registry],
  });
}
