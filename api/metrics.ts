// Prometheus metrics of one API instance (its own registry, so several instances can share a process).
// The event pipeline's backlog and delivery lag are read from the database at scrape time, so any
// API instance shows the work of every dispatcher.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { deliveryBacklog, type DeliveryBacklog } from '../db/events';
import type { Pool } from '../db/pool';

export interface ApiMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  eventsIngested: Counter<'outcome'>;
  engagements: Counter<'kind' | 'machine' | 'outcome'>;
}

export function createMetrics(pool: Pool): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One query per scrape for all the pipeline's gauges; while the database cannot answer, the
  // gauges keep their last values rather than fail the whole scrape.
  let last: DeliveryBacklog = { undelivered: 0, retrying: 0, oldestSeconds: 0, lagSeconds: { p50: 0, p99: 0, max: 0, delivered: 0 }, lastError: null };
  let backlog: Promise<DeliveryBacklog> | undefined;
  const current = () => {
    backlog ??= deliveryBacklog(pool)
      .then((fresh) => (last = fresh), () => last)
      .finally(() => setTimeout(() => (backlog = undefined), 500).unref());
    return backlog;
  };
  const gauge = (name: string, help: string, read: (b: DeliveryBacklog) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await current()));
      },
    });
  gauge('nurture_events_undelivered', 'Stored events the dispatchers have not delivered to the workflows yet', (b) => b.undelivered);
  gauge('nurture_events_retrying', 'Undelivered events whose delivery failed at least once (Temporal unreachable)', (b) => b.retrying);
  gauge('nurture_event_oldest_undelivered_seconds', 'Age of the oldest undelivered event', (b) => b.oldestSeconds);
  new Gauge({
    name: 'nurture_event_delivery_lag_seconds',
    help: 'Stored-to-delivered time of the events delivered in the last 5 minutes, by quantile',
    labelNames: ['quantile'],
    registers: [registry],
    async collect() {
      const { lagSeconds } = await current();
      this.labels('0.5').set(lagSeconds.p50);
      this.labels('0.99').set(lagSeconds.p99);
      this.labels('1').set(lagSeconds.max);
    },
  });
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
      help: 'Opens and clicks, by kind, machine flag and outcome (stored, or a repeat of the same link within the window)',
      labelNames: ['kind', 'machine', 'outcome'],
      registers: [registry],
    }),
  };
}
