// The whole engine for end-to-end tests, real parts only: a migrated PostgreSQL database, a
// Temporal server (time-skipping by default), the real worker with the real activities, the
// outbox mailer over pooled SMTP into a real SMTP server whose messages are parsed back.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import type { PayloadEncryption } from '../../runtime/payload-codec';
import { bundleWorkflowCode, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Campaign, LeadEvent } from '../../campaign';
import { createTemporalEngine } from '../../api/temporal-engine';
import { loadDemoSalesTeam } from '../../cli/demo';
import type { Engine } from '../../api/engine';
import { saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { recordConsent } from '../../db/consent';
import { outboxBacklog } from '../../db/email-sends';
import { storeEvents } from '../../db/events';
import { upsertLead } from '../../db/leads';
import { startSmtpSink, type ReceivedMessage, type SmtpSink } from '../../devserver/smtp-sink';
import { startDevServer, temporalForTests } from '../../devserver/temporal';
import type { Dispatcher } from '../../worker/dispatcher';
import type { Mailer } from '../../worker/mailer';
import { startWorkerRuntime, type WorkerRuntimeOptions } from '../../worker/runtime';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../worker/worker';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { canonicalStart } from '../support/scenario-clock';
import { diagnoseWorkflow } from '../support/workflow-diagnosis';
import { TEST_CONFIG } from './config';

export { TEST_CONFIG };
export { DAY, HOUR, loadCampaign } from '../support/campaigns';
import { fetchHistories, replayFailures } from '../support/history';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories', import.meta.url));


let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode(WORKFLOW_BUNDLE_OPTIONS);
  return bundle;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  /** The client the worker runtime uses: payloads through the leads' data keys (env.client reads none of them). */
  client: Client;
  /** The runtime's payload codec (the leads' data keys). */
  payloadCodec: PayloadEncryption;
  db: TestDatabase;
  sink: SmtpSink;
  engine: Engine;
  worker: Worker;
  mailer: Mailer;
  dispatcher: Dispatcher;
  taskQueue: string;
  /** Virtual (test server) or wall-clock time, in ms. */
  now(): Promise<number>;
  /** Lets `ms` of workflow time pass (skipped on the test server). */
  advance(ms: number): Promise<void>;
  /** Lets workflow time run to `at` (nothing when it is there already). */
  advanceTo(at: number): Promise<void>;
  /**
   * Moves the clock to the scenario's canonical start (tests/support/scenario-clock.ts): a Tuesday
   * 10:00 in `zone` with no holiday in the week, so that a scenario's emails go at once whatever
   * the hour and date the suite runs at. Returns that instant.
   */
  startAtCanonicalInstant(campaign: Campaign, zone?: string): Promise<number>;
  launch(campaign: Campaign): Promise<number>;
  addLead(email: string, attributes: Record<string, unknown>, options?: { timezone?: string; consent?: boolean }): Promise<string>;
  /** Stores an event as the API does and waits for the workers' dispatcher to deliver it. */
  event(leadId: string, type: string, data?: Record<string, unknown>, options?: { id?: string; machine?: boolean }): Promise<LeadEvent>;
  mailTo(address: string): ReceivedMessage[];
  waitForMail(predicate: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  /** Resolves when no email is queued or in flight and no workflow task is pending. */
  settle(): Promise<void>;
  /**
   * Replays the history of every enrolment so far against the current workflow code (failures
   * as messages), and with NURTURE_RECORD_HISTORIES=1 stores them under tests/histories/ as
   * golden histories for the replay suite. `firstRuns`: also the first run of each workflow that
   * continued as new (its history ends by carrying the state over).
   */
  checkHistories(scenario: string, options?: { firstRuns?: boolean }): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The engine on Temporal's time-skipping test server. With NURTURE_E2E_START=<ISO instant> (ahead
 * of now) the scenarios run as if the suite had started then: the server's clock is moved there
 * first — `NURTURE_E2E_START=2027-12-28T14:00:00Z npx vitest run tests/e2e` runs them in 年末年始.
 * A scenario whose workflow clock must stay on the wall clock (the API stamps tracked opens and
 * clicks with it) passes `wallClock: true`.
 */
export async function startHarness(
  options: {
    taskQueue?: string;
    wallClock?: boolean;
    config?: Partial<typeof TEST_CONFIG & { operatorEmail: string }>;
    /** Arguments for Temporal's dev server, run instead of the time-skipping server (real time then). */
    devServerArgs?: string[];
    /** Tuning of the worker runtime's dispatcher, launcher and sales desk. */
    runtime?: Pick<WorkerRuntimeOptions, 'dispatcher' | 'launcher' | 'salesDesk'>;
  } = {},
): Promise<Harness> {
  const taskQueue = options.taskQueue ?? `e2e-${Math.random().toString(36).slice(2)}`;
  const [env, db, sink, workflowBundleBuilt] = await Promise.all([
    options.devServerArgs ? startDevServer({ extraArgs: options.devServerArgs }) : temporalForTests('time-skipping'),
    createTestDatabase(),
    startSmtpSink(),
    workflowBundle(),
  ]);
  const runtime = await startWorkerRuntime({
    connection: env.nativeConnection,
    client: env.client,
    pool: db.pool,
    config: { ...TEST_CONFIG, ...options.config, taskQueue, databaseUrl: db.url, smtpUrl: sink.url },
    workflowBundle: workflowBundleBuilt,
    mailerPollMs: 200,
    ...options.runtime,
    // The desk keeps SLAs on the server's clock: virtual time on the time-skipping server.
    salesDesk: { everyMs: 250, clock: async () => new Date(env.supportsTimeSkipping ? await env.currentTimeMs() : Date.now()), ...options.runtime?.salesDesk },
  });
  const { worker, mailer, dispatcher } = runtime;
  // The runtime's client: the API's engine and the tests read and write payloads through the codec.
  const client = runtime.client;
  const engine = createTemporalEngine({ client, pool: db.pool, taskQueue });
  // Kenji and Ren share the kanto territory, in that turn; Yui has kansai.
  await loadDemoSalesTeam(db.pool);

  const now = async () => (env.supportsTimeSkipping ? env.currentTimeMs() : Date.now());
  const startAt = process.env.NURTURE_E2E_START;
  if (startAt && !options.wallClock) {
    const at = Date.parse(startAt);
    if (Number.isNaN(at) || !env.supportsTimeSkipping) throw new Error(`NURTURE_E2E_START=${startAt}: needs an ISO instant and the time-skipping server`);
    if (at > (await now())) await env.sleep(at - (await now()));
  }
  let eventCounter = 0;
  /**
   * Lets virtual time pass. A skip that takes over 45 s of real time prints what every enrolment
   * is doing (pending activities and workflow tasks, latest events). It showed why skips of the
   * seminar scenario once never returned: a workflow task left started for good, the test server
   * having refused its cancel of a timer that had just fired (see engine version 5).
   */
  const skip = async (ms: number) => {
    const watchdog = setTimeout(() => {
      void (async () => {
        const { rows } = await db.pool.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM enrolments');
        const reports = await Promise.all(rows.map((row) => diagnoseWorkflow(client, row.workflow_id).catch((error: Error) => `${row.workflow_id}: ${error.message}`)));
        console.error(`a skip of ${ms} ms of virtual time has taken over 45 s (task queue ${taskQueue}, server time ${new Date(await now()).toISOString()}):\n${reports.join('\n')}`);
      })().catch(() => {});
    }, 45_000);
    try {
      await env.sleep(ms);
    } finally {
      clearTimeout(watchdog);
    }
  };
  const harness: Harness = {
    env,
    client,
    payloadCodec: runtime.payloadCodec,
    db,
    sink,
    engine,
    worker,
    mailer,
    dispatcher,
    taskQueue,
    now,
    advance: (ms) => skip(ms),
    async advanceTo(at) {
      const ms = at - (await now());
      if (ms > 0) await skip(ms);
    },
    async startAtCanonicalInstant(campaign, zone = 'Asia/Tokyo') {
      const at = canonicalStart(campaign.sendWindow, zone, await now());
      await harness.advanceTo(at);
      return at;
    },
    async launch(campaign) {
      const { version } = await saveCampaignVersion(db.pool, campaign);
      await setCampaignStatus(db.pool, campaign.id, 'active');
      return version;
    },
    async addLead(email, attributes, leadOptions = {}) {
      const { lead } = await upsertLead(db.pool, { email, attributes, timezone: leadOptions.timezone ?? 'Asia/Tokyo' });
      if (leadOptions.consent !== false) {
        await recordConsent(db.pool, { leadId: lead.id, purpose: 'marketing_email', granted: true, source: 'form:test', at: new Date(await now()) });
      }
      return lead.id;
    },
    async event(leadId, type, data = {}, eventOptions = {}) {
      const at = await now();
      const event: LeadEvent = { id: eventOptions.id ?? `e2e-${++eventCounter}-${type}`, type, at, data, machine: eventOptions.machine ?? false };
      await storeEvents(db.pool, [{ externalId: event.id, leadId, type, occurredAt: new Date(at), data, machine: event.machine }]);
      await dispatcher.drain();
      return event;
    },
    mailTo: (address) => sink.messages.filter((message) => message.to.includes(address)),
    async waitForMail(predicate, timeoutMs = 20_000) {
      await sink.waitFor((messages) => messages.some(predicate), timeoutMs);
      return sink.messages.find(predicate)!;
    },
    async settle() {
      // Workflow tasks and activities run in real time while the test server holds its clock.
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await runtime.salesDesk.runNow();
        await mailer.idle();
        quiet = (await outboxBacklog(db.pool)) === 0 ? quiet + 1 : 0;
      }
    },
    async checkHistories(scenario, checkOptions = {}) {
      const { rows } = await db.pool.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM enrolments ORDER BY workflow_id');
      const histories = await fetchHistories(rows.map((row) => client.workflow.getHandle(row.workflow_id)), runtime.payloadCodec);
      if (checkOptions.firstRuns) {
        for (const latest of [...histories]) {
          const started = latest.history.events?.[0]?.workflowExecutionStartedEventAttributes;
          if (started?.continuedExecutionRunId && started.firstExecutionRunId) {
            histories.push(...(await fetchHistories([client.workflow.getHandle(latest.workflowId, started.firstExecutionRunId)], runtime.payloadCodec)));
          }
        }
      }
      if (process.env.NURTURE_RECORD_HISTORIES === '1') {
        await mkdir(HISTORIES_DIR, { recursive: true });
        for (const [index, recorded] of histories.entries()) {
          // The workflow id is part of what the workflow computes (handoff ids), so it is kept in the name.
          const file = `${scenario}.${index}--${encodeURIComponent(recorded.workflowId)}.history.pb`;
          await writeFile(join(HISTORIES_DIR, file), temporal.api.history.v1.History.encode(recorded.history).finish());
        }
      }
      return replayFailures({ workflowBundle: workflowBundleBuilt }, histories);
    },
    async close() {
      await runtime.stop();
      await sink.close();
      await env.teardown();
      await db.drop();
    },
  };
  return harness;
}

