// A lead moving between stages on the real engine (time-skipping server): back in cold, the
// seminar track resumes where it was left instead of sending the confirmation again; the email
// marked `once` never goes twice; every email arrives once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseCampaign, type Campaign } from '../../campaign';
import { DAY, HOUR, startHarness, type Harness } from './harness';

const SEMINAR = `
id: seminar-reentry
name: Seminar with stage changes
from: { email: events@acme.example }
timezone: Asia/Tokyo
entry: { on: seminar.registered }
consent: marketing_email
scoring:
  behaviour:
    - { on: page.viewed, where: "event.data.page == 'pricing'", points: 20, label: pricing views }
    - { on: page.viewed, where: "event.data.page == 'careers'", points: -20, label: careers views }
stages: { warm: 20, hot: 1000, hysteresis: 0 }
send_window: { days: every_day, spread: 0 }
tracks:
  cold:
    - email: { template: welcome, subject: "You are registered, {{lead.first_name}}", once: true }
    - wait: 1d
    - email: { template: reminder, subject: "Tomorrow: the seminar" }
  warm:
    - email: { template: webinar-invite, subject: "Next: a live demo" }
    - wait: 5d
    - email: { template: pricing, subject: "Plans" }
`;

let h: Harness;
let campaign: Campaign;

beforeAll(async () => {
  h = await startHarness();
  const result = parseCampaign(SEMINAR);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  campaign = result.campaign;
  await h.launch(campaign);
});

afterAll(async () => {
  await h?.close();
});

it('resumes the cold track where it was left: no second confirmation, the reminder a day after the first email', async () => {
  const address = 'yui@globex.example';
  const leadId = await h.addLead(address, { first_name: 'Yui', company: { name: 'Globex', employees: 120 } });
  await h.event(leadId, 'seminar.registered', { seminar: 'metrics-101' });
  await h.waitForMail((m) => m.to.includes(address) && m.subject === 'You are registered, Yui');
  await h.advance(2 * HOUR);
  await h.event(leadId, 'page.viewed', { page: 'pricing' }); // warm
  await h.waitForMail((m) => m.to.includes(address) && m.subject === 'Next: a live demo');
  await h.advance(2 * HOUR);
  await h.event(leadId, 'page.viewed', { page: 'careers' }); // cold again
  await h.settle();
  await h.advance(DAY);
  await h.waitForMail((m) => m.to.includes(address) && m.subject === 'Tomorrow: the seminar');
  await h.event(leadId, 'page.viewed', { page: 'pricing' }); // warm again: its 5-day wait goes on
  await h.advance(5 * DAY);
  await h.waitForMail((m) => m.to.includes(address) && m.subject === 'Plans');
  await h.settle();
  expect(h.mailTo(address).map((m) => m.subject)).toEqual(['You are registered, Yui', 'Next: a live demo', 'Tomorrow: the seminar', 'Plans']);
  const { rows } = await h.db.pool.query<{ from_stage: string; to_stage: string }>(
    `SELECT from_stage, to_stage FROM stage_changes s JOIN enrolments e ON e.id = s.enrolment_id WHERE e.lead_id = $1 ORDER BY s.id`,
    [leadId],
  );
  expect(rows.map((row) => `${row.from_stage}→${row.to_stage}`)).toEqual(['cold→warm', 'warm→cold', 'cold→warm']);
});

it('replays every history it produced (and records them as golden histories on request)', async () => {
  expect(await h.checkHistories('track-reentry')).toEqual([]);
});
