// Lead data that changes mid-journey, on the real engine (time-skipping server): BANT learnt on
// a sales call reaches the running enrolment through the API's upsert, re-scores fit, moves the
// lead from warm to hot and hands it off to a rep.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Campaign } from '../../campaign';
import { upsertLead } from '../../db/leads';
import { HOUR, loadCampaign, startHarness, type Harness } from './harness';

let h: Harness;
let bant: Campaign;

beforeAll(async () => {
  h = await startHarness();
  bant = loadCampaign('hot-lead-seed002');
  await h.launch(bant);
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

it('replays every history it produced (and records them as golden histories on request)', async () => {
  expect(await h.checkHistories('live-attributes')).toEqual([]);
});
