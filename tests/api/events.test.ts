// Event ingest: accepted once stored (the workers' dispatcher delivers; the API never calls the
// engine for events), idempotency by id, lead creation by email, 404 by id, batches, hostile
// bodies, and a property fuzz that never gets a 5xx.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, tableCounts, type TestApi } from './support';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const post = (payload: unknown, url = '/v1/events') => api.call({ method: 'POST', url, payload: payload as object });
/** The stored events with these ids, in arrival order, with whether they await the dispatcher. */
const stored = async (ids: string[]) =>
  (await api.db.pool.query('SELECT external_id, lead_id, delivered_at IS NULL AS undelivered FROM events WHERE external_id = ANY($1) ORDER BY id', [ids])).rows;

describe('POST /v1/events', () => {
  it('creates an unknown lead by email and stores the event once, for the dispatcher, without calling the engine', async () => {
    const body = { id: 'evt-1', lead: { email: 'Ada@Example.com' }, type: 'asset.downloaded', at: '2026-01-05T10:00:00Z', data: { asset: 'whitepaper' }, lead_attributes: { role: 'manager' } };
    const first = await post(body);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ id: 'evt-1', duplicate: false });
    const leadId = first.json().lead_id;
    const lead = await api.db.pool.query('SELECT email, attributes FROM leads WHERE id = $1', [leadId]);
    expect(lead.rows[0]).toEqual({ email: 'ada@example.com', attributes: { role: 'manager' } });
    expect(await stored(['evt-1'])).toEqual([{ external_id: 'evt-1', lead_id: leadId, undelivered: true }]);
    expect(api.engine.calls).toEqual([]);

    const again = await post({ ...body, data: { asset: 'other' } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: 'evt-1', lead_id: leadId, duplicate: true });
    const rows = await api.db.pool.query("SELECT data FROM events WHERE external_id = 'evt-1'");
    expect(rows.rows).toEqual([{ data: { asset: 'whitepaper' } }]);
  });

  it('names a known lead by id or by address without creating one, and answers a duplicate with the lead of its first copy', async () => {
    const first = await post({ id: 'evt-known-1', lead: { email: 'known@example.com' }, type: 'page.viewed' });
    const leadId = first.json().lead_id;
    const byId = await post({ id: 'evt-known-2', lead: { id: leadId }, type: 'page.viewed' });
    expect(byId.statusCode).toBe(202);
    expect(byId.json()).toEqual({ id: 'evt-known-2', lead_id: leadId, duplicate: false });
    const byAddress = await post({ id: 'evt-known-3', lead: { email: 'KNOWN@Example.com' }, type: 'page.viewed' });
    expect(byAddress.json().lead_id).toBe(leadId);
    const other = await post({ id: 'evt-other', lead: { email: 'other-known@example.com' }, type: 'page.viewed' });
    // The same id again, now naming another lead: still the first copy's lead, nothing stored.
    const repeat = await post({ id: 'evt-known-2', lead: { id: other.json().lead_id }, type: 'page.viewed' });
    expect(repeat.json()).toEqual({ id: 'evt-known-2', lead_id: leadId, duplicate: true });
    expect((await api.db.pool.query("SELECT count(*)::int AS n FROM leads WHERE email = 'known@example.com'")).rows[0].n).toBe(1);
    expect(await stored(['evt-known-1', 'evt-known-2', 'evt-known-3'])).toEqual(['evt-known-1', 'evt-known-2', 'evt-known-3'].map((id) => ({ external_id: id, lead_id: leadId, undelivered: true })));
  });

  it('merges attributes sent with an event into a known lead', async () => {
    const first = await post({ id: 'evt-attr-1', lead: { email: 'attrs@example.com' }, type: 'page.viewed', lead_attributes: { role: 'engineer', region: 'kanto' } });
    await post({ id: 'evt-attr-2', lead: { email: 'attrs@example.com' }, type: 'page.viewed', lead_attributes: { role: 'manager', region: null } });
    const lead = await api.db.pool.query('SELECT attributes FROM leads WHERE id = $1', [first.json().lead_id]);
    expect(lead.rows[0].attributes).toEqual({ role: 'manager' });
  });

  it('refuses an unknown lead id with 404 and stores nothing', async () => {
    const before = await tableCounts(api.db);
    const response = await post({ id: 'evt-404', lead: { id: '00000000-0000-4000-8000-000000000000' }, type: 'page.viewed' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('not_found');
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it.each([
    ['a bad event type', { id: 'x1', lead: { email: 'a@example.com' }, type: 'Page Viewed' }],
    ['a type with an empty segment', { id: 'x2', lead: { email: 'a@example.com' }, type: 'page..viewed' }],
    ['no lead', { id: 'x3', type: 'page.viewed' }],
    ['both email and id', { id: 'x4', lead: { email: 'a@example.com', id: '00000000-0000-4000-8000-000000000000' }, type: 'page.viewed' }],
    ['a numeric id', { id: 5, lead: { email: 'a@example.com' }, type: 'page.viewed' }],
    ['an email with a header injection', { id: 'x5', lead: { email: 'a@example.com\r\nBcc: all@example.com' }, type: 'page.viewed' }],
    ['a bad time', { id: 'x6', lead: { email: 'a@example.com' }, type: 'page.viewed', at: 'yesterday' }],
    ['a time far in the future', { id: 'x7', lead: { email: 'a@example.com' }, type: 'page.viewed', at: '2999-01-01T00:00:00Z' }],
    ['a reserved id prefix', { id: 'click:1', lead: { email: 'a@example.com' }, type: 'email.clicked' }],
    ['a launch id', { id: 'launch:1:00000000-0000-4000-8000-000000000000', lead: { email: 'a@example.com' }, type: 'campaign.launched' }],
    ['an unknown field', { id: 'x8', lead: { email: 'a@example.com' }, type: 'page.viewed', extra: 1 }],
    ['data that is not an object', { id: 'x9', lead: { email: 'a@example.com' }, type: 'page.viewed', data: [1, 2] }],
    ['a NUL character', { id: 'x10', lead: { email: 'a@example.com' }, type: 'page.viewed', data: { q: 'a\u0000b' } }],
  ])('refuses %s with 400 and changes nothing', async (_name, body) => {
    const before = await tableCounts(api.db);
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_request');
    expect(response.json().error.message).toMatch(/\S/);
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('refuses deeply nested data, malformed JSON and oversized bodies', async () => {
    const before = await tableCounts(api.db);
    let nested: unknown = 'leaf';
    for (let i = 0; i < 100; i++) nested = { n: nested };
    expect((await post({ id: 'deep', lead: { email: 'a@example.com' }, type: 'page.viewed', data: nested })).statusCode).toBe(400);

    const malformed = await api.call({ method: 'POST', url: '/v1/events', payload: '{"id": "m1", "lead": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_json');
    expect(malformed.body).not.toMatch(/at .*\.js|node_modules/);

    const proto = await api.call({ method: 'POST', url: '/v1/events', payload: '{"__proto__": {"x": 1}, "id": "p1"}', headers: { 'content-type': 'application/json' } });
    expect(proto.statusCode).toBe(400);

    const big = await post({ id: 'big', lead: { email: 'a@example.com' }, type: 'page.viewed', data: { blob: 'x'.repeat(1_100_000) } });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');

    const text = await api.call({ method: 'POST', url: '/v1/events', payload: 'id=1', headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    expect(await tableCounts(api.db)).toEqual(before);
  });

  it('stores SQL and HTML in text fields verbatim', async () => {
    const hostile = "'); DROP TABLE leads; -- <script>alert(1)</script>";
    const response = await post({ id: hostile, lead: { email: "o'brien+x@example.com" }, type: 'form.submitted', data: { comment: hostile }, lead_attributes: { company_name: hostile } });
    expect(response.statusCode).toBe(202);
    const stored = await api.db.pool.query('SELECT e.external_id, e.data, l.attributes, l.email FROM events e JOIN leads l ON l.id = e.lead_id WHERE e.external_id = $1', [hostile]);
    expect(stored.rows[0]).toEqual({ external_id: hostile, data: { comment: hostile }, attributes: { company_name: hostile }, email: "o'brien+x@example.com" });
  });
});

describe('POST /v1/events/batch', () => {
  it('stores new events, reports duplicates (also within the batch) and keeps each lead\'s in the order sent', async () => {
    const events = [
      { id: 'b-1', lead: { email: 'batch@example.com' }, type: 'page.viewed', at: '2026-01-05T10:00:00Z', data: { page: 'pricing' } },
      { id: 'b-2', lead: { email: 'batch@example.com' }, type: 'page.viewed', at: '2026-01-05T10:01:00Z', data: { page: 'docs' } },
      { id: 'b-1', lead: { email: 'batch@example.com' }, type: 'page.viewed' },
      { id: 'evt-1', lead: { email: 'ada@example.com' }, type: 'asset.downloaded' },
    ];
    const response = await post({ events }, '/v1/events/batch');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ accepted: 2, duplicates: 2 });
    expect(response.json().results.map((r: { duplicate: boolean }) => r.duplicate)).toEqual([false, false, true, true]);
    const leadId = response.json().results[0].lead_id;
    expect(await stored(['b-1', 'b-2'])).toEqual([
      { external_id: 'b-1', lead_id: leadId, undelivered: true },
      { external_id: 'b-2', lead_id: leadId, undelivered: true },
    ]);
    expect(response.json().results[3].lead_id).toBe((await stored(['evt-1']))[0].lead_id);
  });

  it('refuses more than 1000 events, and a batch naming an unknown lead id, changing nothing', async () => {
    const before = await tableCounts(api.db);
    const many = Array.from({ length: 1001 }, (_, i) => ({ id: `many-${i}`, lead: { email: 'many@example.com' }, type: 'page.viewed' }));
    expect((await post({ events: many }, '/v1/events/batch')).statusCode).toBe(400);
    const mixed = [
      { id: 'mixed-1', lead: { email: 'new-in-batch@example.com' }, type: 'page.viewed' },
      { id: 'mixed-2', lead: { id: '00000000-0000-4000-8000-000000000001' }, type: 'page.viewed' },
    ];
    const response = await post({ events: mixed }, '/v1/events/batch');
    expect(response.statusCode).toBe(404);
    expect(response.json().error.details).toEqual({ missing_leads: ['00000000-0000-4000-8000-000000000001'] });
    expect(await tableCounts(api.db)).toEqual(before);
  });
});

describe('POST /v1/events fuzz', () => {
  it('never answers with a 5xx, whatever the body', async () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', "' OR 1=1 --", '<img src=x onerror=alert(1)>', 'a\r\nb', '\u0000'));
    const value = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
    const field = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(fc.oneof(arbitrary, value), { nil: undefined });
    const body = fc.record(
      {
        id: field(fc.oneof(fc.uuid(), text)),
        lead: field(fc.oneof(fc.record({ email: fc.oneof(fc.emailAddress(), text) }), fc.record({ id: fc.oneof(fc.uuid(), text) }), fc.dictionary(text, value))),
        type: field(fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}(\.[a-z0-9_]{1,8}){0,2}$/), text)),
        at: field(fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), text)),
        data: field(fc.oneof(fc.jsonValue(), fc.dictionary(text, fc.jsonValue()))),
        lead_attributes: field(fc.dictionary(text, fc.jsonValue())),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const response = await post(JSON.parse(JSON.stringify(payload)));
        expect(response.statusCode, response.body).toBeLessThan(500);
        expect(response.json()).toBeTypeOf('object');
      }),
      { numRuns: 200 },
    );
  });
});
