// Owner assignment on real PostgreSQL: round-robin stays fair when many handoffs race, the
// territory rule picks reps of the lead's territory, and asking again changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandoffActivities, type OpenHandoffRequest } from '../../activities/handoff';
import { upsertLead } from '../../db/leads';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let activities: ReturnType<typeof createHandoffActivities>;

beforeAll(async () => {
  db = await createTestDatabase();
  activities = createHandoffActivities({ pool: db.pool });
  await db.pool.query(`INSERT INTO campaigns (id, name) VALUES ('c', 'C')`);
  await db.pool.query(`INSERT INTO sales_pools (name, manager_email) VALUES ('east', 'boss@acme.example')`);
  await db.pool.query(
    `INSERT INTO sales_reps (email, name, pool, territories, created_at) VALUES
       ('a@acme.example', 'A', 'east', '{kanto}', now()),
       ('b@acme.example', 'B', 'east', '{kanto}', now() + interval '1 second'),
       ('c@acme.example', 'C', 'east', '{kansai}', now() + interval '2 seconds'),
       ('d@acme.example', 'D', 'east', '{}', now() + interval '3 seconds')`,
  );
});

afterAll(async () => {
  await db?.drop();
});

async function request(n: number, region: string, strategy: 'round_robin' | 'territory'): Promise<OpenHandoffRequest> {
  const { lead } = await upsertLead(db.pool, { email: `lead${n}-${strategy}-${region}@example.com`, attributes: { region } });
  const enrolment = await db.pool.query(
    `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id) VALUES ($1, 'c', 1, $2) RETURNING id`,
    [`wf-${lead.id}`, lead.id],
  );
  return {
    enrolmentId: enrolment.rows[0].id,
    handoffId: `wf-${strategy}-${region}-${n}/handoff-1`,
    leadId: lead.id,
    campaignId: 'c',
    score: 80,
    reasons: ['score >= 70'],
    breakdown: [{ label: 'fit', points: 80 }],
    firstContactDue: Date.now() + 86_400_000,
    assign: { pool: 'east', strategy, territoryBy: 'region' },
    at: Date.now(),
  };
}

describe('openHandoff', () => {
  it('splits 200 concurrent handoffs evenly over the pool', async () => {
    const requests = await Promise.all(Array.from({ length: 200 }, (_, i) => request(i, 'any', 'round_robin')));
    const opened = await Promise.all(requests.map((r) => activities.openHandoff(r)));
    const counts: Record<string, number> = {};
    for (const o of opened) counts[o.owner.email] = (counts[o.owner.email] ?? 0) + 1;
    expect(counts).toEqual({ 'a@acme.example': 50, 'b@acme.example': 50, 'c@acme.example': 50, 'd@acme.example': 50 });
  });

  it('prefers reps of the lead territory and takes them in turn', async () => {
    const owners = [];
    for (let i = 0; i < 4; i++) owners.push((await activities.openHandoff(await request(i, 'Kanto', 'territory'))).owner.email);
    expect(owners).toEqual(['a@acme.example', 'b@acme.example', 'a@acme.example', 'b@acme.example']);
    const kansai = await activities.openHandoff(await request(9, 'kansai', 'territory'));
    expect(kansai.owner.email).toBe('c@acme.example');
    // A territory nobody covers falls back to the whole pool.
    const nowhere = await activities.openHandoff(await request(10, 'hokkaido', 'territory'));
    expect(['a@acme.example', 'b@acme.example', 'c@acme.example', 'd@acme.example']).toContain(nowhere.owner.email);
  });

  it('is idempotent: a retried activity gets the same owner and records one handoff', async () => {
    const r = await request(1, 'kansai', 'round_robin');
    const first = await activities.openHandoff(r);
    const again = await activities.openHandoff(r);
    expect(again.owner).toEqual(first.owner);
    const rows = await db.pool.query('SELECT count(*)::int AS n FROM handoffs WHERE id = $1', [r.handoffId]);
    expect(rows.rows[0].n).toBe(1);
    const events = await db.pool.query(`SELECT count(*)::int AS n FROM handoff_events WHERE handoff_id = $1`, [r.handoffId]);
    expect(events.rows[0].n).toBe(1);
  });

  it('refuses an unknown pool without retrying', async () => {
    const r = { ...(await request(2, 'x', 'round_robin')), assign: { pool: 'nowhere', strategy: 'round_robin' as const } };
    await expect(activities.openHandoff(r)).rejects.toThrow(/sales pool "nowhere" does not exist/);
  });
});
