// Handoff latency: the time from a lead's qualifying event to the sales notice being accepted by
// SMTP, on Temporal's CLI dev server in real time (no time skipping), with the real worker and
// activities, the outbox mailer over pooled SMTP, embedded PostgreSQL and the SMTP sink — the
// worker runtime production runs (worker/runtime.ts). Each of N leads of campaigns/saas-whitepaper-nurture.yaml is
// brought to just below qualification (score 61: fit 35, download 10, one open, three clicks);
// then its pricing-page view (+15 → 76, and the pricing-view condition) is stored as the API
// stores it and delivered by the worker runtime's dispatcher, `--concurrency` leads at a time,
// and timed until the sink has the notice for that lead. The baseline, measured in the same run, is the raw round trip of that
// last leg without the workflow: the same rendered notices sent straight through the same pooled
// transport into the same sink, at the same concurrency.
//
//   npx tsx bench/handoff-latency.ts [--leads 200] [--concurrency 10]
//
// The campaign holds marketing email to weekdays 09:00–18:00 in the lead's zone (Asia/Tokyo);
// the sales notice is never held. The bench prints whether the window was open, since during
// it the setup's marketing emails go out too (the notice is still the first command after the
// qualifying event).
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { max, quantile } from 'simple-statistics';
import { formatCampaignError, isWindowOpen, parseCampaign, windowZone } from '../campaign';
import { loadDemoSalesTeam } from '../cli/demo';
import { saveCampaignVersion, setCampaignStatus } from '../db/campaigns';
import { recordConsent } from '../db/consent';
import { outboxBacklog } from '../db/email-sends';
import { openEnrolmentScores } from '../db/enrolments';
import { storeEvents } from '../db/events';
import { upsertLead } from '../db/leads';
import { migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { campaignStats } from '../db/stats';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../devserver/postgres';
import { startSmtpSink, type ReceivedMessage, type SmtpSink } from '../devserver/smtp-sink';
import { temporalForTests } from '../devserver/temporal';
import { TemplateLibrary } from '../mail/renderer';
import { StopList } from '../runtime/stop-list';
import { quietTemporalLogs } from '../runtime/temporal-logs';
import { startWorkerRuntime, type WorkerRuntime } from '../worker/runtime';
import { BENCH_CONFIG, waitUntil } from './support/stack';
import { WORKFLOW_BUNDLE_OPTIONS } from '../worker/worker';

const DEMO = fileURLToPath(new URL('../campaigns/saas-whitepaper-nurture.yaml', import.meta.url));
const ZONE = 'Asia/Tokyo';
const KANTO_REPS = ['kenji@acme.example', 'ren@acme.example'];
// Bounds, so that the bench always stops by itself.
const WHOLE_RUN_MS = 6 * 60_000;
const SETUP_WAIT_MS = 120_000;
const NOTICE_WAIT_MS = 30_000;
const CLOSE_WAIT_MS = 10_000;


interface Stack {
  env: TestWorkflowEnvironment;
  pool: Pool;
  sink: SmtpSink;
  runtime: WorkerRuntime;
}

/** Runs `count` tasks with `concurrency` in flight. */
async function drive(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Resolves with the time (performance.now()) the sink publishes the first message matching `match`. */
function arrival(sink: SmtpSink, match: (message: ReceivedMessage) => boolean, timeoutMs: number, what: string) {
  let stop = () => {};
  const promise = new Promise<{ at: number; message: ReceivedMessage }>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${what}: not received within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = sink.onMessage((message) => {
      if (!match(message)) return;
      stop();
      resolve({ at: performance.now(), message });
    });
    stop = () => {
      clearTimeout(timer);
      unsubscribe();
    };
  });
  return { promise, cancel: () => stop() };
}


export async function main(options: { leads: number; concurrency: number }): Promise<boolean> {
  const { leads, concurrency } = options;
  // The worker's INFO logs (state changes, planned retries) would bury the figures.
  quietTemporalLogs();
  // Every server and client started is stopped in reverse order, also after a failed start-up.
  const closers = new StopList(CLOSE_WAIT_MS, (message) => console.error(`  clean-up: ${message}`));
  const cleanUp = () => closers.stopAll();
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the servers`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  let watchdog: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<never>((_, reject) => {
    watchdog = setTimeout(() => reject(new Error(`the run took longer than ${WHOLE_RUN_MS / 60_000} minutes`)), WHOLE_RUN_MS);
  });
  try {
    return await Promise.race([run(), outOfTime]);
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }

  async function start(): Promise<Stack> {
    // The CPU-bound parts first, before any server runs: they block the event loop for seconds,
    // and tsx answers a Ctrl-C it cannot pass on within 30 ms with SIGKILL, which would leave
    // the servers' clean-up undone.
    const bundle = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') }); // (webpack's report would bury the figures)
    const templates = await TemplateLibrary.load();

    const dir = await mkdtemp(join(tmpdir(), 'nurture-bench-handoff-'));
    closers.add('temporary directory', () => rm(dir, { recursive: true, force: true }));
    // On a terminal's Ctrl-C the servers get the SIGINT themselves and stop; this process may
    // then crash (the mailer's LISTEN connection dies) or be killed by tsx before its clean-up
    // ran. An 'exit' handler still removes the database files in the first case.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    // Started together, as the harness does; each is registered for clean-up as soon as it is up.
    const [envResult, databaseResult, sinkResult] = await Promise.allSettled([
      temporalForTests('dev').then((env) => {
        closers.add('Temporal dev server', () => env.teardown());
        return env;
      }),
      startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false }).then((database: EmbeddedDatabase) => {
        closers.add('embedded PostgreSQL', () => database.stop());
        return database;
      }),
      startSmtpSink({ keep: 20 * leads + 1_000 }).then((sink) => {
        closers.add('SMTP sink', () => sink.close());
        return sink;
      }),
    ]);
    for (const result of [envResult, databaseResult, sinkResult]) if (result.status === 'rejected') throw result.reason;
    const env = (envResult as PromiseFulfilledResult<TestWorkflowEnvironment>).value;
    const database = (databaseResult as PromiseFulfilledResult<EmbeddedDatabase>).value;
    const sink = (sinkResult as PromiseFulfilledResult<SmtpSink>).value;

    const databaseUrl = await database.createDatabase('handoff');
    await migrate(databaseUrl);
    const pool = createPool(databaseUrl);
    closers.add('database pool', () => pool.end());
    const taskQueue = `bench-handoff-${process.pid}`;
    const runtime = await startWorkerRuntime({
      connection: env.nativeConnection,
      client: env.client,
      pool,
      config: { ...BENCH_CONFIG, taskQueue, databaseUrl, smtpUrl: sink.url },
      templates,
      workflowBundle: bundle,
      mailerPollMs: 200,
    });
    closers.add('worker and mailer', () => runtime.stop());
    // The demo's (and the end-to-end tests') sales team: two reps share the kanto territory, in turn.
    await loadDemoSalesTeam(pool);
    return { env, pool, sink, runtime };
  }

  async function run(): Promise<boolean> {
    const startedAt = Date.now();
    console.log(`handoff latency (${leads} leads, ${concurrency} qualifying events in flight; Temporal CLI dev server in real time, real worker, outbox mailer, embedded PostgreSQL, SMTP sink)`);
    const e = await start();
    const parsed = parseCampaign(readFileSync(DEMO, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.errors.map(formatCampaignError).join('\n'));
    const campaign = parsed.campaign;
    const { version } = await saveCampaignVersion(e.pool, campaign);
    await setCampaignStatus(e.pool, campaign.id, 'active');
    const zone = windowZone(campaign.sendWindow, ZONE);
    const windowOpenAtStart = isWindowOpen(campaign.sendWindow, zone, Date.now());
    const tokyoTime = () => new Date().toLocaleString('en-GB', { timeZone: ZONE, weekday: 'short', hour: '2-digit', minute: '2-digit' });
    console.log(`  started in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; campaign ${campaign.id} v${version}; ${tokyoTime()} in ${ZONE}: marketing send window ${windowOpenAtStart ? 'OPEN' : 'closed'}`);

    // As the API does: store the event; the worker runtime's dispatcher delivers it.
    let eventCounter = 0;
    const event = async (leadId: string, type: string, data: Record<string, unknown>) => {
      const id = `bench-${++eventCounter}-${type}`;
      await storeEvents(e.pool, [{ externalId: id, leadId, type, occurredAt: new Date(), data }]);
    };
    // Unique and never a prefix of another, so the subject match is exact.
    const nameOf = (i: number) => `Bench Lead${String(i).padStart(6, '0')}`;

    // Setup: every lead to score 61, warm, not qualified (the pricing-view condition is missing).
    // The first `concurrency` leads are a warm-up (JIT, worker caches, SMTP connections of the
    // pool), qualified before the measured ones and not counted.
    const warmUp = concurrency;
    const total = warmUp + leads;
    const setupStarted = performance.now();
    const leadIds: string[] = new Array(total);
    await drive(total, concurrency, async (i) => {
      const { lead } = await upsertLead(e.pool, {
        email: `lead${i}@corp${i % 97}.bench.example`,
        attributes: { first_name: 'Bench', last_name: `Lead${String(i).padStart(6, '0')}`, company: { name: `Corp ${i % 97}`, employees: 250 }, role: 'manager', region: 'kanto' },
        timezone: ZONE,
      });
      await recordConsent(e.pool, { leadId: lead.id, purpose: 'marketing_email', granted: true, source: 'form:bench' });
      leadIds[i] = lead.id;
      await event(lead.id, 'asset.downloaded', { asset: 'whitepaper' }); // enrols: 35 fit + 10
      await event(lead.id, 'email.opened', { template: 'welcome' }); // +1
      for (let click = 0; click < 3; click++) await event(lead.id, 'email.clicked', { template: 'welcome', url: `https://acme.example/guide?c=${click}` }); // +5 each
    });
    // Wait until every workflow has taken all its events in and the outbox is empty, so the
    // measured phase starts from a quiet engine.
    try {
      await waitUntil('setup (every enrolment at score 61, outbox empty)', SETUP_WAIT_MS, async () => {
        const ready = (await openEnrolmentScores(e.pool, campaign.id)).filter((score) => score > 60 && score < 75).length;
        return ready === total && (await outboxBacklog(e.pool)) === 0;
      });
    } catch (error) {
      // Say where the leads are, so a failed setup can be understood.
      const scores = await openEnrolmentScores(e.pool, campaign.id);
      const { funnel } = await campaignStats(e.pool, campaign.id);
      throw new Error(
        `${(error as Error).message}\n  enrolments by status ${JSON.stringify(funnel.by_status)}, by stage ${JSON.stringify(funnel.by_stage)}; ` +
          `scores ${JSON.stringify(scores.slice(0, 40))}…\n  emails queued or sending: ${await outboxBacklog(e.pool)}`,
      );
    }
    await e.runtime.mailer.idle();
    const early = (await campaignStats(e.pool, campaign.id)).sla.handoffs;
    if (early > 0) throw new Error(`${early} leads qualified during the setup; the bench would time nothing`);
    const marketingInSetup = e.sink.messages.length;
    console.log(
      `  setup: ${total} leads (${warmUp} of them warm-up) enrolled and at score 61 in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s ` +
        `(${total * 5} events; ${marketingInSetup} marketing emails sent)`,
    );

    /** The qualifying pricing-page view of lead i → its notice to a kanto rep in the sink. */
    const qualify = async (i: number) => {
      const name = nameOf(i);
      const notice = arrival(e.sink, (m) => m.subject.includes(`${name} (`) && m.to.some((to) => KANTO_REPS.includes(to)), NOTICE_WAIT_MS, `sales notice for ${name}`);
      const t0 = performance.now();
      try {
        await event(leadIds[i]!, 'page.viewed', { page: 'pricing', path: '/pricing' });
      } catch (error) {
        notice.cancel();
        throw error;
      }
      const { at, message } = await notice.promise;
      return { ms: at - t0, message };
    };
    /** The baseline's leg: an already rendered notice sent straight through the mailer's transport. */
    const sendDirect = async (label: string, original: ReceivedMessage) => {
      const subject = `[${label}] ${original.subject}`;
      const arrived = arrival(e.sink, (m) => m.subject === subject, NOTICE_WAIT_MS, `direct send ${label}`);
      const t0 = performance.now();
      try {
        await e.runtime.transport.send({
          from: `"${campaign.from.name}" <${campaign.from.email}>`,
          to: original.to[0]!,
          subject,
          html: original.html,
          text: original.text,
          headers: {},
          messageId: `<bench-${label.replace(/\W/g, '-')}.${process.pid}@${BENCH_CONFIG.mailDomain}>`,
        });
      } catch (error) {
        arrived.cancel();
        throw error;
      }
      return (await arrived.promise).at - t0;
    };

    const warmNotices: ReceivedMessage[] = [];
    await drive(warmUp, concurrency, async (i) => void warmNotices.push((await qualify(i)).message));

    // Measured: `concurrency` leads in flight, each slot sending its next qualifying event once
    // the previous notice arrived, so the figures are latencies rather than queueing.
    const latencies: number[] = [];
    const notices: ReceivedMessage[] = [];
    const missing: string[] = [];
    const measureStarted = performance.now();
    await drive(leads, concurrency, async (n) => {
      try {
        const { ms, message } = await qualify(warmUp + n);
        latencies.push(ms);
        notices.push(message);
      } catch (error) {
        missing.push((error as Error).message);
      }
    });
    const measureSeconds = (performance.now() - measureStarted) / 1000;
    const windowOpenAtEnd = isWindowOpen(campaign.sendWindow, zone, Date.now());
    const marketingInMeasure = e.sink.messages.length - marketingInSetup - warmNotices.length - notices.length;

    // Baseline: the same rendered notices sent straight through the same pooled transport, at
    // the same concurrency, after a warm-up of its own.
    await drive(warmNotices.length, concurrency, async (i) => void (await sendDirect(`warm-up ${i}`, warmNotices[i]!)));
    const baseline: number[] = [];
    await drive(notices.length, concurrency, async (i) => void baseline.push(await sendDirect(`baseline ${i}`, notices[i]!)));
    if (process.env.BENCH_HANDOFF_SAMPLES === '1') {
      console.log(`  samples (ms, in completion order): handoff ${latencies.map((v) => v.toFixed(0)).join(' ')}`);
      console.log(`  samples (ms, in completion order): baseline ${baseline.map((v) => v.toFixed(1)).join(' ')}`);
    }

    const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
    const figures = (values: number[]) =>
      values.length === 0
        ? 'no samples'
        : `count ${values.length}   p50 ${ms(quantile(values, 0.5))}   p90 ${ms(quantile(values, 0.9))}   p99 ${ms(quantile(values, 0.99))}   max ${ms(max(values))}`;
    console.log(`  qualifying event → sales notice accepted by SMTP:  ${figures(latencies)}  (${measureSeconds.toFixed(1)} s for ${leads} handoffs)`);
    console.log(`  baseline, direct send of the same notices:         ${figures(baseline)}`);
    if (latencies.length && baseline.length) {
      console.log(
        `  ratio: the handoff takes ${(quantile(latencies, 0.5) / quantile(baseline, 0.5)).toFixed(0)}× the raw SMTP round trip at p50, ` +
          `${(quantile(latencies, 0.99) / quantile(baseline, 0.99)).toFixed(0)}× at p99 (event store + signal + workflow + activities + outbox + mailer)`,
      );
    }
    const ok = missing.length === 0;
    if (!ok) console.log(`  MISSING: ${missing.length} notices did not arrive, e.g. ${missing[0]}`);
    // The notice is not held by the send window: shown outright when the window was closed.
    if (!windowOpenAtStart && !windowOpenAtEnd) {
      console.log(
        `  send window closed throughout (${tokyoTime()} ${ZONE}): ${notices.length}/${leads} notices sent at once, ` +
          `${marketingInSetup + marketingInMeasure} marketing emails sent — handoff is not held by the window${ok ? '' : ' (but some notices are missing)'}`,
      );
    } else {
      console.log(
        `  send window open during the run (${tokyoTime()} ${ZONE}): ${marketingInSetup} marketing emails in the setup, ${marketingInMeasure} during the measurement ` +
          `(queued after each notice, sharing the mailer); run outside weekdays 09:00–18:00 ${ZONE} to see the notice go out while marketing is held`,
      );
    }
    return ok;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { leads: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '10' } } });
  const leads = Number(values.leads);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(leads) || leads < 1) throw new Error(`--leads must be a positive integer, got ${values.leads}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, got ${values.concurrency}`);
  let ok = false;
  try {
    ok = await main({ leads, concurrency });
  } catch (error) {
    console.error(`handoff latency: ${(error as Error).stack ?? error}`);
  }
  // The Temporal native runtime may keep the event loop alive after everything is stopped.
  process.exit(ok ? 0 : 1);
}
