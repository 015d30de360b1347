// Event ingest over real HTTP: events/s and p50/p99 latency of POST /v1/events at a fixed
// concurrency (the API listening on a port, fetch as the client, embedded PostgreSQL), and of
// POST /v1/events/batch, against a baseline measured in the same run — the event store's own
// one-event insert (db/events.ts, one statement and one round trip) at the same concurrency,
// the floor any ingest path pays.
//
// The engine is a no-op here (workflow delivery is measured by the Temporal benchmarks), so
// the figures are the API's own cost: key check, lead upsert, idempotent insert, bookkeeping.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApi } from '../api/app';
import type { Engine } from '../api/engine';
import { addressHash } from '../db/addresses';
import { createApiKey } from '../db/api-keys';
import { storeEvents } from '../db/events';
import { unerasedLeadIdsByHash } from '../db/leads';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startEmbeddedPostgres } from '../devserver/postgres';

const CONCURRENCY = 32;
const EVENTS = 6000;
const LEADS = 500;
const BATCH_SIZE = 100;

const quietEngine: Engine = {
  deliverEvent: async () => {},
  enrol: async () => ({ workflowId: 'none', alreadyEnrolled: false }),
  exitEnrolment: async () => {},
  enrolmentState: async () => undefined,
  consentChanged: async () => {},
  salesResponse: async () => {},
  campaignStatusChanged: async () => {
    throw new Error('not used by this benchmark');
  },
  migrateCampaign: async () => {
    throw new Error('not used by this benchmark');
  },
  migrateEnrolment: async () => ({ campaignVersion: 0 }),
};

/** Runs `count` tasks with `concurrency` in flight; returns each task's latency (ms) and the wall time (s). */
async function drive(count: number, concurrency: number, task: (index: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const t0 = performance.now();
        await task(index);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nurture-bench-ingest-'));
  const database = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false });
  const pool = createPool(await database.createDatabase('ingest'), CONCURRENCY + 8);
  try {
    await migrate(database.urlFor('ingest'));
    const app = await buildApi({ pool, engine: quietEngine, links: { baseUrl: 'http://127.0.0.1', secret: 'bench' }, rateLimit: false });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const { key } = await createApiKey(pool, 'bench', ['read', 'write']);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const event = (run: string, index: number) => ({
      id: `${run}-${index}`,
      lead: { email: `lead${index % LEADS}@bench.example` },
      type: 'page.viewed',
      data: { page: index % 3 === 0 ? 'pricing' : 'docs', path: `/p/${index}` },
    });
    const postOne = (run: string) => async (index: number) => {
      const response = await fetch(`${address}/v1/events`, { method: 'POST', headers, body: JSON.stringify(event(run, index)) });
      if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };

    await drive(500, CONCURRENCY, postOne('warmup'));
    const single = await drive(EVENTS, CONCURRENCY, postOne('single'));
    const batches = await drive(EVENTS / BATCH_SIZE, Math.min(CONCURRENCY, 8), async (batch) => {
      const events = Array.from({ length: BATCH_SIZE }, (_, i) => event('batch', batch * BATCH_SIZE + i));
      const response = await fetch(`${address}/v1/events/batch`, { method: 'POST', headers, body: JSON.stringify({ events }) });
      if (response.status !== 200) throw new Error(`POST /v1/events/batch answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    });
    const leadIds = [...(await unerasedLeadIdsByHash(pool, Array.from({ length: LEADS }, (_, i) => addressHash(`lead${i}@bench.example`)))).values()];
    const raw = await drive(EVENTS, CONCURRENCY, async (index) => {
      await storeEvents(pool, [
        { externalId: `raw-${index}`, leadId: leadIds[index % leadIds.length]!, type: 'page.viewed', occurredAt: new Date(), data: { page: 'docs', path: `/p/${index}` } },
      ]);
    });
    await app.close();

    const rate = (count: number, seconds: number) => Math.round(count / seconds);
    const line = (name: string, count: number, run: { seconds: number; latencies: number[] }, unit = 'request') =>
      `  ${name.padEnd(34)} ${rate(count, run.seconds).toLocaleString('en').padStart(7)} events/s   p50 ${percentile(run.latencies, 50).toFixed(1)} ms   p99 ${percentile(run.latencies, 99).toFixed(1)} ms per ${unit}`;
    console.log(`event ingest (${EVENTS.toLocaleString('en')} events, ${LEADS} leads, concurrency ${CONCURRENCY}, embedded PostgreSQL, no-op engine)`);
    console.log(line('POST /v1/events over HTTP', EVENTS, single));
    console.log(line(`POST /v1/events/batch (${BATCH_SIZE}/batch, 8 in flight)`, EVENTS, batches, 'batch'));
    console.log(line('baseline: the store\'s one-event insert', EVENTS, raw, 'insert'));
    console.log(`  ratio: single-event API reaches ${((rate(EVENTS, single.seconds) / rate(EVENTS, raw.seconds)) * 100).toFixed(0)}% of the bare insert's throughput; batch ingest ${(rate(EVENTS, batches.seconds) / rate(EVENTS, raw.seconds)).toFixed(1)}× one-event inserts`);
  } finally {
    await pool.end();
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
