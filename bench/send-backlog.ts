// A 20-minute email backlog, on Temporal's time-skipping server (virtual time) or its dev server
// (real time: `--server dev`), with the real worker, activities and mailer, embedded PostgreSQL
// and the SMTP sink: N leads enter the demo
// campaign while no mailer runs; 20 minutes pass; then a mailer drains the outbox. It prints the
// activity attempts spent per email while it waited, whether each lead's events were still taken
// during the backlog (the score a later event adds is visible at once), and the history events
// per enrolment once everything is sent. The baseline is the same run's ideal: one attempt per
// email, and no wait for a lead's event.
//
//   npx tsx bench/send-backlog.ts [--leads 50] [--minutes 20] [--server time-skipping|dev]
//
// On the dev server the campaign's send window must be open (weekdays 09:00–18:00 in Tokyo).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import proto from '@temporalio/proto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatCampaignError, nextWindowOpening, parseCampaign, windowZone } from '../campaign';
import { loadDemoSalesTeam } from '../cli/demo';
import { saveCampaignVersion, setCampaignStatus } from '../db/campaigns';
import { recordConsent } from '../db/consent';
import { openEnrolments } from '../db/enrolments';
import { storeEvents } from '../db/events';
import { upsertLead } from '../db/leads';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startEmbeddedPostgres } from '../devserver/postgres';
import { startSmtpSink } from '../devserver/smtp-sink';
import { startDevServer, startTimeSkippingServer } from '../devserver/temporal';
import { createTransport } from '../mail/transport';
import { temporalCompleter } from '../worker/completer';
import { startMailer } from '../worker/mailer';
import { startWorkerRuntime } from '../worker/runtime';

export async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { leads: { type: 'string', default: '50' }, minutes: { type: 'string', default: '20' }, server: { type: 'string', default: 'time-skipping' } },
  });
  const devServer = values.server === 'dev';
  const leads = Number(values.leads);
  const minutes = Number(values.minutes);
  const EventType = proto.temporal.api.enums.v1.EventType;

  const dir = await mkdtemp(join(tmpdir(), 'nurture-bench-backlog-'));
  const [env, database, sink] = await Promise.all([devServer ? startDevServer() : startTimeSkippingServer(), startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false }), startSmtpSink({ keep: 10 * leads })]);
  const databaseUrl = await database.createDatabase('backlog');
  await migrate(databaseUrl);
  const pool = createPool(databaseUrl);
  const taskQueue = `bench-backlog-${process.pid}`;
  const config = {
    temporalNamespace: 'default',
    publicUrl: 'http://nurture.test',
    linkSecret: 'bench-link-secret-of-at-least-32-characters',
    mailDomain: 'nurture.test',
    webhookUrl: undefined,
    webhookSecret: 'bench-webhook-secret-of-at-least-32-characters',
    dataSecret: 'bench-data-secret-of-at-least-32-characters',
    taskQueue,
    databaseUrl,
    smtpUrl: sink.url,
  };
  const runtime = await startWorkerRuntime({ connection: env.nativeConnection, client: env.client, pool, config });
  const client = runtime.client; // payloads through the leads' data keys
  await runtime.mailer.stop(); // the backlog: nothing is delivered until a mailer starts again
  await loadDemoSalesTeam(pool);

  try {
    const parsed = parseCampaign(readFileSync(fileURLToPath(new URL('../campaigns/saas-whitepaper-nurture.yaml', import.meta.url)), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.errors.map(formatCampaignError).join('\n'));
    const campaign = parsed.campaign;
    await saveCampaignVersion(pool, campaign);
    await setCampaignStatus(pool, campaign.id, 'active');
    const now = async () => (devServer ? Date.now() : env.currentTimeMs());
    const wait = (ms: number) => (devServer ? new Promise((resolve) => setTimeout(resolve, ms)) : env.sleep(ms));
    // An hour into the send window, so the welcome email is due at once.
    const zone = windowZone(campaign.sendWindow, 'Asia/Tokyo');
    if (!devServer) await wait(nextWindowOpening(campaign.sendWindow, zone, await now()) + 3_600_000 - (await now()));

    let counter = 0;
    const event = async (leadId: string, type: string, data: Record<string, unknown>) => {
      const at = await now();
      const id = `backlog-${++counter}`;
      await storeEvents(pool, [{ externalId: id, leadId, type, occurredAt: new Date(at), data }]);
      await runtime.dispatcher.drain();
    };
    const leadIds: string[] = [];
    for (let i = 0; i < leads; i++) {
      const { lead } = await upsertLead(pool, { email: `backlog${i}@example.com`, attributes: { first_name: `B${i}`, company: { name: 'Initech', employees: 40 }, role: 'engineer' }, timezone: 'Asia/Tokyo' });
      await recordConsent(pool, { leadId: lead.id, purpose: 'marketing_email', granted: true, source: 'bench', at: new Date(await now()) });
      leadIds.push(lead.id);
      await event(lead.id, 'asset.downloaded', { asset: 'whitepaper' });
    }
    await wait(minutes * 60_000);

    // During the backlog: does a lead's event still change its score at once?
    const workflowIds = (await openEnrolments(pool, { campaignId: campaign.id })).map((row) => row.workflowId);
    const scoreOf = async (workflowId: string) => ((await client.workflow.getHandle(workflowId).query('state')) as { score: number }).score;
    const before = await scoreOf(workflowIds[0]!);
    const asked = performance.now();
    await event(leadIds[0]!, 'webinar.attended', {});
    let taken = false;
    while (performance.now() - asked < 10_000 && !(taken = (await scoreOf(workflowIds[0]!)) > before)) await new Promise((resolve) => setTimeout(resolve, 20));
    const eventDelayMs = performance.now() - asked;

    // Attempts so far: the welcome email's activity (pending, or completed once queued).
    const attempts: number[] = [];
    for (const workflowId of workflowIds) {
      const handle = client.workflow.getHandle(workflowId);
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const waiting = pending.find((activity) => activity.activityType?.name === 'sendEmail');
      if (waiting) attempts.push(waiting.attempt ?? 1);
      else {
        const history = await handle.fetchHistory();
        const scheduled = new Set(
          (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'queueEmail').map((e) => Number(e.eventId)),
        );
        const started = (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && scheduled.has(Number(e.activityTaskStartedEventAttributes?.scheduledEventId)));
        attempts.push(started[0]?.activityTaskStartedEventAttributes?.attempt ?? 0);
      }
    }

    // Drain: a mailer starts; every queued email goes, and each workflow hears its outcome.
    const transport = createTransport(sink.url, { pooled: true });
    const mailer = startMailer({ pool, databaseUrl, transport, completer: temporalCompleter(client), pollMs: 200 });
    const drained = performance.now();
    await mailer.idle();
    const drainMs = performance.now() - drained;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const historyEvents: number[] = [];
    for (const workflowId of workflowIds) historyEvents.push((await client.workflow.getHandle(workflowId).fetchHistory()).events?.length ?? 0);
    await mailer.stop();
    transport.close();

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ids = sink.messages.map((m) => m.messageId);
    console.log(`send backlog (${leads} leads, ${minutes} min with no mailer; ${devServer ? 'dev server in real time' : 'time-skipping server'}, real worker and mailer, embedded PostgreSQL, SMTP sink)`);
    console.log(`  activity attempts per email while queued: mean ${mean(attempts).toFixed(2)}, max ${Math.max(...attempts)} (baseline: 1, ratio ${mean(attempts).toFixed(2)}×)`);
    console.log(`  a lead's event during the backlog: ${taken ? `score changed after ${eventDelayMs.toFixed(0)} ms` : 'NOT taken within 10 s'}`);
    console.log(`  drained ${sink.messages.length} emails in ${(drainMs / 1000).toFixed(1)} s; duplicates: ${ids.length - new Set(ids).size}`);
    console.log(`  history events per enrolment after the drain: mean ${mean(historyEvents).toFixed(1)}, max ${Math.max(...historyEvents)}`);
  } finally {
    await runtime.stop();
    await pool.end();
    await sink.close();
    await env.teardown();
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
