// Lead data that changes mid-journey, on the real engine (time-skipping server): BANT learnt on
// a sales call reaches the running enrolment through the API's upsert, re-scores fit, moves the
// lead from warm to hot and hands it off to a rep.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { parseCampaign, type Campaign } from '../../campaign';
import { upsertLead } from '../../db/leads';
import { HOUR, loadCampaign, startHarness, type Harness } from './harness';

/** A webinar follow-up that tags attendees and sets their lifecycle stage, then branches on both. */
const FOLLOW_UP = `
id: webinar-follow-up
name: Webinar follow-up
from: { email: events@acme.example }
entry: { on: webinar.attended }
consent: marketing_email
scoring: {}
stages: { warm: 20, hot: 1000 }
send_window: { days: every_day, spread: 0 }
tracks:
  cold:
    - tag: webinar-attendee
    - set: { lifecycle: mql }
    - if: "'webinar-attendee' in lead.tags && lead.lifecycle == 'mql'"
      then: [ { email: { template: case-study, subject: "Thanks for attending, {{lead.first_name}}" } } ]
      else: [ { email: { template: reminder, subject: "Not tagged" } } ]
`;

let h: Harness;
let bant: Campaign;

beforeAll(async () => {
  h = await startHarness();
  bant = loadCampaign('hot-lead-seed002');
  await h.launch(bant);
  const followUp = parseCampaign(FOLLOW_UP);
  if (!followUp.ok) throw new Error(JSON.stringify(followUp.errors));
  await h.launch(followUp.campaign);
  await h.startAtCanonicalInstant(bant);
});

afterAll(async () => {
  await h?.close();
});

const enrolment = async (leadId: string) =>
  (await h.db.pool.query<{ stage: string; score: number; status: string }>('SELECT stage, score, status FROM enrolments WHERE lead_id = $1', [leadId])).rows[0];

it('an attribute update moves a warm lead to hot and hands it off', async () => {
  const address = 'daichi@initech.example';
  // A director at a 300-person company: fit 30; authority and timeline not known yet.
  const leadId = await h.addLead(address, { first_name: 'Daichi', last_name: 'Mori', company: { name: 'Initech', employees: 300 }, role: 'director', region: 'kanto' });
  await h.event(leadId, 'form.submitted', { form: 'contact' });
  await h.waitForMail((m) => m.to.includes(address));
  await h.advance(HOUR);
  await h.event(leadId, 'asset.downloaded', { asset: 'product-brochure' });
  await h.event(leadId, 'page.viewed', { section: 'product' });
  await h.event(leadId, 'page.viewed', { section: 'product' });
  await h.settle();
  await vi.waitFor(async () => expect(await enrolment(leadId)).toMatchObject({ stage: 'warm', score: 55 }), { timeout: 20_000 });
  expect((await h.db.pool.query('SELECT 1 FROM handoffs WHERE lead_id = $1', [leadId])).rowCount).toBe(0);

  // The sales call: what PUT /v1/leads does with { authority: true, timeline_months: 2 }.
  await upsertLead(h.db.pool, { email: address, attributes: { authority: true, timeline_months: 2 } });
  const notice = await h.waitForMail((m) => m.subject.includes('Daichi Mori') && !m.to.includes(address));
  expect(notice.subject).toContain('score 80');
  await h.settle();
  expect(await enrolment(leadId)).toMatchObject({ stage: 'hot', score: 80, status: 'handed_off' });
  const { rows } = await h.db.pool.query(`SELECT s.from_stage, s.to_stage FROM stage_changes s JOIN enrolments e ON e.id = s.enrolment_id WHERE e.lead_id = $1 ORDER BY s.id`, [leadId]);
  expect(rows.map((row) => `${row.from_stage}→${row.to_stage}`)).toEqual(['cold→warm', 'warm→hot']);
  // The workflow's timeline says why the score moved.
  const { rows: enrolments } = await h.db.pool.query<{ workflow_id: string }>('SELECT workflow_id FROM enrolments WHERE lead_id = $1', [leadId]);
  const state = await h.client.workflow.getHandle(enrolments[0]!.workflow_id).query<{ history: { what: string }[] }>('state');
  expect(state.history.map((entry) => entry.what)).toContain('attributes changed (authority, timeline_months): fit 30 → 55 (+10 decision authority, +15 adoption within 3 months)');
});

it('a step tags the lead and sets an attribute: the branch after it sees both, and so does the lead\'s record', async () => {
  const address = 'emi@globex.example';
  const leadId = await h.addLead(address, { first_name: 'Emi', tags: ['newsletter'] });
  await h.event(leadId, 'webinar.attended', { webinar: 'metrics-101' });
  await h.waitForMail((m) => m.to.includes(address) && m.subject === 'Thanks for attending, Emi');
  await h.settle();
  await vi.waitFor(async () => {
    const { rows } = await h.db.pool.query('SELECT attributes FROM leads WHERE id = $1', [leadId]);
    expect(rows[0].attributes).toEqual({ first_name: 'Emi', tags: ['newsletter', 'webinar-attendee'], lifecycle: 'mql' });
  });
  const { rows: updates } = await h.db.pool.query(`SELECT data->'changed' AS changed FROM events WHERE lead_id = $1 AND type = 'lead.updated' ORDER BY id`, [leadId]);
  expect(updates.map((row) => row.changed)).toEqual([['tags'], ['lifecycle']]);
  expect(h.mailTo(address).map((m) => m.subject)).toEqual(['Thanks for attending, Emi']);
  // The enrolment noted each step once; the lead.updated events that came back changed nothing more.
  const { rows: enrolments } = await h.db.pool.query<{ workflow_id: string }>(`SELECT workflow_id FROM enrolments WHERE lead_id = $1 AND campaign_id = 'webinar-follow-up'`, [leadId]);
  const state = await h.client.workflow.getHandle(enrolments[0]!.workflow_id).query<{ history: { what: string }[] }>('state');
  expect(state.history.map((entry) => entry.what).filter((what) => what.includes('changed'))).toEqual([
    'tracks.cold[0] changed the lead (+webinar-attendee): fit 0 → 0',
    'tracks.cold[1] changed the lead (lifecycle): fit 0 → 0',
  ]);
});

it('replays every history it produced (and records them as golden histories on request)', async () => {
  expect(await h.checkHistories('live-attributes')).toEqual([]);
});
