// Owner assignment on real PostgreSQL: round-robin stays fair when many handoffs race, the
// territory rule picks reps of the lead's territory, and asking again changes nothing. A handoff
// nobody can take is recorded unassigned, with whom to alert, and never fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandoffActivities, type OpenHandoffRequest } from '../../activities/handoff';
import { upsertLead } from '../../db/leads';
import { Links } from '../../mail/links';
import { TemplateLibrary } from '../../mail/renderer';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let activities: ReturnType<typeof createHandoffActivities>;
const OPERATOR = { email: 'ops@acme.example', name: 'Operator' };

beforeAll(async () => {
  db = await createTestDatabase();
  activities = createHandoffActivities({
    pool: db.pool,
    operator: OPERATOR,
    templates: new TemplateLibrary(),
    links: new Links({ baseUrl: 'http://localhost', secret: 'a-link-secret-of-at-least-32-characters' }),
    mailDomain: 'nurture.test',
  });
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
    for (const o of opened) counts[o.owner!.email] = (counts[o.owner!.email] ?? 0) + 1;
    expect(counts).toEqual({ 'a@acme.example': 50, 'b@acme.example': 50, 'c@acme.example': 50, 'd@acme.example': 50 });
  });

  it('prefers reps of the lead territory and takes them in turn', async () => {
    const owners = [];
    for (let i = 0; i < 4; i++) owners.push((await activities.openHandoff(await request(i, 'Kanto', 'territory'))).owner!.email);
    expect(owners).toEqual(['a@acme.example', 'b@acme.example', 'a@acme.example', 'b@acme.example']);
    const kansai = await activities.openHandoff(await request(9, 'kansai', 'territory'));
    expect(kansai.owner!.email).toBe('c@acme.example');
    // A territory nobody covers falls back to the whole pool.
    const nowhere = await activities.openHandoff(await request(10, 'hokkaido', 'territory'));
    expect(['a@acme.example', 'b@acme.example', 'c@acme.example', 'd@acme.example']).toContain(nowhere.owner!.email);
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

  it('records a handoff to a pool that does not exist unassigned, to be told to the operator', async () => {
    const r = { ...(await request(2, 'x', 'round_robin')), assign: { pool: 'nowhere', strategy: 'round_robin' as const } };
    const opened = await activities.openHandoff(r);
    expect(opened).toMatchObject({ owner: null, manager: null, unassignedReason: 'sales pool "nowhere" does not exist', alertTo: OPERATOR });
    const again = await activities.openHandoff(r);
    expect(again).toMatchObject({ owner: null, unassignedReason: 'sales pool "nowhere" does not exist', alertTo: OPERATOR });
    const { rows } = await db.pool.query('SELECT owner_id, unassigned_reason FROM handoffs WHERE id = $1', [r.handoffId]);
    expect(rows).toEqual([{ owner_id: null, unassigned_reason: 'sales pool "nowhere" does not exist' }]);
    const events = await db.pool.query('SELECT kind, detail FROM handoff_events WHERE handoff_id = $1', [r.handoffId]);
    expect(events.rows).toEqual([{ kind: 'unassigned', detail: { reason: 'sales pool "nowhere" does not exist', alerted: OPERATOR.email } }]);
  });

  it('records a handoff unassigned when no rep of the pool is active, to be told to its manager', async () => {
    await db.pool.query(`UPDATE sales_reps SET active = false WHERE pool = 'east'`);
    try {
      const opened = await activities.openHandoff(await request(3, 'kanto', 'round_robin'));
      expect(opened.owner).toBeNull();
      expect(opened.unassignedReason).toBe('sales pool "east" has no active rep');
      expect(opened.alertTo).toEqual(opened.manager);
      expect(opened.manager).not.toBeNull();
    } finally {
      await db.pool.query(`UPDATE sales_reps SET active = true WHERE pool = 'east'`);
    }
  });

  it('tells the workflow when the lead was erased before its handoff, and records nothing', async () => {
    const r = await request(4, 'kanto', 'round_robin');
    await db.pool.query('UPDATE leads SET email = NULL, erased_at = now() WHERE id = $1', [r.leadId]);
    expect(await activities.openHandoff(r)).toMatchObject({ leadErased: true, owner: null });
    const { rows } = await db.pool.query('SELECT 1 FROM handoffs WHERE id = $1', [r.handoffId]);
    expect(rows).toEqual([]);
  });
});
