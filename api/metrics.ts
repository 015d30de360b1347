// Prometheus metrics of one API instance (its own registry, so several instances can share a process).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  eventsIngested: Counter<'outcome'>;
  engagements: Counter<'kind' | 'machine'>;
}

export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'nurture_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsIngested: new Counter({
      name: 'nurture_events_ingested_total',
      help: 'Lead events received, by outcome (new or duplicate)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    engagements: new Counter({
      name: 'nurture_email_engagements_total',
      help: 'Recorded opens and clicks, by kind and machine flag',
      labelNames: ['kind', 'machine'],
      registers: [registry],
    }),
  };
}
