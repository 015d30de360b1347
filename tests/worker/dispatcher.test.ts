// Accept, then dispatch, on the real parts: two API instances over HTTP, the worker runtime's
// dispatcher plus a second dispatcher (its own database sessions, as another worker process has),
// Temporal's dev server on a database file so that it can be stopped and started again. Events
// reach their workflows exactly once and in each lead's order, also when two dispatchers race and
// when Temporal is down while they are posted: the API acknowledges every one at its usual speed
// and the dispatchers deliver them all once Temporal is back, without anyone restarting anything.
// The server is Temporal's CLI as a plain process (stopped with SIGTERM, started again on its file).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../api/app';
import { createTemporalEngine } from '../../api/temporal-engine';
import { LISTENING_CAMPAIGN } from '../../bench/support/campaigns';
import type { LeadEvent } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { deliveryBacklog } from '../../db/events';
import { startSmtpSink, type SmtpSink } from '../../devserver/smtp-sink';
import { DEV_SERVER_DYNAMIC_CONFIG, TEMPORAL_CLI } from '../../devserver/temporal';
import { startDispatcher, type Dispatcher } from '../../worker/dispatcher';
import { startWorkerRuntime, type WorkerRuntime } from '../../worker/runtime';
import { TEST_CONFIG, workflowBundle } from '../e2e/harness';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { diagnoseWorkflow } from '../support/workflow-diagnosis';
import { freePort } from '../../runtime/free-port';

const campaign = LISTENING_CAMPAIGN;

let dir: string;
let port: number;
let server: ChildProcess;
let db: TestDatabase;
let sink: SmtpSink;
let client: Client;
let native: NativeConnection;
let runtime: WorkerRuntime;
let secondDispatcher: Dispatcher;
const apis: FastifyInstance[] = [];
const apiUrls: string[] = [];
const METRICS_TOKEN = 'metrics-token-of-the-dispatcher-test-0123456789';
let key: string;
const taskQueue = 'dispatch';

/** The CLI dev server on the test's port and database file; resolves once it answers. */
async function startTemporal(): Promise<ChildProcess> {
  const child = spawn(TEMPORAL_CLI, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', join(dir, 'temporal.db'), '--headless', '--log-level', 'error', ...DEV_SERVER_DYNAMIC_CONFIG], { stdio: 'ignore' });
  for (const deadline = Date.now() + 60_000; ; ) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited with ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return child;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
async function stopTemporal(): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nurture-dispatch-'));
  port = await freePort();
  [server, db, sink] = await Promise.all([startTemporal(), createTestDatabase(), startSmtpSink()]);
  // Connections of our own, as production processes have: they outlive the server's restarts.
  const address = `127.0.0.1:${port}`;
  client = new Client({ connection: await Connection.connect({ address }) });
  native = await NativeConnection.connect({ address });
  runtime = await startWorkerRuntime({
    connection: native,
    client,
    pool: db.pool,
    config: { ...TEST_CONFIG, taskQueue, databaseUrl: db.url, smtpUrl: sink.url },
    workflowBundle: await workflowBundle(),
  });
  secondDispatcher = startDispatcher({ client, pool: db.pool, databaseUrl: db.url, taskQueue });
  const engine = createTemporalEngine({ client, pool: db.pool, taskQueue });
  for (let i = 0; i < 2; i++) {
    const app = await buildApi({ pool: db.pool, engine, links: { baseUrl: TEST_CONFIG.publicUrl, secret: TEST_CONFIG.linkSecret }, rateLimit: false, metricsToken: METRICS_TOKEN });
    apiUrls.push(await app.listen({ port: 0, host: '127.0.0.1' }));
    apis.push(app);
  }
  key = (await createApiKey(db.pool, 'dispatch test', ['read', 'write'])).key;
  await saveCampaignVersion(db.pool, campaign);
  await setCampaignStatus(db.pool, campaign.id, 'active');
}, 180_000);

afterAll(async () => {
  await Promise.all(apis.map((app) => app.close()));
  await secondDispatcher?.stop();
  await runtime?.stop();
  await native?.close();
  await client?.connection.close();
  await stopTemporal();
  await sink?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Posted {
  status: number;
  ms: number;
}

/** POSTs one event to an API instance over HTTP. */
async function post(apiIndex: number, body: object): Promise<Posted> {
  const started = performance.now();
  const response = await fetch(`${apiUrls[apiIndex]}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

/**
 * Each lead's events in order — a sign-up, then `views` page views — posted one after another
 * (alternating between the two APIs), `concurrency` leads at a time. Returns every answer and
 * the ids sent per lead address.
 */
async function postJourneys(prefix: string, leads: number, views: number, concurrency: number) {
  const answers: Posted[] = [];
  const sent = new Map<string, string[]>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let lead = next++; lead < leads; lead = next++) {
        const email = `${prefix}-${lead}@example.com`;
        const ids: string[] = [];
        for (let n = 0; n <= views; n++) {
          const id = `${prefix}-${lead}-${n}`;
          const type = n === 0 ? 'signup.completed' : 'page.viewed';
          answers.push(await post(n % 2, { id, lead: { email }, type, data: { n } }));
          ids.push(id);
        }
        sent.set(email, ids);
      }
    }),
  );
  return { answers, sent };
}

/** The event ids each workflow received by signal (signal-with-start included), in history order. */
async function receivedIds(email: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ workflow_id: string }>('SELECT e.workflow_id FROM enrolments e JOIN leads l ON l.id = e.lead_id WHERE l.email = $1', [email]);
  expect(rows).toHaveLength(1);
  const history = await client.workflow.getHandle(rows[0]!.workflow_id).fetchHistory();
  const ids: string[] = [];
  for (const event of history.events ?? []) {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== 'leadEvent') continue;
    const [payload] = await runtime.payloadCodec.decode([signal.input!.payloads![0]!]); // encrypted with the lead's key
    ids.push(defaultPayloadConverter.fromPayload<LeadEvent>(payload!).id);
  }
  return ids;
}

const workflowOf = async (email: string) =>
  (await db.pool.query<{ workflow_id: string }>('SELECT e.workflow_id FROM enrolments e JOIN leads l ON l.id = e.lead_id WHERE l.email = $1', [email])).rows[0]!.workflow_id;

const scoreOf = async (email: string) =>
  (await db.pool.query<{ score: number }>('SELECT e.score FROM enrolments e JOIN leads l ON l.id = e.lead_id WHERE l.email = $1', [email])).rows[0]?.score;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

describe('the dispatcher', () => {
  it('delivers each lead\'s events exactly once and in order with two APIs and two dispatchers racing', async () => {
    const { answers, sent } = await postJourneys('race', 40, 11, 16);
    expect(answers.filter((answer) => answer.status !== 202)).toEqual([]);
    await vi.waitFor(async () => expect((await deliveryBacklog(db.pool)).undelivered).toBe(0), { timeout: 60_000, interval: 200 });
    for (const [email, ids] of sent) {
      expect(await receivedIds(email)).toEqual(ids);
      // The scores say each event counted once. A wait past 10 s is not expected: the workflow's
      // state is printed then, to find what held it (seen once in CI, beside other test files).
      const waiting = Date.now();
      await vi.waitFor(async () => expect(await scoreOf(email)).toBe(11), { timeout: 90_000 }).catch(async (error) => {
        throw new Error(`${error.message}\n${await diagnoseWorkflow(client, await workflowOf(email))}`);
      });
      if (Date.now() - waiting > 10_000) console.log(`[dispatch] ${email} scored after ${Date.now() - waiting} ms:\n${await diagnoseWorkflow(client, await workflowOf(email), 40)}`);
    }
  }, 180_000);

  it('acknowledges 1,000 events at its usual speed while Temporal is down and delivers every one, in order, once it is back', async () => {
    // The usual speed: with Temporal up.
    const usual = await postJourneys('usual', 20, 9, 32);
    const usualP99 = percentile(usual.answers.map((answer) => answer.ms), 99);
    await vi.waitFor(async () => expect((await deliveryBacklog(db.pool)).undelivered).toBe(0), { timeout: 60_000, interval: 200 });

    await stopTemporal();
    const outageStarted = Date.now();
    const { answers, sent } = await postJourneys('outage', 100, 9, 32);
    const outageP99 = percentile(answers.map((answer) => answer.ms), 99);
    const slowest = Math.max(...answers.map((answer) => answer.ms));
    console.log(`[dispatch] posts: usual p99 ${usualP99.toFixed(1)} ms; during the outage p99 ${outageP99.toFixed(1)} ms, slowest ${slowest.toFixed(1)} ms over ${answers.length}`);
    expect(answers).toHaveLength(1000);
    expect(answers.filter((answer) => answer.status !== 202)).toEqual([]);
    // The same order of speed as with Temporal up (two cores shared with the servers, the worker and
    // the dispatchers' retries shift both); above all, none hangs (they took over 15 s before). The
    // slowest single answer reached 2.7 s in one CI run beside the 200-lead differential test.
    expect(outageP99).toBeLessThan(Math.max(3 * usualP99, 500));
    expect(slowest).toBeLessThan(5_000);

    // The dispatchers keep trying (and say so) while the events wait, in the database.
    await vi.waitFor(async () => expect((await deliveryBacklog(db.pool)).retrying).toBeGreaterThan(0), { timeout: 60_000, interval: 500 });
    const waiting = await deliveryBacklog(db.pool);
    expect(waiting.undelivered).toBe(1000);
    expect(waiting.lastError).toBeTruthy();
    const metrics = await (await fetch(`${apiUrls[0]}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(/^nurture_events_undelivered 1000$/m);
    expect(metrics).toMatch(/^nurture_events_retrying [1-9]/m);

    // Temporal comes back after about 15 s down; nobody restarts the worker, the dispatchers or the APIs.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 15_000 - (Date.now() - outageStarted))));
    server = await startTemporal();
    const restarted = Date.now();
    await vi.waitFor(async () => expect((await deliveryBacklog(db.pool)).undelivered).toBe(0), { timeout: 120_000, interval: 500 });
    console.log(`[dispatch] 1,000 events delivered ${((Date.now() - restarted) / 1000).toFixed(1)} s after Temporal restarted`);
    // Activities whose completion was lost with the server run again once their 30 s timeout
    // has passed, so the scores follow within a minute or two.
    for (const [email, ids] of sent) {
      expect(await receivedIds(email)).toEqual(ids);
      await vi.waitFor(async () => expect(await scoreOf(email)).toBe(9), { timeout: 180_000, interval: 500 });
    }
  }, 480_000);
});
