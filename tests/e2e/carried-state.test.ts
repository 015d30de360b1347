// A run that continued as new under earlier workflow code carries its state in that code's
// shape: the handoffs it had opened came as records with a key (`handoffs`), not as assignments.
// Such a run must keep answering for its open handoff after the upgrade.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { initialState, step, type Campaign, type EnrolmentState, type Input } from '../../campaign';
import { nurture, salesResponseUpdate, stateQuery } from '../../workflows/nurture';
import { JOURNEY_LEAD } from '../support/reference-journey';
import { loadCampaign, startHarness, type Harness } from './harness';

let h: Harness;
let campaign: Campaign;

beforeAll(async () => {
  h = await startHarness();
  campaign = loadCampaign('saas-whitepaper-nurture');
  await h.launch(campaign);
  await h.startAtCanonicalInstant(campaign);
});

afterAll(async () => {
  await h?.close();
});

it('a run carried over from the earlier state shape still takes the answer to its open handoff', async () => {
  const leadId = await h.addLead(JOURNEY_LEAD.email, JOURNEY_LEAD.attributes, { timezone: JOURNEY_LEAD.timezone });
  const lead = { id: leadId, email: JOURNEY_LEAD.email, attributes: { ...JOURNEY_LEAD.attributes, email_domain: 'globex.example' }, timezone: JOURNEY_LEAD.timezone, consent: { marketing_email: true } };
  // The state of a lead who qualified and was handed off (handoff-1 pending), as the interpreter left it.
  const now = await h.now();
  let state: EnrolmentState = initialState(campaign, lead, now);
  const inputs: Input[] = [
    { type: 'start' },
    { type: 'event', event: { id: 'c1', type: 'asset.downloaded', at: now, data: { asset: 'whitepaper' } } },
    { type: 'event', event: { id: 'c2', type: 'page.viewed', at: now, data: { page: 'pricing' } } },
    { type: 'event', event: { id: 'c3', type: 'page.viewed', at: now, data: { page: 'pricing' } } },
  ];
  for (const input of inputs) state = step(campaign, state, input, now).state;
  expect(state.handoff).toMatchObject({ key: 'handoff-1', status: 'pending' });

  const workflowId = `nurture:${campaign.id}:${leadId}`;
  const handoffId = `${workflowId}/handoff-1`;
  const person = (name: string) => ({ name, email: `${name.toLowerCase()}@acme.example` });
  const earlierShape = {
    state,
    enrolmentId: 1,
    inbox: [],
    handoffs: [{ id: handoffId, key: 'handoff-1', owner: person('Kenji'), manager: person('Mariko'), status: 'pending', firstContactDue: state.handoff!.firstContactDue }],
    recorded: { stage: state.stage, score: 0, status: 'handed_off' },
  };
  const handle = await h.client.workflow.start(nurture, {
    workflowId,
    taskQueue: h.taskQueue,
    args: [{ campaign, campaignVersion: 1, lead, carried: earlierShape as never }],
  });
  expect((await handle.query(stateQuery)).handoff).toMatchObject({ key: 'handoff-1', id: handoffId, owner: person('Kenji') });
  await handle.executeUpdate(salesResponseUpdate, { args: [{ handoffId, outcome: 'accepted' }] });
  await vi.waitFor(async () => expect((await handle.query(stateQuery)).handoff).toMatchObject({ status: 'accepted' }));
  await expect(handle.executeUpdate(salesResponseUpdate, { args: [{ handoffId, outcome: 'accepted' }] })).rejects.toThrow();
  await handle.terminate('test over');
});
