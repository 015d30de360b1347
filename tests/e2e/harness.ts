// The whole engine for end-to-end tests, real parts only: a migrated PostgreSQL database, a
// Temporal server (time-skipping by default), the real worker with the real activities, the
// outbox mailer over pooled SMTP into a real SMTP server whose messages are parsed back.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { isWindowOpen, nextWindowOpening, parseCampaign, formatCampaignError, type Campaign, type LeadEvent } from '../../campaign';
import { createTemporalEngine } from '../../api/temporal-engine';
import { loadDemoSalesTeam } from '../../cli/demo';
import type { Engine } from '../../api/engine';
import { saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { recordConsent } from '../../db/consent';
import { upsertLead } from '../../db/leads';
import { temporalForTests } from '../../devserver/servers';
import { startMailer, type Mailer } from '../../mail/mailer';
import { startSmtpSink, type ReceivedMessage, type SmtpSink } from '../../mail/smtp-sink';
import { createTransport, type Transport } from '../../mail/transport';
import { temporalCompleter } from '../../worker/completer';
import { createNurtureWorker, WORKFLOWS_PATH } from '../../worker/worker';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TEST_CONFIG } from './config';

export { TEST_CONFIG };
import { fetchHistories, replayFailures } from '../support/history';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories', import.meta.url));


let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  return bundle;
}

export function loadCampaign(name: string, edit?: (text: string) => string): Campaign {
  let text = readFileSync(fileURLToPath(new URL(`../../campaigns/${name}.yaml`, import.meta.url)), 'utf8');
  if (edit) text = edit(text);
  const result = parseCampaign(text);
  if (!result.ok) throw new Error(result.errors.map(formatCampaignError).join('\n'));
  return result.campaign;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  sink: SmtpSink;
  engine: Engine;
  worker: Worker;
  mailer: Mailer;
  taskQueue: string;
  /** Virtual (test server) or wall-clock time, in ms. */
  now(): Promise<number>;
  /** Lets `ms` of workflow time pass (skipped on the test server). */
  advance(ms: number): Promise<void>;
  /**
   * Moves to a moment from which the campaign's send window stays open for `openFor` (default
   * 6 h) in `zone`, so that a scenario's emails go at once whatever the time of day the test
   * runs at.
   */
  advanceIntoSendWindow(campaign: Campaign, zone?: string, openFor?: number): Promise<void>;
  launch(campaign: Campaign): Promise<number>;
  addLead(email: string, attributes: Record<string, unknown>, options?: { timezone?: string; consent?: boolean }): Promise<string>;
  /** Stores an event as the API does and delivers it. */
  event(leadId: string, type: string, data?: Record<string, unknown>, options?: { id?: string; machine?: boolean }): Promise<LeadEvent>;
  mailTo(address: string): ReceivedMessage[];
  waitForMail(predicate: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  /** Resolves when no email is queued or in flight and no workflow task is pending. */
  settle(): Promise<void>;
  /**
   * Replays the history of every enrolment so far against the current workflow code (failures
   * as messages), and with NURTURE_RECORD_HISTORIES=1 stores them under tests/histories/ as
   * golden histories for the replay suite.
   */
  checkHistories(scenario: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startHarness(options: { kind?: 'time-skipping' | 'dev'; taskQueue?: string } = {}): Promise<Harness> {
  const taskQueue = options.taskQueue ?? `e2e-${Math.random().toString(36).slice(2)}`;
  const [env, db, sink, workflowBundleBuilt] = await Promise.all([
    temporalForTests(options.kind ?? 'time-skipping'),
    createTestDatabase(),
    startSmtpSink(),
    workflowBundle(),
  ]);
  const transport: Transport = createTransport(sink.url, { pooled: true });
  const mailer = startMailer({ pool: db.pool, databaseUrl: db.url, transport, completer: temporalCompleter(env.client), pollMs: 200 });
  const worker = await createNurtureWorker({
    connection: env.nativeConnection,
    taskQueue,
    pool: db.pool,
    config: TEST_CONFIG,
    workflowBundle: workflowBundleBuilt,
  });
  const running = worker.run();
  const engine = createTemporalEngine({ client: env.client, pool: db.pool, taskQueue });
  // Kenji and Ren share the kanto territory, in that turn; Yui has kansai.
  await loadDemoSalesTeam(db.pool);

  const now = async () => (env.supportsTimeSkipping ? env.currentTimeMs() : Date.now());
  let eventCounter = 0;
  const harness: Harness = {
    env,
    db,
    sink,
    engine,
    worker,
    mailer,
    taskQueue,
    now,
    advance: (ms) => env.sleep(ms),
    async advanceIntoSendWindow(campaign, zone = 'Asia/Tokyo', openFor = 6 * HOUR) {
      const start = await now();
      let at = start;
      for (;;) {
        at = nextWindowOpening(campaign.sendWindow, zone, at);
        if (isWindowOpen(campaign.sendWindow, zone, at + openFor)) break;
        at += HOUR;
      }
      if (at > start) await env.sleep(at - start);
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
      const inserted = await db.pool.query(
        `INSERT INTO events (external_id, lead_id, type, occurred_at, data, machine) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (external_id) DO NOTHING`,
        [event.id, leadId, type, new Date(at), JSON.stringify(data), event.machine],
      );
      if (inserted.rowCount) await engine.deliverEvent(leadId, event);
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
        await mailer.idle();
        const pending = await db.pool.query(`SELECT count(*)::int AS n FROM email_sends WHERE status IN ('queued', 'sending')`);
        quiet = pending.rows[0].n === 0 ? quiet + 1 : 0;
      }
    },
    async checkHistories(scenario) {
      const { rows } = await db.pool.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM enrolments ORDER BY workflow_id');
      const histories = await fetchHistories(rows.map((row) => env.client.workflow.getHandle(row.workflow_id)));
      if (process.env.NURTURE_RECORD_HISTORIES === '1') {
        await mkdir(HISTORIES_DIR, { recursive: true });
        for (const recorded of histories) {
          // The workflow id is part of what the workflow computes (handoff ids), so it is kept in the name.
          const file = `${scenario}--${encodeURIComponent(recorded.workflowId)}.history.pb`;
          await writeFile(join(HISTORIES_DIR, file), temporal.api.history.v1.History.encode(recorded.history).finish());
        }
      }
      return replayFailures({ workflowBundle: workflowBundleBuilt }, histories);
    },
    async close() {
      worker.shutdown();
      await running;
      await mailer.stop();
      transport.close();
      await sink.close();
      await env.teardown();
      await db.drop();
    },
  };
  return harness;
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
