// Reliability on the CLI dev server in real time: 500 leads run a short campaign while the
// worker is killed with SIGKILL at random points and restarted, and PostgreSQL is restarted
// mid-run. Afterwards every lead has received exactly the emails the pure interpreter predicts
// — counted by Message-ID at the SMTP server, none twice — and every handoff happened once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseCampaign, type Campaign } from '../../campaign';
import { createTemporalEngine, leadSnapshot, workflowIdFor } from '../../api/temporal-engine';
import { saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { recordConsent } from '../../db/consent';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../devserver/postgres';
import { upsertLead } from '../../db/leads';
import { migrate } from '../../db/migrate';
import { createPool, type Pool } from '../../db/pool';
import { startDevServer } from '../../devserver/temporal';
import { startMailer, type Mailer } from '../../worker/mailer';
import { startSmtpSink, type SmtpSink } from '../../devserver/smtp-sink';
import { createTransport } from '../../mail/transport';
import { temporalCompleter } from '../../worker/completer';
import { TEST_CONFIG, workflowBundle } from '../e2e/harness';
import { predictedMessageIds } from './prediction';

const CAMPAIGN = `
id: reliability
name: Reliability drill
from: { name: Acme, email: marketing@acme.example }
entry: { on: form.submitted }
consent: marketing_email
scoring: { fit: [ { if: "lead.company.employees >= 100", points: 10, label: large company } ] }
stages: { warm: 500, hot: 1000 }
tracks:
  cold:
    - email: { template: welcome, subject: "Welcome {{lead.first_name}}" }
    - wait: 2s
    - if: "lead.company.employees >= 100"
      then: [ { email: { template: case-study, subject: "A story for {{lead.company.name}}" } } ]
      else: [ { email: { template: reminder, subject: "In case you missed it" } } ]
    - wait: 2s
    - score: { add: 100, reason: finished the sequence }
    - wait: 1s
    - email: { template: product-tour, subject: "A quick tour" }
    - exit: done
send_window: { days: every_day, hours: "00:00-24:00", timezone: UTC }
qualify: { all: [ "score >= 100", "lead.company.employees >= 100" ] }
handoff:
  assign: { strategy: round_robin, pool: drill }
  sla: { first_contact: 1 business day }
`;

const LEADS = 500;
const workerScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

let dir: string;
let database: EmbeddedDatabase;
let databaseUrl: string;
let pool: Pool;
let env: TestWorkflowEnvironment;
let sink: SmtpSink;
let mailer: Mailer;
let bundleFile: string;
let campaign: Campaign;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nurture-reliability-'));
  const bundle = await workflowBundle();
  bundleFile = join(dir, 'workflows.js');
  await writeFile(bundleFile, bundle.code);
  // A PostgreSQL of its own: this test restarts it.
  [database, env, sink] = await Promise.all([startEmbeddedPostgres({ dataDir: join(dir, 'pg') }), startDevServer(), startSmtpSink()]);
  databaseUrl = await database.createDatabase('reliability');
  await migrate(databaseUrl);
  pool = createPool(databaseUrl, 30);
  mailer = startMailer({ pool, databaseUrl, transport: createTransport(sink.url), completer: temporalCompleter(env.client), pollMs: 250, leaseMs: 30_000 });
  const parsed = parseCampaign(CAMPAIGN);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  campaign = parsed.campaign;
}, 180_000);

afterAll(async () => {
  await mailer?.stop();
  await sink?.close();
  await pool?.end();
  await env?.teardown();
  await database?.stop();
  await rm(dir, { recursive: true, force: true });
});

function startWorker(taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript, env.address, taskQueue, databaseUrl, bundleFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker ready')) resolve(child);
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('survives SIGKILLed workers and a PostgreSQL restart with every email exactly once', async () => {
  const taskQueue = 'reliability';
  await pool.query(`INSERT INTO sales_pools (name, manager_email) VALUES ('drill', 'boss@acme.example')`);
  await pool.query(`INSERT INTO sales_reps (email, name, pool) VALUES ('r1@acme.example', 'R1', 'drill'), ('r2@acme.example', 'R2', 'drill')`);
  const { version } = await saveCampaignVersion(pool, campaign);
  await setCampaignStatus(pool, campaign.id, 'active');
  const engine = createTemporalEngine({ client: env.client, pool, taskQueue });

  const leads: string[] = [];
  for (let i = 0; i < LEADS; i++) {
    const { lead } = await upsertLead(pool, { email: `drill${i}@example.com`, attributes: { first_name: `D${i}`, company: { name: `Co${i}`, employees: i % 3 === 0 ? 500 : 20 } } });
    await recordConsent(pool, { leadId: lead.id, purpose: 'marketing_email', granted: true, source: 'test' });
    leads.push(lead.id);
  }

  let worker = await startWorker(taskQueue);
  const started = Date.now();
  // Enrol as an API client would: a request that fails while the database restarts is retried.
  const enrolWithRetry = async (leadId: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await engine.enrol(campaign.id, leadId);
      } catch (error) {
        if (attempt >= 30) throw error;
        await pause(500);
      }
    }
  };
  const enrolling = (async () => {
    for (let i = 0; i < LEADS; i += 25) await Promise.all(leads.slice(i, i + 25).map(enrolWithRetry));
  })();

  // Chaos: three SIGKILLs at random moments and one database restart, while the campaign runs.
  const random = (min: number, max: number) => min + Math.random() * (max - min);
  for (let round = 0; round < 3; round++) {
    await pause(random(1_500, 4_000));
    await kill(worker);
    if (round === 1) await database.restart();
    await pause(random(200, 1_500));
    worker = await startWorker(taskQueue);
  }
  await enrolling;

  try {
    // Wait for every enrolment to finish.
    for (let i = 0; ; i++) {
      const { rows } = await pool.query(`SELECT count(*)::int AS open FROM enrolments WHERE ended_at IS NULL`).catch(() => ({ rows: [{ open: -1 }] }));
      const ended = await pool.query(`SELECT count(*)::int AS n FROM enrolments`).catch(() => ({ rows: [{ n: 0 }] }));
      if (rows[0].open === 0 && ended.rows[0].n === LEADS) break;
      if (i > 600) throw new Error(`enrolments still open after 10 minutes: ${rows[0].open}`);
      await pause(1_000);
    }
    await mailer.idle();
  } finally {
    await kill(worker);
  }
  const elapsed = (Date.now() - started) / 1000;

  // Exactly the predicted emails, each once.
  const received = sink.messages.map((m) => m.messageId);
  expect(new Set(received).size).toBe(received.length);
  const expected: string[] = [];
  for (const leadId of leads) {
    const lead = (await leadSnapshot(pool, leadId))!;
    expected.push(...predictedMessageIds(campaign, lead, workflowIdFor(campaign.id, leadId), Date.now(), TEST_CONFIG.mailDomain));
  }
  expect(received.sort()).toEqual(expected.sort());
  const unconfirmed = await pool.query(`SELECT count(*)::int AS n FROM email_sends WHERE status <> 'sent'`);
  expect(unconfirmed.rows[0].n).toBe(0);
  // Every handoff happened once: one per large company, one notice each.
  const handoffs = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT enrolment_id)::int AS enrolments FROM handoffs`);
  expect(handoffs.rows[0]).toEqual({ n: Math.ceil(LEADS / 3), enrolments: Math.ceil(LEADS / 3) });
  console.log(`reliability: ${LEADS} leads, ${received.length} emails, ${handoffs.rows[0].n} handoffs in ${elapsed.toFixed(0)} s with 3 worker kills and a database restart (campaign version ${version})`);
}, 900_000);
