// The launch routes: what a launch request must say (one audience, a well-formed segment, an
// active campaign), what it answers (202 with the candidates counted, addresses of no lead named),
// its progress and its cancellation. Carrying launches out is tested on the engine (tests/e2e/launch.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLead, startTestApi, tableCounts, type TestApi } from './support';

let api: TestApi;
const ACTIVE = 'launchable';
beforeAll(async () => {
  api = await startTestApi();
  for (const [id, status] of [
    [ACTIVE, 'active'],
    ['drafted', 'draft'],
  ]) {
    await api.db.pool.query(`INSERT INTO campaigns (id, name, status, current_version) VALUES ($1, $1, $2, 1)`, [id, status]);
    await api.db.pool.query(`INSERT INTO campaign_versions (campaign_id, version, content_hash, definition) VALUES ($1, 1, 'h', '{}')`, [id]);
  }
});
afterAll(async () => api?.close());

const launch = (payload: object, campaign = ACTIVE) => api.call({ method: 'POST', url: `/v1/campaigns/${campaign}/launches`, payload });

describe('POST /v1/campaigns/:id/launches', () => {
  it.each([
    ['no audience', {}, /must NOT have fewer than 1 properties|exactly one/],
    ['two audiences', { segment: 'true', lead_ids: ['00000000-0000-4000-8000-000000000000'] }, /exactly one of segment, lead_ids or emails/],
    ['a segment that does not parse', { segment: "lead.role == 'manager' &&" }, /^segment: /],
    ['a segment calling an unknown function', { segment: "opend('welcome')" }, /segment: unknown function opend\(\)/],
    ['a bad lead id', { lead_ids: ['not-a-uuid'] }, /lead_ids\/0/],
    ['a bad address', { emails: ['not an address'] }, /emails\/0/],
    ['a pace of zero', { segment: 'true', per_minute: 0 }, /per_minute/],
  ])('refuses %s with 400 and stores nothing', async (_name, payload, message) => {
    const before = await api.db.pool.query('SELECT count(*)::int AS n FROM campaign_launches');
    const response = await launch(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toMatch(message);
    expect((await api.db.pool.query('SELECT count(*)::int AS n FROM campaign_launches')).rows).toEqual(before.rows);
  });

  it('refuses an unknown campaign (404) and one that is not active (409)', async () => {
    expect((await launch({ segment: 'true' }, 'nowhere')).statusCode).toBe(404);
    const draft = await launch({ segment: 'true' }, 'drafted');
    expect(draft.statusCode).toBe(409);
    expect(draft.json().error.message).toContain('campaign drafted is draft; a launch needs it active');
  });

  it('accepts a segment with every unerased lead as a candidate, and shows its progress', async () => {
    await createLead(api, 'seg-a@example.com');
    await createLead(api, 'seg-b@example.com');
    const leads = (await api.db.pool.query('SELECT count(*)::int AS n FROM leads WHERE erased_at IS NULL AND email IS NOT NULL')).rows[0].n;
    const response = await launch({ segment: "lead.role == 'manager' && count('page.viewed', '90d') > 2", per_minute: 600 });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ campaign_id: ACTIVE, status: 'running', total: leads, scanned: 0, queued: 0, per_minute: 600, listed: null, complete: false });
    const id = response.json().id;
    const progress = await api.call({ method: 'GET', url: `/v1/campaigns/${ACTIVE}/launches/${id}`, key: api.readKey });
    expect(progress.json()).toMatchObject({ id, status: 'running' });
    const list = await api.call({ method: 'GET', url: `/v1/campaigns/${ACTIVE}/launches`, key: api.readKey });
    expect(list.json().launches[0].id).toBe(id);
    expect((await api.call({ method: 'GET', url: `/v1/campaigns/drafted/launches/${id}` })).statusCode).toBe(404);
    // The engine hears nothing: the workers carry launches out.
    expect(api.engine.calls).toEqual([]);
  });

  it('resolves a list of addresses to leads and names those of no lead', async () => {
    const known = await createLead(api, 'listed@example.com');
    const response = await launch({ emails: ['Listed@Example.com', 'stranger@example.com'] });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ listed: 1, total: 1, unknown_emails: ['stranger@example.com'] });
    const stored = await api.db.pool.query('SELECT lead_ids FROM campaign_launches WHERE id = $1', [response.json().id]);
    expect(stored.rows[0].lead_ids).toEqual([known]);

    const before = await tableCounts(api.db);
    const nobody = await launch({ emails: ['stranger@example.com'] });
    expect(nobody.statusCode).toBe(400);
    expect(nobody.json().error.message).toBe('none of the listed addresses is a known lead');
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('cancels a running launch once', async () => {
    const id = (await launch({ segment: 'true' })).json().id;
    const cancelled = await api.call({ method: 'POST', url: `/v1/campaigns/${ACTIVE}/launches/${id}/cancel` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', complete: true });
    const again = await api.call({ method: 'POST', url: `/v1/campaigns/${ACTIVE}/launches/${id}/cancel` });
    expect(again.statusCode).toBe(409);
  });
});
