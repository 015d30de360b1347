// An enrolment whose history grows past what the server suggests continues as new and carries
// everything: its score, its inbox, its enrolment (keys stay the same). Recorded on Temporal's dev
// server with a small limit.historyCount.suggestContinueAsNew, so the first run's history ends by
// carrying its state over; both runs replay against the current code (golden histories).
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Campaign } from '../../campaign';
import { loadCampaign, startHarness, type Harness } from './harness';

let h: Harness;
let campaign: Campaign;

beforeAll(async () => {
  h = await startHarness({ devServerArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60'] });
  campaign = loadCampaign('saas-whitepaper-nurture');
  await h.launch(campaign);
}, 120_000);

afterAll(async () => h?.close());

it('continues as new past the suggested history size and carries the enrolment over', async () => {
  const leadId = await h.addLead('kai.long@initech.example', { first_name: 'Kai', company: { name: 'Initech', employees: 40 }, role: 'engineer' });
  await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
  // Opens score 1 point each, at most 10: a long history, a bounded score.
  for (let n = 0; n < 30; n++) await h.event(leadId, 'email.opened', { template: 'welcome' });
  await h.event(leadId, 'page.viewed', { page: 'careers' });
  const { rows } = await h.db.pool.query<{ id: number; workflow_id: string }>('SELECT id, workflow_id FROM enrolments WHERE lead_id = $1', [leadId]);
  expect(rows).toHaveLength(1);
  const handle = h.client.workflow.getHandle(rows[0]!.workflow_id);
  // download 10 + opens 10 - careers 5
  await vi.waitFor(async () => expect(await handle.query('state')).toMatchObject({ score: 15, enrolmentId: rows[0]!.id, pendingInputs: 0 }), { timeout: 30_000 });
  const description = await handle.describe();
  const history = await handle.fetchHistory();
  const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
  expect(started.continuedExecutionRunId).toBeTruthy();
  expect(description.runId).not.toBe(started.firstExecutionRunId);
  // The workflow records its progress by an activity, a moment after its state shows it.
  await vi.waitFor(async () => {
    const { rows: enrolment } = await h.db.pool.query('SELECT score, ended_at FROM enrolments WHERE id = $1', [rows[0]!.id]);
    expect(enrolment[0]).toMatchObject({ score: 15, ended_at: null });
  }, { timeout: 10_000 });
  expect(await h.checkHistories('continue-as-new', { firstRuns: true })).toEqual([]);
}, 120_000);
