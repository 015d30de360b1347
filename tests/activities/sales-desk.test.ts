// The sales desk on real PostgreSQL, through the openHandoff activity and the desk's rounds with
// a clock the test sets: routing that never picks an unavailable rep and stays fair under
// concurrent handoffs (a fast-check property over random teams), SLA deadlines on the pool's or
// the rep's own calendar, reminders, escalation to what escalate_to names, reassignment when the
// owner is away or first contact was missed — every sales email queued once.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandoffActivities, type OpenHandoffRequest } from '../../activities/handoff';
import { createSalesDesk } from '../../activities/sales-desk';
import type { HandoffConfig, HandoffRoute } from '../../campaign';
import { getHandoff } from '../../db/handoffs';
import { upsertLead } from '../../db/leads';
import { addAbsence, upsertSalesPool, upsertSalesRep } from '../../db/sales-team';
import { Links } from '../../mail/links';
import { TemplateLibrary } from '../../mail/renderer';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let deps: Parameters<typeof createSalesDesk>[0];
let activities: ReturnType<typeof createHandoffActivities>;
let desk: ReturnType<typeof createSalesDesk>;
const HOUR = 3_600_000;

const SLA: HandoffConfig['sla'] = {
  firstContactBusinessMs: 4 * HOUR,
  firstContact: { business: true, days: 0, hours: 4 },
  remindBeforeMs: HOUR,
  escalateTo: 'manager',
};

beforeAll(async () => {
  db = await createTestDatabase();
  deps = {
    pool: db.pool,
    templates: await TemplateLibrary.load(),
    links: new Links({ baseUrl: 'http://nurture.test', secret: 'a-link-secret-of-at-least-32-characters' }),
    mailDomain: 'nurture.test',
  };
  activities = createHandoffActivities(deps);
  desk = createSalesDesk(deps);
  await db.pool.query(`INSERT INTO campaigns (id, name) VALUES ('c', 'C')`);
});

afterAll(async () => {
  await db?.drop();
});

let leadCounter = 0;

/** A qualified lead's handoff request for the desk (engine version 3), routed as `route` says. */
async function deskRequest(route: Partial<HandoffRoute> & { pool: string }, at: number, sla: HandoffConfig['sla'] = SLA, attributes: Record<string, unknown> = {}): Promise<OpenHandoffRequest> {
  const n = ++leadCounter;
  const { lead } = await upsertLead(db.pool, { email: `lead${n}@example.com`, attributes: { first_name: `L${n}`, ...attributes } });
  const enrolment = await db.pool.query(`INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id) VALUES ($1, 'c', 1, $2) RETURNING id`, [`wf-${lead.id}`, lead.id]);
  return {
    enrolmentId: enrolment.rows[0].id,
    handoffId: `h-${n}`,
    leadId: lead.id,
    campaignId: 'c',
    score: 80,
    reasons: ['score >= 70'],
    breakdown: [{ label: 'fit', points: 80 }],
    firstContactDue: at + 86_400_000,
    assign: { pool: route.pool, strategy: 'round_robin' },
    at,
    desk: {
      route: { match: {}, rule: 'default', ...route },
      sla,
      template: 'sales-handoff',
      from: { email: 'hello@acme.example' },
      campaign: { id: 'c', version: 1, name: 'C' },
    },
  };
}

const sentTo = async (handoffId: string) =>
  (await db.pool.query<{ kind: string; to_address: string }>(`SELECT kind, to_address FROM email_sends WHERE idempotency_key LIKE $1 ORDER BY id`, [`${handoffId}:%`])).rows;

describe('routing property', () => {
  it('never assigns an unavailable rep, and equally weighted reps who stay available differ by at most one', async () => {
    const rep = fc.record({
      weight: fc.constantFrom(1, 1, 2, 3),
      capacity: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
      active: fc.boolean().map((b) => b || Math.random() < 0.7),
      away: fc.boolean().map((b) => b && Math.random() < 0.4),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(rep, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 24 }), async (team, handoffs) => {
        const pool = `prop-${++run}`;
        const at = Date.UTC(2026, 11, 2, 3);
        await upsertSalesPool(db.pool, { name: pool, managerEmail: `${pool}-manager@acme.example`, workDays: [1, 2, 3, 4, 5, 6, 7], workStart: 0, workEnd: 1440 });
        const reps: { weight: number; capacity: number | null; active: boolean; away: boolean; email: string }[] = [];
        for (const [i, r] of team.entries()) {
          const { rep: saved } = await upsertSalesRep(db.pool, { email: `${pool}-r${i}@acme.example`, name: `R${i}`, pool, weight: r.weight, capacity: r.capacity, active: r.active });
          if (r.away) await addAbsence(db.pool, saved.id, { startsAt: new Date(at - HOUR), endsAt: new Date(at + 48 * HOUR) });
          reps.push({ ...r, email: saved.email });
        }
        const requests = await Promise.all(Array.from({ length: handoffs }, () => deskRequest({ pool }, at)));
        // Concurrent handoffs, each in its own transaction, as parallel activities would open them.
        const opened = await Promise.all(requests.map((request) => activities.openHandoff(request)));

        const counts = new Map(reps.map((r) => [r.email, 0]));
        for (const o of opened) if (o.owner) counts.set(o.owner.email, counts.get(o.owner.email)! + 1);
        const available = reps.filter((r) => r.active && !r.away);
        const atCapacity = (r: (typeof reps)[number]) => r.capacity !== null && counts.get(r.email)! >= r.capacity;
        for (const r of reps) {
          if (!r.active || r.away) expect(counts.get(r.email), `${r.email} is unavailable`).toBe(0);
          if (r.capacity !== null) expect(counts.get(r.email)!).toBeLessThanOrEqual(r.capacity);
        }
        // Nobody waits while someone available has room.
        const unassigned = opened.filter((o) => !o.owner).length;
        if (unassigned > 0) for (const r of available) expect(atCapacity(r), `${r.email} had room`).toBe(true);
        for (const a of available) {
          for (const b of available) {
            if (a.weight !== b.weight || atCapacity(b)) continue;
            expect(counts.get(a.email)! - counts.get(b.email)!, `${a.email} vs ${b.email}`).toBeLessThanOrEqual(1);
          }
        }
        // Weighted: shares follow the weights within one turn of the heavier rep.
        const open = available.filter((r) => !atCapacity(r));
        for (const a of open) for (const b of open) expect(Math.abs(counts.get(a.email)! / a.weight - counts.get(b.email)! / b.weight)).toBeLessThanOrEqual(1 / Math.min(a.weight, b.weight) + 1e-9);
      }),
      { numRuns: 25 },
    );
  });
});

describe('SLA on the sales calendar', () => {
  beforeAll(async () => {
    // Tokyo, weekdays 09:00–18:00, Japan's public holidays plus a team day off.
    await upsertSalesPool(db.pool, { name: 'tokyo', managerEmail: 'tokyo-boss@acme.example', timezone: 'Asia/Tokyo', workDays: [1, 2, 3, 4, 5], workStart: 540, workEnd: 1080, holidays: 'JP', holidayDates: ['2026-12-03'] });
    await upsertSalesPool(db.pool, { name: 'enterprise', managerEmail: 'ent-boss@acme.example' });
    await upsertSalesRep(db.pool, { email: 'taro@acme.example', name: 'Taro', pool: 'tokyo', territories: ['kanto'] });
    await upsertSalesRep(db.pool, { email: 'hana@acme.example', name: 'Hana', pool: 'tokyo', territories: ['kansai'], languages: ['en'] });
    // Working from London on his own hours.
    await upsertSalesRep(db.pool, { email: 'ed@acme.example', name: 'Ed', pool: 'enterprise', timezone: 'Europe/London', workDays: [1, 2, 3, 4, 5], workStart: 540, workEnd: 1020 });
  });

  it('counts first contact in the pool’s working hours, skipping a holiday, and reminds then escalates once', async () => {
    // Wednesday 2 December 2026, 17:00 in Tokyo; the 3rd is the team's day off: four working
    // hours are one on the 2nd and three on Friday the 4th, so due 12:00 Tokyo on the 4th.
    const at = Date.parse('2026-12-02T08:00:00Z');
    const request = await deskRequest({ pool: 'tokyo', match: { territory: 'kanto' } }, at);
    const opened = await activities.openHandoff(request);
    expect(opened.owner?.email).toBe('taro@acme.example');
    const handoff = (await getHandoff(db.pool, request.handoffId))!;
    expect(handoff.firstContactDue.toISOString()).toBe('2026-12-04T03:00:00.000Z');
    expect(handoff.routingLog[0]).toMatchObject({ outcome: 'assigned', owner: 'taro@acme.example', group: 'reps covering territory kanto' });
    expect(handoff.routingLog[0]!.skipped).toContainEqual({ rep: 'hana@acme.example', reason: 'does not cover territory kanto' });

    await desk.runDue(new Date('2026-12-04T01:00:00Z'));
    await desk.runDue(new Date('2026-12-04T02:30:00Z'));
    await desk.runDue(new Date('2026-12-04T02:31:00Z'));
    await desk.runDue(new Date('2026-12-04T03:00:00Z'));
    await desk.runDue(new Date('2026-12-04T05:00:00Z'));
    expect(await sentTo(request.handoffId)).toEqual([
      { kind: 'sales_notice', to_address: 'taro@acme.example' },
      { kind: 'sales_reminder', to_address: 'taro@acme.example' },
      { kind: 'sales_escalation', to_address: 'tokyo-boss@acme.example' },
    ]);
  });

  it("uses the owner's own hours and time zone when they have them", async () => {
    // Friday 4 December 2026, 16:00 in London: one hour left that day, three on Monday from 09:00.
    const request = await deskRequest({ pool: 'enterprise' }, Date.parse('2026-12-04T16:00:00Z'));
    await activities.openHandoff(request);
    expect((await getHandoff(db.pool, request.handoffId))!.firstContactDue.toISOString()).toBe('2026-12-07T12:00:00.000Z');
  });

  it('takes a calendar duration as clock time', async () => {
    const at = Date.parse('2026-12-05T23:00:00Z'); // a Saturday night in Tokyo
    const request = await deskRequest({ pool: 'tokyo' }, at, { ...SLA, firstContact: { business: false, ms: 24 * HOUR } });
    await activities.openHandoff(request);
    expect((await getHandoff(db.pool, request.handoffId))!.firstContactDue.getTime()).toBe(at + 24 * HOUR);
  });

  it('escalates to another pool by moving the lead there, and to a named address', async () => {
    const at = Date.parse('2026-12-07T01:00:00Z');
    const moved = await deskRequest({ pool: 'tokyo', match: { territory: 'kansai' } }, at, { ...SLA, escalateTo: 'pool:enterprise' });
    expect((await activities.openHandoff(moved)).owner?.email).toBe('hana@acme.example');
    const named = await deskRequest({ pool: 'tokyo', match: { territory: 'kansai' } }, at, { ...SLA, escalateTo: 'vp-sales@acme.example' });
    await activities.openHandoff(named);
    await desk.runDue(new Date('2026-12-07T06:00:00Z'));
    expect(await sentTo(moved.handoffId)).toEqual([
      { kind: 'sales_notice', to_address: 'hana@acme.example' },
      { kind: 'sales_escalation', to_address: 'ent-boss@acme.example' },
      { kind: 'sales_notice', to_address: 'ed@acme.example' },
    ]);
    expect((await getHandoff(db.pool, moved.handoffId))!).toMatchObject({ pool: 'enterprise', owner: { email: 'ed@acme.example' } });
    expect((await sentTo(named.handoffId)).map((row) => row.to_address)).toEqual(['hana@acme.example', 'vp-sales@acme.example']);
  });

  it('reassigns when the owner goes out of office, if the campaign says so, and never twice', async () => {
    await upsertSalesPool(db.pool, { name: 'away-pool', managerEmail: 'away-boss@acme.example', workDays: [1, 2, 3, 4, 5, 6, 7], workStart: 0, workEnd: 1440 });
    const { rep: first } = await upsertSalesRep(db.pool, { email: 'first@acme.example', name: 'First', pool: 'away-pool' });
    await upsertSalesRep(db.pool, { email: 'second@acme.example', name: 'Second', pool: 'away-pool' });
    const at = Date.parse('2026-12-08T00:00:00Z');
    const request = await deskRequest({ pool: 'away-pool' }, at, { ...SLA, reassign: { missedFirstContact: false, ownerAway: true } });
    expect((await activities.openHandoff(request)).owner?.email).toBe('first@acme.example');
    await addAbsence(db.pool, first.id, { startsAt: new Date(at + HOUR), endsAt: new Date(at + 72 * HOUR), note: 'sick' });
    await desk.runDue(new Date(at + 30 * 60_000));
    await desk.runDue(new Date(at + 2 * HOUR));
    await desk.runDue(new Date(at + 2 * HOUR + 1000));
    const handoff = (await getHandoff(db.pool, request.handoffId))!;
    expect(handoff.owner?.email).toBe('second@acme.example');
    expect(handoff.routingLog.at(-1)).toMatchObject({ outcome: 'reassigned', why: expect.stringMatching(/^the owner is out of office until/) });
    expect((await sentTo(request.handoffId)).map((row) => row.to_address)).toEqual(['first@acme.example', 'second@acme.example']);
  });

  it('lets a lead whose owner left wait when nobody else is free, and tells whoever takes it next', async () => {
    await upsertSalesPool(db.pool, { name: 'small', managerEmail: 'small-boss@acme.example', workDays: [1, 2, 3, 4, 5, 6, 7], workStart: 0, workEnd: 1440 });
    const { rep: only } = await upsertSalesRep(db.pool, { email: 'only@acme.example', name: 'Only', pool: 'small' });
    const at = Date.parse('2026-12-09T00:00:00Z');
    const request = await deskRequest({ pool: 'small' }, at, { ...SLA, reassign: { missedFirstContact: false, ownerAway: true } });
    await activities.openHandoff(request);
    await addAbsence(db.pool, only.id, { startsAt: new Date(at + HOUR), endsAt: new Date(at + 5 * HOUR) });
    await desk.runDue(new Date(at + 2 * HOUR));
    expect((await getHandoff(db.pool, request.handoffId))!).toMatchObject({ owner: null, unassignedReason: 'nobody in sales pool "small" is available' });
    await upsertSalesRep(db.pool, { email: 'later@acme.example', name: 'Later', pool: 'small' });
    await desk.runDue(new Date(at + 3 * HOUR));
    expect((await getHandoff(db.pool, request.handoffId))!.owner?.email).toBe('later@acme.example');
    expect(await sentTo(request.handoffId)).toEqual([
      { kind: 'sales_notice', to_address: 'only@acme.example' },
      { kind: 'sales_alert', to_address: 'small-boss@acme.example' },
      { kind: 'sales_notice', to_address: 'later@acme.example' },
    ]);
  });

  it('answers a retried open as the first one did, with one notice', async () => {
    const request = await deskRequest({ pool: 'tokyo' }, Date.parse('2026-12-08T01:00:00Z'));
    const first = await activities.openHandoff(request);
    const again = await activities.openHandoff(request);
    expect(again.owner?.email).toBe(first.owner?.email);
    expect(await sentTo(request.handoffId)).toHaveLength(1);
  });

  it('lets a handoff wait in a pool nobody can take, telling the manager once, and assigns it when someone can', async () => {
    await upsertSalesPool(db.pool, { name: 'empty', managerEmail: 'empty-boss@acme.example' });
    const request = await deskRequest({ pool: 'empty' }, Date.parse('2026-12-08T01:00:00Z'));
    const opened = await activities.openHandoff(request);
    expect(opened).toMatchObject({ owner: null, unassignedReason: 'sales pool "empty" has no reps' });
    await desk.runDue(new Date('2026-12-08T02:00:00Z'));
    await desk.runDue(new Date('2026-12-08T03:00:00Z'));
    expect(await sentTo(request.handoffId)).toEqual([{ kind: 'sales_alert', to_address: 'empty-boss@acme.example' }]);
    await upsertSalesRep(db.pool, { email: 'newcomer@acme.example', name: 'Newcomer', pool: 'empty' });
    await desk.runDue(new Date('2026-12-08T04:00:00Z'));
    expect((await getHandoff(db.pool, request.handoffId))!.owner?.email).toBe('newcomer@acme.example');
    expect((await sentTo(request.handoffId)).map((row) => row.kind)).toEqual(['sales_alert', 'sales_notice']);
  });
});
