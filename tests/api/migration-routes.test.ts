// The migration routes: POST /v1/campaigns/:id/migrate (every running enrolment of the campaign,
// through a fan-out) and POST /v1/enrolments/:workflowId/migrate (one), their defaults, filters
// and refusals.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EngineRefusal } from '../../api/engine';
import { createFanOut, fanOutTargets, getFanOut, recordFanOutPage } from '../../db/fanouts';
import { createLead, startTestApi, type TestApi } from './support';

let api: TestApi;
const ID = 'saas-whitepaper-nurture';
const workflows: Record<string, string> = {};

/** An enrolment row as the workflow leaves it, on `version`, running or ended. */
async function enrolment(name: string, version: number, ended = false) {
  const leadId = await createLead(api, `${name}@example.com`);
  const workflowId = `nurture:${ID}:${leadId}`;
  await api.db.pool.query(
    `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id, ended_at) VALUES ($1, $2, $3, $4, $5)`,
    [workflowId, ID, version, leadId, ended ? new Date() : null],
  );
  workflows[name] = workflowId;
}

beforeAll(async () => {
  api = await startTestApi();
  const yaml = await readFile(new URL('../../campaigns/saas-whitepaper-nurture.yaml', import.meta.url), 'utf8');
  const post = (body: string) => api.call({ method: 'POST', url: '/v1/campaigns', payload: body, headers: { 'content-type': 'application/yaml' } });
  expect((await post(yaml)).json().version).toBe(1);
  expect((await post(yaml.replace('Did you get a chance to read the guide?', 'Still curious?'))).json().version).toBe(2);
  expect((await post(yaml.replace('Did you get a chance to read the guide?', 'One more look?'))).json().version).toBe(3);
  expect((await api.call({ method: 'POST', url: `/v1/campaigns/${ID}/launch` })).statusCode).toBe(200);
  await enrolment('one-a', 1);
  await enrolment('one-b', 1);
  await enrolment('two', 2);
  await enrolment('three', 3);
  await enrolment('ended', 1, true);
});
afterAll(async () => api?.close());

const migrateCampaign = (payload?: unknown, id = ID) =>
  api.call({ method: 'POST', url: `/v1/campaigns/${id}/migrate`, ...(payload === undefined ? {} : { payload: payload as object }) });
const migrateEnrolment = (workflowId: string, payload?: unknown) =>
  api.call({ method: 'POST', url: `/v1/enrolments/${encodeURIComponent(workflowId)}/migrate`, ...(payload === undefined ? {} : { payload: payload as object }) });
/** The engine's migrateEnrolment calls since the last take. */
const takeCalls = () => {
  const calls = api.engine.of('migrateEnrolment');
  api.engine.calls = api.engine.calls.filter((call) => call.method !== 'migrateEnrolment');
  return calls;
};

describe('POST /v1/campaigns/:id/migrate', () => {
  it('hands the migration to a fan-out and answers at once, with its progress', async () => {
    const response = await migrateCampaign({ from_version: 1, to_version: 2 });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ to_version: 2, fan_out: { action: 'migrate', to_version: 2 } });
    expect(api.engine.of('migrateCampaign')).toEqual([{ method: 'migrateCampaign', campaignId: ID, toVersion: 2, fromVersion: 1 }]);
    expect(takeCalls()).toEqual([]); // no enrolment is reached inside the request
    api.engine.calls = [];
    expect((await migrateCampaign()).statusCode).toBe(202);
    expect(api.engine.of('migrateCampaign')).toEqual([{ method: 'migrateCampaign', campaignId: ID, toVersion: 3, fromVersion: undefined }]);
    api.engine.calls = [];
  });

  it('reaches, page by page, the running enrolments on another version (only those on from_version when given)', async () => {
    const pages = async (request: { toVersion: number; fromVersion?: number }) => {
      const fanOut = await createFanOut(api.db.pool, { campaignId: ID, action: 'migrate', ...request });
      const reached: string[] = [];
      for (let page = await fanOutTargets(api.db.pool, fanOut, 1); page.length > 0; page = await fanOutTargets(api.db.pool, fanOut, 1)) {
        reached.push(...page.map((target) => target.workflowId));
        await recordFanOutPage(api.db.pool, fanOut.id, { cursor: page.at(-1)!.id, done: page.length, skipped: 0, finished: false });
        Object.assign(fanOut, await getFanOut(api.db.pool, fanOut.id));
      }
      return { total: fanOut.total, done: fanOut.done, reached };
    };
    expect(await pages({ toVersion: 2, fromVersion: 1 })).toEqual({ total: 2, done: 2, reached: [workflows['one-a'], workflows['one-b']] });
    expect(await pages({ toVersion: 3 })).toEqual({ total: 3, done: 3, reached: [workflows['one-a'], workflows['one-b'], workflows['two']] });
  });

  it('answers 404 for an unknown campaign or version, 400 for a malformed body', async () => {
    expect((await migrateCampaign({}, 'no-such-campaign')).statusCode).toBe(404);
    const unknownTarget = await migrateCampaign({ to_version: 9 });
    expect(unknownTarget.statusCode).toBe(404);
    expect(unknownTarget.json().error.code).toBe('not_found');
    expect((await migrateCampaign({ from_version: 9 })).statusCode).toBe(404);
    for (const body of [{ to_version: 'two' }, { to_version: 0 }, { to_version: 1.5 }, { version: 2 }, [2]]) {
      const response = await migrateCampaign(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe('invalid_request');
    }
    expect(takeCalls()).toEqual([]);
  });

  it('needs the write scope', async () => {
    const response = await api.call({ method: 'POST', url: `/v1/campaigns/${ID}/migrate`, payload: {}, key: api.readKey });
    expect(response.statusCode).toBe(403);
  });
});

describe('POST /v1/enrolments/:workflowId/migrate', () => {
  it('moves one enrolment, to the current version by default', async () => {
    const response = await migrateEnrolment(workflows['one-a']!);
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ workflow_id: workflows['one-a'], from_version: 1, to_version: 3 });
    const explicit = await migrateEnrolment(workflows['three']!, { to_version: 2 });
    expect(explicit.json()).toEqual({ workflow_id: workflows['three'], from_version: 3, to_version: 2 });
    expect(takeCalls().map((call) => [call.workflowId, call.version])).toEqual([
      [workflows['one-a'], 3],
      [workflows['three'], 2],
    ]);
  });

  it('answers 404 for an unknown or ended enrolment and an unknown version, 409 for the version in use, 400 for a malformed body', async () => {
    expect((await migrateEnrolment('nurture:nope:nope')).statusCode).toBe(404);
    expect((await migrateEnrolment(workflows['ended']!)).statusCode).toBe(404);
    expect((await migrateEnrolment(workflows['two']!, { to_version: 9 })).statusCode).toBe(404);
    const same = await migrateEnrolment(workflows['two']!, { to_version: 2 });
    expect(same.statusCode).toBe(409);
    expect(same.json().error.code).toBe('conflict');
    for (const body of [{ to_version: -1 }, { to_version: 2, from_version: 1 }, [2]]) {
      expect((await migrateEnrolment(workflows['two']!, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(takeCalls()).toEqual([]);
  });

  it("passes on the engine's refusal (the workflow declines) as 409", async () => {
    const spy = vi.spyOn(api.engine, 'migrateEnrolment').mockRejectedValueOnce(new EngineRefusal('conflict', 'the enrolment has ended'));
    try {
      const response = await migrateEnrolment(workflows['two']!, { to_version: 1 });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.message).toBe('the enrolment has ended');
    } finally {
      spy.mockRestore();
    }
  });
});

describe('an archived campaign', () => {
  it('refuses both migrations with 409', async () => {
    expect((await api.call({ method: 'POST', url: `/v1/campaigns/${ID}/archive` })).statusCode).toBe(200);
    expect((await migrateCampaign({ to_version: 2 })).statusCode).toBe(409);
    expect((await migrateEnrolment(workflows['two']!, { to_version: 3 })).statusCode).toBe(409);
    expect(takeCalls()).toEqual([]);
  });
});
