// Team management through the API on a real database: pools with calendars and routing rules,
// reps with what they cover, capacity and absences, the team CSV import (all rows or none), and
// validation errors that name the field and change nothing; the rep's personal page shows their
// handoffs on GET and records an answer only on POST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Links } from '../../mail/links';
import { createLead, LINKS, seedEnrolment, startTestApi, type TestApi } from './support';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const teamCounts = async () => (await api.db.pool.query(`SELECT (SELECT count(*) FROM sales_pools)::int AS pools, (SELECT count(*) FROM sales_reps)::int AS reps, (SELECT count(*) FROM sales_rep_absences)::int AS absences`)).rows[0];

describe('pools', () => {
  it('creates a pool with its calendar and routing rules, then changes it', async () => {
    const created = await api.call({
      method: 'PUT',
      url: '/v1/sales/pools/japan',
      payload: {
        manager_email: 'boss@acme.example',
        manager_name: 'Sato',
        timezone: 'Asia/Tokyo',
        working_hours: { days: 'mon-fri', start: '09:30', end: '18:00' },
        holidays: 'jp',
        holiday_dates: ['2026-12-29', '2026-12-30'],
        routing: [{ when: "lead.language == 'en'", match: { language: 'lead.language' } }],
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      name: 'japan',
      manager: { name: 'Sato', email: 'boss@acme.example' },
      timezone: 'Asia/Tokyo',
      working_hours: { days: [1, 2, 3, 4, 5], start: '09:30', end: '18:00' },
      holidays: 'JP',
      holiday_dates: ['2026-12-29', '2026-12-30'],
    });
    const changed = await api.call({ method: 'PUT', url: '/v1/sales/pools/japan', payload: { manager_email: 'boss2@acme.example' } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ manager: { email: 'boss2@acme.example' }, timezone: 'Asia/Tokyo' });
    // A change names only what changes; creating a pool needs its manager.
    const hours = await api.call({ method: 'PUT', url: '/v1/sales/pools/japan', payload: { working_hours: { start: '10:00', end: '19:00' } } });
    expect(hours.json()).toMatchObject({ manager: { email: 'boss2@acme.example' }, working_hours: { start: '10:00', end: '19:00' } });
    const noManager = await api.call({ method: 'PUT', url: '/v1/sales/pools/new-pool', payload: { timezone: 'UTC' } });
    expect(noManager.statusCode).toBe(422);
    expect(noManager.json().error.message).toMatch(/body\.manager_email: is required to create a pool/);
    const listed = await api.call({ method: 'GET', url: '/v1/sales/pools', key: api.readKey });
    expect(listed.json().pools.map((p: { name: string }) => p.name)).toContain('japan');
  });

  it.each([
    ['an unknown time zone', { timezone: 'Mars/Base' }, /body\.timezone: expected an IANA time zone/],
    ['hours that end before they start', { working_hours: { start: '18:00', end: '09:00' } }, /body\.working_hours\.end: must be after start/],
    ['a bad weekday', { working_hours: { days: ['mon', 'funday'] } }, /body\.working_hours\.days/],
    ['an unknown holiday country', { holidays: 'XX' }, /body\.holidays: no public-holiday calendar for "XX"/],
    ['a bad holiday date', { holiday_dates: ['2026-13-45'] }, /body\.holiday_dates\[0\]/],
    ['a routing rule with a broken condition', { routing: [{ when: 'lead.x ==', match: { territory: 'lead.region' } }] }, /body\.routing\[0\]\.when: invalid condition/],
    ['a routing rule choosing nothing', { routing: [{ when: 'score > 1' }] }, /body\.routing\[0\]: a rule chooses a match or reps/],
  ])('refuses %s naming the field, and changes nothing', async (_name, fields, message) => {
    const before = await teamCounts();
    const response = await api.call({ method: 'PUT', url: '/v1/sales/pools/broken', payload: { manager_email: 'm@acme.example', ...fields } });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.message).toMatch(message);
    expect(await teamCounts()).toEqual(before);
  });
});

describe('reps', () => {
  it('adds a rep, marks them away and back, and changes their capacity', async () => {
    await api.call({ method: 'PUT', url: '/v1/sales/pools/east', payload: { manager_email: 'east-boss@acme.example' } });
    const created = await api.call({
      method: 'POST',
      url: '/v1/sales/reps',
      payload: { email: 'Aiko@Acme.example', name: 'Aiko', pool: 'east', territories: ['kanto'], products: ['crm'], languages: ['ja', 'en'], weight: 2, capacity: 5, timezone: 'Asia/Tokyo', working_hours: { days: 'mon-fri', start: '10:00', end: '19:00' } },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ email: 'aiko@acme.example', weight: 2, capacity: 5, available: true, working_hours: { start: '10:00', end: '19:00' } });

    const away = await api.call({ method: 'POST', url: '/v1/sales/reps/aiko@acme.example/absences', payload: { ends_at: new Date(Date.now() + 86_400_000).toISOString(), note: 'holiday' } });
    expect(away.statusCode).toBe(201);
    expect(away.json()).toMatchObject({ available: false, unavailable_reason: expect.stringMatching(/^out of office until/) });
    const planned = { starts_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), ends_at: new Date(Date.now() + 40 * 86_400_000).toISOString(), note: 'planned leave' };
    await api.call({ method: 'POST', url: '/v1/sales/reps/aiko@acme.example/absences', payload: planned });
    const back = await api.call({ method: 'POST', url: '/v1/sales/reps/aiko@acme.example/back' });
    // Back now: the absence under way ends, the planned one stays.
    expect(back.json()).toMatchObject({ available: true, absences: [{ note: 'planned leave' }] });
    expect(back.json().absences).toHaveLength(1);

    const inactive = await api.call({ method: 'PATCH', url: '/v1/sales/reps/aiko@acme.example', payload: { active: false, capacity: null } });
    expect(inactive.json()).toMatchObject({ active: false, capacity: null, available: false, unavailable_reason: 'inactive' });
  });

  it.each([
    ['a missing pool', { email: 'x@acme.example', name: 'X', pool: 'nowhere' }, 422, /body\.pool: no sales pool "nowhere"/],
    ['a weight of 0', { email: 'x@acme.example', name: 'X', pool: 'east', weight: 0 }, 400, /weight/],
    ['an unknown field', { email: 'x@acme.example', name: 'X', pool: 'east', shoe_size: 42 }, 400, /shoe_size|additional/],
    ['a bad time zone', { email: 'x@acme.example', name: 'X', pool: 'east', timezone: 'Nowhere/Land' }, 422, /body\.timezone/],
    ['an existing email', { email: 'AIKO@acme.example', name: 'Again', pool: 'east' }, 409, /exists/],
  ])('refuses %s and changes nothing', async (_name, payload, status, message) => {
    const before = await teamCounts();
    const response = await api.call({ method: 'POST', url: '/v1/sales/reps', payload });
    expect(response.statusCode).toBe(status);
    expect(response.json().error.message).toMatch(message);
    expect(await teamCounts()).toEqual(before);
  });

  it('refuses an absence that ends before it starts, and an unknown rep', async () => {
    const before = await teamCounts();
    const bad = await api.call({ method: 'POST', url: '/v1/sales/reps/aiko@acme.example/absences', payload: { starts_at: '2027-01-02T00:00:00Z', ends_at: '2027-01-01T00:00:00Z' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.message).toMatch(/body\.ends_at: must be after/);
    const past = await api.call({ method: 'POST', url: '/v1/sales/reps/aiko@acme.example/absences', payload: { starts_at: '2020-01-01T00:00:00Z', ends_at: '2020-01-02T00:00:00Z' } });
    expect(past.statusCode).toBe(422);
    expect((await api.call({ method: 'GET', url: '/v1/sales/reps/nobody@acme.example' })).statusCode).toBe(404);
    expect((await api.call({ method: 'GET', url: '/v1/sales/reps?pool=nowhere' })).statusCode).toBe(404);
    expect(await teamCounts()).toEqual(before);
  });

  it('needs the write scope to change the team', async () => {
    const response = await api.call({ method: 'POST', url: '/v1/sales/reps', key: api.readKey, payload: { email: 'y@acme.example', name: 'Y', pool: 'east' } });
    expect(response.statusCode).toBe(403);
  });
});

describe('team CSV import', () => {
  const csv = (rows: string[]) => ({ method: 'POST' as const, url: '/v1/sales/import', headers: { 'content-type': 'text/csv' }, payload: ['email,name,pool,territories,weight,capacity,working_days,working_hours,active', ...rows].join('\n') });

  it('imports every row, creating and updating by email', async () => {
    const response = await api.call(csv(['ben@acme.example,Ben,east,kanto;kansai,1,10,mon-fri,09:00-17:00,true', 'aiko@acme.example,Aiko T,east,kanto,2,,,,yes']));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ created: 1, updated: 1 });
    const ben = (await api.call({ method: 'GET', url: '/v1/sales/reps/ben@acme.example' })).json();
    expect(ben).toMatchObject({ territories: ['kanto', 'kansai'], capacity: 10, working_hours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' } });
    expect((await api.call({ method: 'GET', url: '/v1/sales/reps/aiko@acme.example' })).json()).toMatchObject({ name: 'Aiko T', active: true });
  });

  it('refuses the whole file when one row is wrong, naming line and column', async () => {
    const before = await teamCounts();
    const response = await api.call(csv(['carl@acme.example,Carl,east,,1,,,,', 'dana@acme.example,Dana,east,,heavy,,,,', 'erin@acme.example,Erin,west,,1,,,,', 'fay@acme.example,Fay,east,,1,,funday,,']));
    expect(response.statusCode).toBe(422);
    expect(response.json().error.message).toMatch(/line 5, column working_days: expected weekdays/);
    expect(response.json().error.message).toMatch(/line 3, column weight: expected a whole number/);
    expect(response.json().error.message).toMatch(/line 4, column pool: no sales pool "west"/);
    expect(await teamCounts()).toEqual(before);
  });

  it('refuses unknown columns', async () => {
    const response = await api.call({ method: 'POST', url: '/v1/sales/import', headers: { 'content-type': 'text/csv' }, payload: 'email,name,pool,salary\nf@acme.example,F,east,100' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toMatch(/unknown column salary/);
  });
});

describe("the rep's page", () => {
  it('shows the open handoffs on GET without changing anything, and records an answer on POST', async () => {
    const rep = (await api.call({ method: 'GET', url: '/v1/sales/reps/ben@acme.example' })).json();
    const leadId = await createLead(api, 'lead-for-ben@example.com', { first_name: 'Hana', last_name: 'Mori', company: { name: 'Mori KK' } });
    const { enrolmentId } = await seedEnrolment(api.db, leadId);
    await api.db.pool.query(
      `INSERT INTO handoffs (id, enrolment_id, lead_id, campaign_id, owner_id, pool, score, reasons, breakdown, first_contact_due)
       VALUES ('h-ben', $1, $2, 'seed-campaign', $3, 'east', 81, '["score >= 70"]', '[{"label":"pricing page","points":30}]', now() + interval '1 day')`,
      [enrolmentId, leadId, rep.id],
    );
    const link = (await api.call({ method: 'POST', url: `/v1/sales/reps/${rep.id}/link` })).json();
    expect(link.url).toMatch(/^https:\/\/nurture\.test\/r\//);
    const path = new URL(link.url).pathname;

    const shown = await api.app.inject({ method: 'GET', url: path });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain('Hana Mori — Mori KK');
    expect(shown.body).toContain('pricing page');
    expect(api.engine.of('salesResponse')).toHaveLength(0);

    const noReason = await api.app.inject({ method: 'POST', url: path, payload: 'handoff=h-ben&outcome=disqualified', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(noReason.statusCode).toBe(422);
    expect(api.engine.of('salesResponse')).toHaveLength(0);

    const answered = await api.app.inject({
      method: 'POST',
      url: path,
      payload: 'handoff=h-ben&outcome=not_ready&reason=budget+next+quarter&recycle_on=2099-04-01',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answered.statusCode).toBe(200);
    expect(api.engine.of('salesResponse')).toEqual([
      { method: 'salesResponse', handoffId: 'h-ben', outcome: 'not_ready', note: 'budget next quarter', recycleAt: new Date('2099-04-01T00:00:00Z') },
    ]);
  });

  it("refuses another rep's handoff, a forged link and an expired one", async () => {
    const aiko = (await api.call({ method: 'GET', url: '/v1/sales/reps/aiko@acme.example' })).json();
    const path = new URL((await api.call({ method: 'POST', url: `/v1/sales/reps/${aiko.id}/link` })).json().url).pathname;
    const other = await api.app.inject({ method: 'POST', url: path, payload: 'handoff=h-ben&outcome=accepted', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(other.statusCode).toBe(404);
    expect((await api.app.inject({ method: 'GET', url: `${path.slice(0, -3)}AAA` })).statusCode).toBe(404);
    const expired = new Links(LINKS).repPage(aiko.id, Date.now() - 15 * 86_400_000).url;
    expect((await api.app.inject({ method: 'GET', url: new URL(expired).pathname })).statusCode).toBe(404);
  });
});
