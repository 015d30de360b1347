// A launch: N known, consenting leads enrolled by a segment launch (API-equivalent: the launch row
// the API writes), carried out by the workers' launcher and dispatcher, until every welcome email
// is accepted by the SMTP sink; in enrolments per second. The baseline, measured in the same run on
// the same dev server, is a minimal workflow making one activity call, started N times (64 starts
// in flight) until all complete: the rate at which this server runs the least a workflow can do.
//
//   npx tsx bench/launch.ts [--leads 2000]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from '@temporalio/worker';
import { recordConsent } from '../db/consent';
import { createLaunch, getLaunch } from '../db/launches';
import { upsertLead } from '../db/leads';
import { workflowIdFor } from '../workflows/nurture';
import { WELCOME_CAMPAIGN } from './support/campaigns';
import { startBenchStack, waitUntil } from './support/stack';

const campaign = WELCOME_CAMPAIGN;

async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

export async function main(options: { leads: number }): Promise<void> {
  const { leads } = options;
  const stack = await startBenchStack('launch', { sinkKeep: leads + 100 });
  try {
    await stack.activate(campaign);
    console.log(`launch (${leads.toLocaleString('en')} consenting leads by segment → every welcome email at SMTP; Temporal CLI dev server, worker runtime, embedded PostgreSQL, SMTP sink)`);
    await inParallel(leads, 16, async (i) => {
      const { lead } = await upsertLead(stack.pool, { email: `launch${i}@bench.example`, attributes: { first_name: `L${i}`, role: 'manager' }, timezone: 'Asia/Tokyo' });
      await recordConsent(stack.pool, { leadId: lead.id, purpose: 'marketing_email', granted: true, source: 'bench' });
    });

    // Baseline: N minimal workflows of one activity call each.
    const worker = await Worker.create({
      connection: stack.env.nativeConnection,
      taskQueue: `${stack.taskQueue}-minimal`,
      workflowsPath: fileURLToPath(new URL('./support/minimal-workflow.ts', import.meta.url)),
      activities: { touch: async () => {} },
    });
    const running = worker.run();
    const baselineStarted = performance.now();
    await inParallel(leads, 64, async (i) => {
      await stack.env.client.workflow.execute('minimal', { workflowId: `minimal-${i}`, taskQueue: `${stack.taskQueue}-minimal`, args: [`${i}`] });
    });
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;
    worker.shutdown();
    await running;

    // The launch.
    const started = performance.now();
    const launch = await createLaunch(stack.pool, { campaignId: campaign.id, segment: "lead.role == 'manager'" });
    let firstEmail = 0;
    const unsubscribe = stack.sink.onMessage(() => (firstEmail ||= performance.now()));
    await waitUntil('every welcome email at SMTP', 1_800_000, async () => stack.sink.messages.length >= leads);
    const seconds = (performance.now() - started) / 1000;
    unsubscribe();
    const done = (await getLaunch(stack.pool, launch.id))!;
    if (done.enrolled !== leads) throw new Error(`launch enrolled ${done.enrolled} of ${leads}: ${JSON.stringify(done)}`);

    // What each costs the server: history events, workflow tasks and activities of one run of each.
    const shape = async (workflowId: string) => {
      const events = (await stack.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      return {
        events: events.length,
        tasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
        activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
        signals: events.filter((e) => e.workflowExecutionSignaledEventAttributes).length,
      };
    };
    const enrolment = await shape(workflowIdFor(campaign.id, (await upsertLead(stack.pool, { email: 'launch0@bench.example' })).lead.id));
    const minimalShape = await shape('minimal-0');
    const launchRate = leads / seconds;
    const baselineRate = leads / baselineSeconds;
    console.log(`  baseline: minimal one-activity workflow      ${baselineRate.toFixed(0).padStart(5)} workflows/s   (${leads} in ${baselineSeconds.toFixed(1)} s)`);
    console.log(`  launch: enrolled → welcome email at SMTP    ${launchRate.toFixed(0).padStart(5)} enrolments/s (${leads} in ${seconds.toFixed(1)} s; first email after ${((firstEmail - started) / 1000).toFixed(1)} s)`);
    console.log(`  ratio: the launch runs at ${((100 * launchRate) / baselineRate).toFixed(0)}% of the minimal workflow's rate`);
    const describe = (s: typeof enrolment) => `${s.events} history events, ${s.tasks} workflow tasks, ${s.activities} activities, ${s.signals} signals`;
    console.log(`  per run so far: an enrolment ${describe(enrolment)}; the minimal workflow ${describe(minimalShape)}`);
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { leads: { type: 'string', default: '2000' } } });
  await main({ leads: Number(values.leads) });
}
