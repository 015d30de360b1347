// Event ingest over real HTTP: events/s and p50/p99 latency of POST /v1/events at a fixed
// concurrency (the API in a process of its own, fetch as the client in this one, embedded
// PostgreSQL), and of POST /v1/events/batch, against a baseline measured in the same run — a
// one-event insert of the event store (db/events.ts: one statement, one round trip) at the same
// concurrency from this process, the floor any ingest path pays.
//
// The API only stores events (the workers' dispatcher delivers them: bench/dispatch-lag.ts), so
// the figures are the whole accept path: key check (cached), lead resolution and idempotent
// insert in one statement, the NOTIFY that wakes the dispatchers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { addressHash } from '../db/addresses';
import { createApiKey } from '../db/api-keys';
import { storeEvents } from '../db/events';
import { unerasedLeadIdsByHash } from '../db/leads';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startEmbeddedPostgres } from '../devserver/postgres';
import { startTsxProcess } from './support/child-process';

const CONCURRENCY = 32;
const EVENTS = 10_000;
const BATCH_EVENTS = 50_000;
const LEADS = 500;
const BATCH_SIZE = 500;
const API_PROCESS = fileURLToPath(new URL('./processes/api.ts', import.meta.url));

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

/** The API in a child process (so that this process's client does not share its event loop). */
async function startApiProcess(databaseUrl: string): Promise<{ address: string; process: ChildProcess }> {
  const profile = process.env.BENCH_API_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_API_PROFILE] : [];
  const { child, match } = await startTsxProcess(API_PROCESS, [databaseUrl, String(CONCURRENCY + 8)], /listening (\S+)/, profile);
  return { address: match[1]!, process: child };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nurture-bench-ingest-'));
  const database = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false });
  const pool = createPool(await database.createDatabase('ingest'), CONCURRENCY + 8);
  let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
  try {
    await migrate(database.urlFor('ingest'));
    api = await startApiProcess(database.urlFor('ingest'));
    const address = api.address;
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

    await drive(2000, CONCURRENCY, postOne('warmup'));
    const single = await drive(EVENTS, CONCURRENCY, postOne('single'));
    const batches = await drive(BATCH_EVENTS / BATCH_SIZE, 4, async (batch) => {
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

    const rate = (count: number, seconds: number) => Math.round(count / seconds);
    const line = (name: string, count: number, run: { seconds: number; latencies: number[] }, unit = 'request') =>
      `  ${name.padEnd(34)} ${rate(count, run.seconds).toLocaleString('en').padStart(7)} events/s   p50 ${percentile(run.latencies, 50).toFixed(1)} ms   p99 ${percentile(run.latencies, 99).toFixed(1)} ms per ${unit}`;
    console.log(`event ingest (${EVENTS.toLocaleString('en')} single events and ${BATCH_EVENTS.toLocaleString('en')} in batches, ${LEADS} leads, ${CONCURRENCY} clients; the API in its own process, embedded PostgreSQL)`);
    console.log(line('POST /v1/events over HTTP', EVENTS, single));
    console.log(line(`POST /v1/events/batch (${BATCH_SIZE}/batch, 4 in flight)`, BATCH_EVENTS, batches, 'batch'));
    console.log(line('baseline: the store\'s one-event insert', EVENTS, raw, 'insert'));
    console.log(`  ratio: single-event API reaches ${((rate(EVENTS, single.seconds) / rate(EVENTS, raw.seconds)) * 100).toFixed(0)}% of the bare insert's throughput; batch ingest ${(rate(BATCH_EVENTS, batches.seconds) / rate(EVENTS, raw.seconds)).toFixed(1)}× one-event inserts`);
  } finally {
    api?.process.kill('SIGTERM');
    await pool.end();
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
