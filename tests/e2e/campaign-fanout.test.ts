// A campaign with many open enrolments paused and resumed through the HTTP API: the request
// answers at once with a fan-out, a workflow reaches every enrolment page by page, and its
// progress is visible while it runs. Real parts: the API, the Temporal engine and worker,
// PostgreSQL, on Temporal's dev server. NURTURE_FANOUT_ENROLMENTS sets the size: 1,000 in the
// suite (about 90 s on two cores); the README's figures for 10,000 come from
// `NURTURE_FANOUT_ENROLMENTS=10000 npx vitest run tests/e2e/campaign-fanout.test.ts`.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApi } from '../../api/app';
import type { Campaign } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { setCampaignStatus } from '../../db/campaigns';
import { createFanOut, getFanOut } from '../../db/fanouts';
import { startFanOutSweeper } from '../../worker/fanout-sweeper';
import { DAY, loadCampaign, startHarness, type Harness } from './harness';

const ENROLMENTS = Number(process.env.NURTURE_FANOUT_ENROLMENTS ?? 1_000);

let h: Harness;
let api: FastifyInstance;
let key: string;
let campaign: Campaign;

beforeAll(async () => {
  // The dev server: many workflows in real time (nothing here needs virtual time).
  h = await startHarness({ devServerArgs: [] });
  const base = loadCampaign('saas-whitepaper-nurture');
  // Every lead waits a month first: what is measured is the fan-out, not email.
  campaign = { ...base, id: 'fanout-campaign', tracks: { cold: [{ kind: 'wait', durationMs: 30 * DAY }], warm: [], hot: [] } };
  await h.launch(campaign);
  api = await buildApi({ pool: h.db.pool, engine: h.engine, links: { baseUrl: 'http://nurture.test', secret: 'test-link-secret' }, rateLimit: false });
  key = (await createApiKey(h.db.pool, 'fan-out test', ['read', 'write'])).key;
}, 120_000);

afterAll(async () => {
  await api?.close();
  await h?.close();
});

const call = (method: 'GET' | 'POST', url: string) => api.inject({ method, url, headers: { authorization: `Bearer ${key}` } });

async function statuses(): Promise<Record<string, number>> {
  const { rows } = await h.db.pool.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM enrolments WHERE campaign_id = $1 GROUP BY status',
    [campaign.id],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

it(`pauses and resumes ${ENROLMENTS} enrolments through the API without the request waiting on them`, async () => {
  const started = performance.now();
  const { rows: leads } = await h.db.pool.query<{ id: string }>(
    `INSERT INTO leads (email, email_hash, attributes, timezone)
     SELECT 'fanout' || n || '@example.com', md5(n::text), '{}', 'Asia/Tokyo' FROM generate_series(1, $1) AS n RETURNING id`,
    [ENROLMENTS],
  );
  const waiting = [...leads];
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let lead = waiting.shift(); lead; lead = waiting.shift()) await h.engine.enrol(campaign.id, lead.id);
    }),
  );
  await until('every enrolment started', async () => {
    const { rows } = await h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM enrolments WHERE campaign_id = $1 AND stage = 'cold' AND updated_at > started_at - interval '1 day' AND score IS NOT NULL`, [campaign.id]);
    return rows[0]!.n === ENROLMENTS;
  }, 600_000);
  const enrolled = performance.now();

  for (const [action, expected] of [['pause', 'paused'], ['resume', 'active']] as const) {
    const requested = performance.now();
    const response = await call('POST', `/v1/campaigns/${campaign.id}/${action}`);
    const answeredMs = performance.now() - requested;
    expect(response.statusCode).toBe(200);
    const fanOut = response.json().fan_out;
    expect(fanOut).toMatchObject({ action, total: ENROLMENTS, finished: false });
    // The request did not wait for the signals (1,000 take about 20 s on the dev server).
    expect(answeredMs).toBeLessThan(2_000);

    let progressSeen = false;
    await until(`the ${action} fan-out to finish`, async () => {
      const progress = (await call('GET', `/v1/campaigns/${campaign.id}/fan-outs/${fanOut.id}`)).json();
      if (progress.done > 0 && !progress.finished) progressSeen = true;
      return progress.finished;
    }, 600_000);
    const reached = performance.now();
    const final = (await call('GET', `/v1/campaigns/${campaign.id}/fan-outs/${fanOut.id}`)).json();
    expect(final).toMatchObject({ done: ENROLMENTS, skipped: 0, finished: true });
    await until(`every enrolment ${expected}`, async () => (await statuses())[expected] === ENROLMENTS, 600_000);
    console.log(
      `[fan-out] ${action} ${ENROLMENTS} enrolments: answered in ${answeredMs.toFixed(0)} ms; every signal delivered after ` +
        `${((reached - requested) / 1000).toFixed(1)} s; every enrolment ${expected} after ${((performance.now() - requested) / 1000).toFixed(1)} s` +
        `${progressSeen ? '; progress seen part-way' : ''}`,
    );
  }
  const { rows: listed } = await h.db.pool.query('SELECT count(*)::int AS n FROM campaign_fanouts WHERE campaign_id = $1 AND finished_at IS NOT NULL', [campaign.id]);
  expect(listed[0].n).toBe(2);
  console.log(`[fan-out] ${ENROLMENTS} enrolments started in ${((enrolled - started) / 1000).toFixed(1)} s`);
}, 1_800_000);

it('a fan-out whose workflow never started (Temporal was away) is started by the workers’ sweeper', async () => {
  const statusSeq = (await setCampaignStatus(h.db.pool, campaign.id, 'active'))!;
  const fanOut = await createFanOut(h.db.pool, { campaignId: campaign.id, action: 'resume', statusSeq });
  const sweeper = startFanOutSweeper({ client: h.client, pool: h.db.pool, taskQueue: h.taskQueue, everyMs: 200, graceMs: 0 });
  try {
    await until('the swept fan-out to finish', async () => Boolean((await getFanOut(h.db.pool, fanOut.id))?.finishedAt), 300_000);
  } finally {
    sweeper.stop();
  }
  expect(await getFanOut(h.db.pool, fanOut.id)).toMatchObject({ total: ENROLMENTS, done: ENROLMENTS });
}, 600_000);
