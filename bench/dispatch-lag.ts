// Event → workflow signal lag: events stored at a steady rate (as the API stores them) for leads
// enrolled in a campaign that listens, and the time until the dispatcher's signal is in each
// workflow's history (a sample of 100, read from the histories), and until the event is marked
// delivered (all of them; the mark follows the signal's acknowledgement and the end of the
// dispatcher's round). The baseline, measured in the same run on the same dev server and
// workflows, is a signal sent straight to the workflow at the same rate: the latency Temporal
// itself gives a signal.
//
//   npx tsx bench/dispatch-lag.ts [--rate 1000] [--seconds 10] [--leads 500]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import type { LeadEvent } from '../campaign';
import { openEnrolments, openEnrolmentScores } from '../db/enrolments';
import { deliveryBacklog, deliveryTimes, storeEvents } from '../db/events';
import { upsertLead } from '../db/leads';
import { leadEventSignal, workflowIdFor } from '../workflows/nurture';
import { LISTENING_CAMPAIGN } from './support/campaigns';
import { startBenchStack, waitUntil } from './support/stack';

const campaign = LISTENING_CAMPAIGN;

/** Runs `task(i)` for i = 0… at `rate` per second for `seconds`, without waiting for one to start the next. */
async function paced(rate: number, seconds: number, task: (index: number) => Promise<void>): Promise<{ issued: number; seconds: number }> {
  const started = performance.now();
  const running: Promise<void>[] = [];
  let issued = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (issued < due) running.push(task(issued++));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(running);
  return { issued, seconds: (performance.now() - started) / 1000 };
}

const ms = (values: number[], p: number) => quantile(values, p).toFixed(0);

export async function main(options: { rate: number; seconds: number; leads: number }): Promise<void> {
  const { rate, seconds, leads } = options;
  const stack = await startBenchStack('dispatch-lag');
  try {
    await stack.activate(campaign);
    console.log(`event → signal lag (${rate} events/s for ${seconds} s over ${leads} enrolled leads; Temporal CLI dev server, worker runtime, embedded PostgreSQL)`);
    const leadIds: string[] = [];
    for (let i = 0; i < leads; i++) leadIds.push((await upsertLead(stack.pool, { email: `lag${i}@bench.example`, attributes: {} })).lead.id);
    await storeEvents(stack.pool, leadIds.map((leadId, i) => ({ externalId: `signup-${i}`, leadId, type: 'signup.completed', occurredAt: new Date(), data: {} })));
    await waitUntil('every lead enrolled', 300_000, async () => (await openEnrolments(stack.pool, { campaignId: campaign.id })).length === leads && (await deliveryBacklog(stack.pool)).undelivered === 0);
    const workflows = (await openEnrolments(stack.pool, { campaignId: campaign.id })).map((row) => row.workflowId);

    // Baseline: the signal straight to the workflow, at the same rate.
    const signalMs: number[] = [];
    const baseline = await paced(rate, seconds, async (i) => {
      const event: LeadEvent = { id: `direct-${i}`, type: 'page.viewed', at: Date.now(), data: {}, machine: false };
      const t0 = performance.now();
      await stack.runtime.client.workflow.getHandle(workflows[i % workflows.length]!).signal(leadEventSignal, event);
      signalMs.push(performance.now() - t0);
    });

    // The workflows take every baseline signal in (one point each) before the measured phase starts.
    const scored = async () => (await openEnrolmentScores(stack.pool, campaign.id)).reduce((sum, score) => sum + score, 0);
    await waitUntil('the baseline signals scored', 600_000, async () => (await scored()) >= baseline.issued);

    // Measured: stored as the API stores them; the dispatcher signals them.
    const ids: string[] = [];
    const measured = await paced(rate, seconds, async (i) => {
      const id = `stored-${i}`;
      ids.push(id);
      await storeEvents(stack.pool, [{ externalId: id, leadId: leadIds[i % leads]!, type: 'page.viewed', occurredAt: new Date(), data: {} }]);
    });
    const storedAt = performance.now();
    await waitUntil('every stored event delivered', 600_000, async () => (await deliveryBacklog(stack.pool)).undelivered === 0);
    const drainedAfter = (performance.now() - storedAt) / 1000;
    const times = await deliveryTimes(stack.pool, ids);
    const lags = times.map((row) => row.deliveredAt!.getTime() - row.receivedAt.getTime());
    // The signal's own time in the workflow's history, for a sample spread over the run.
    const sample = times.filter((_, i) => i % Math.max(1, Math.floor(times.length / 100)) === 0);
    const signalled: number[] = [];
    for (const row of sample) {
      const history = await stack.runtime.client.workflow.getHandle(workflowIdFor(campaign.id, row.leadId)).fetchHistory();
      let event: (typeof history.events & object)[number] | undefined;
      for (const candidate of history.events ?? []) {
        const payload = candidate.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
        if (!payload) continue;
        const [decoded] = await stack.runtime.payloadCodec.decode([payload]); // encrypted with the lead's key
        if (Buffer.from(decoded!.data!).toString().includes(`"${row.externalId}"`)) {
          event = candidate;
          break;
        }
      }
      const at = event?.eventTime;
      if (at) signalled.push(Number(at.seconds) * 1000 + Math.floor((at.nanos ?? 0) / 1e6) - row.receivedAt.getTime());
    }
    await waitUntil('the stored events scored', 600_000, async () => (await scored()) >= baseline.issued + measured.issued);
    const scoredAfter = (performance.now() - storedAt) / 1000;

    console.log(`  baseline: signal straight to the workflow   ${(baseline.issued / baseline.seconds).toFixed(0)} signals/s issued   latency p50 ${ms(signalMs, 0.5)} ms   p99 ${ms(signalMs, 0.99)} ms   max ${ms(signalMs, 1)} ms`);
    console.log(`  stored → signal in the workflow's history  ${(measured.issued / measured.seconds).toFixed(0)} events/s stored     lag     p50 ${ms(signalled, 0.5)} ms   p99 ${ms(signalled, 0.99)} ms   max ${ms(signalled, 1)} ms   (sample of ${signalled.length})`);
    console.log(`  stored → marked delivered (every event)                            lag     p50 ${ms(lags, 0.5)} ms   p99 ${ms(lags, 0.99)} ms   max ${ms(lags, 1)} ms   (all signalled ${drainedAfter.toFixed(1)} s and scored ${scoredAfter.toFixed(1)} s after the last was stored)`);
    console.log(`  ratio: event → signal lag p99 is ${(quantile(signalled, 0.99) / quantile(signalMs, 0.99)).toFixed(1)}× a direct signal's p99 latency at the same rate`);
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' }, leads: { type: 'string', default: '500' } } });
  await main({ rate: Number(values.rate), seconds: Number(values.seconds), leads: Number(values.leads) });
}
