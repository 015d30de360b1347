// A wait's timer and the inputs that arrive during it, on the real engine (time-skipping server).
// Since engine version 5 the timer of a wake time is started once and kept while events come and
// go; before, every input cancelled it and started a new one. Besides two history events per
// input, that mattered on Temporal's time-skipping test server: a completion that cancels a timer
// which fired during the same workflow task is refused and the run never gets another task
// (sdk-java issues 2606 and 3088) — the seminar scenario hung that way in CI, a result signal
// arriving as its wait's timer fired.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCampaign, type Campaign } from '../../campaign';
import { recordEnrolmentStart } from '../../db/enrolments';
import { leadSnapshot } from '../../db/leads';
import { enrolmentInput, leadEventSignal, nurture, workflowIdFor } from '../../workflows/nurture';
import { diagnoseWorkflow } from '../support/workflow-diagnosis';
import { DAY, HOUR, startHarness, type Harness } from './harness';

const CAMPAIGN = `
id: wake-timer
name: Wake timer
from: { email: news@acme.example }
timezone: Asia/Tokyo
entry: { on: demo.requested }
consent: marketing_email
scoring:
  behaviour:
    - { on: page.viewed, points: 1, label: page views }
stages: { warm: 1000, hot: 2000 }
send_window: { days: every_day, hours: "00:00-24:00", timezone: Asia/Tokyo, spread: 0 }
tracks:
  cold:
    - email: { template: welcome, subject: "Welcome" }
    - wait: 3d
    - email: { template: product-tour, subject: "A 3-minute tour" }
`;

/** Waits an hour, again and again: a wake time every hour, and a new one whenever an input comes after it. */
const HOURLY = `
id: hourly
name: Hourly
from: { email: news@acme.example }
timezone: Asia/Tokyo
entry: { on: demo.requested }
consent: marketing_email
scoring:
  behaviour:
    - { on: page.viewed, points: 1, label: page views }
stages: { warm: 100000, hot: 200000 }
tracks:
  cold:
    - { wait: 1h, label: top }
    - goto: top
`;

let h: Harness;
let campaign: Campaign;
let hourly: Campaign;

const parse = (text: string) => {
  const result = parseCampaign(text);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.campaign;
};

beforeAll(async () => {
  h = await startHarness();
  campaign = parse(CAMPAIGN);
  hourly = parse(HOURLY);
  await h.launch(campaign);
  await h.launch(hourly);
});
afterAll(async () => h?.close());

/** Starts an enrolment on `engineVersion` as the engine does (its open row first). */
async function enrol(target: Campaign, email: string, engineVersion: number) {
  const leadId = await h.addLead(email, { first_name: 'Aiko' });
  const workflowId = workflowIdFor(target.id, leadId);
  await recordEnrolmentStart(h.db.pool, { workflowId, campaignId: target.id, campaignVersion: 1, leadId });
  const lead = (await leadSnapshot(h.db.pool, leadId))!;
  await h.client.workflow.start(nurture, { workflowId, taskQueue: h.taskQueue, args: [{ ...enrolmentInput(target, 1, lead), engineVersion }] });
  return { leadId, workflowId };
}

/** Enrols a lead on `engineVersion`, lets 8 page views arrive an hour apart during the wait, and returns the run's timer events. */
async function waitWithInputs(email: string, engineVersion: number) {
  const { leadId, workflowId } = await enrol(campaign, email, engineVersion);
  await h.waitForMail((message) => message.to.includes(email) && message.subject === 'Welcome');
  await h.settle();
  for (let view = 0; view < 8; view++) {
    await h.advance(HOUR);
    await h.event(leadId, 'page.viewed', { page: `docs-${view}` });
  }
  await h.settle();
  await h.advance(3 * DAY);
  await h.waitForMail((message) => message.to.includes(email) && message.subject === 'A 3-minute tour');
  await h.settle();
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  return {
    started: events.filter((event) => event.timerStartedEventAttributes).length,
    cancelled: events.filter((event) => event.timerCanceledEventAttributes).length,
    signals: events.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'leadEvent').length,
  };
}

describe('a wait with inputs during it', () => {
  it('keeps one timer for the wait while events arrive (engine version 5), and still sends the next email after it', async () => {
    const timers = await waitWithInputs('aiko@example.jp', 5);
    expect(timers.signals).toBeGreaterThanOrEqual(8);
    expect(timers).toMatchObject({ started: 1, cancelled: 0 });
    expect(h.mailTo('aiko@example.jp').map((message) => message.subject)).toEqual(['Welcome', 'A 3-minute tour']);
  });

  it('cancelled and restarted the timer around every input before (engine version 4, kept for its running enrolments)', async () => {
    const timers = await waitWithInputs('ren@example.jp', 4);
    expect(timers.cancelled).toBeGreaterThanOrEqual(8);
    expect(timers.started).toBe(timers.cancelled + 1);
    expect(h.mailTo('ren@example.jp').map((message) => message.subject)).toEqual(['Welcome', 'A 3-minute tour']);
  });

  it('keeps going while events keep arriving as its timers fire (version 4 stranded a run here within seconds on the time-skipping server)', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, (_, n) => enrol(hourly, `hourly-${n}@example.jp`, 5)));
    await h.settle();
    // Each round: 20 events at random moments, one enrolment after another, while 3 h of virtual
    // time run on; then the skip must end. (Events without end keep some workflow task always
    // outstanding on a loaded machine, and the server never moves its clock then.)
    let sent = 0;
    for (let round = 0; round < 12; round++) {
      const skip = h.env.sleep(3 * HOUR).then(() => true);
      for (let n = 0; n < 20; n++) {
        const run = runs[sent % runs.length]!;
        await h.client.workflow.getHandle(run.workflowId).signal(leadEventSignal, { id: `hourly-${sent++}`, type: 'page.viewed', at: Date.now(), data: {}, machine: false });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
      }
      const skipped = await Promise.race([skip, new Promise<false>((resolve) => setTimeout(() => resolve(false), 60_000))]);
      if (!skipped) {
        const reports = await Promise.all(runs.map((run) => diagnoseWorkflow(h.client, run.workflowId, 6)));
        throw new Error(`3 h of virtual time did not pass within 60 s of the round's last event (round ${round}, ${sent} events sent):\n${reports.join('\n')}`);
      }
    }
    expect(sent).toBe(240);
    await h.settle();
    for (const run of runs) expect((await h.client.workflow.getHandle(run.workflowId).describe()).status.name).toBe('RUNNING');
  }, 600_000);

  it('replays the histories of all of them', async () => {
    expect(await h.checkHistories('wake-timer')).toEqual([]);
  });
});
