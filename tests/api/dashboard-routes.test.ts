// The routes the dashboard needs: lead search, campaign simulation, A/B verdicts in the stats,
// and the dashboard's own files (public, strict CSP, nothing from elsewhere).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../api/routes/dashboard';
import { createLead, seedEnrolment, seedSend, startTestApi, type TestApi } from './support';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const DEMO = readFileSync(new URL('../../campaigns/saas-whitepaper-nurture.yaml', import.meta.url), 'utf8');

describe('GET /v1/leads (search)', () => {
  let aiko: string;
  let carol: string;
  let bob: string;

  beforeAll(async () => {
    aiko = await createLead(api, 'Aiko.Suzuki@Globex.example', { first_name: 'Aiko' });
    bob = await createLead(api, 'bob_100%@initech.example');
    carol = await createLead(api, 'carol@globex.example');
  });

  const search = (query: string, key = api.readKey) => api.call({ method: 'GET', url: `/v1/leads${query}`, key });

  it('finds leads by any part of the address, case-insensitive, newest first', async () => {
    const globex = await search('?q=GLOBEX');
    expect(globex.statusCode).toBe(200);
    expect(globex.json().leads.map((lead: { id: string }) => lead.id)).toEqual([carol, aiko]);
    const prefix = await search('?q=aiko.s');
    expect(prefix.json().leads).toMatchObject([{ id: aiko, email: 'aiko.suzuki@globex.example', attributes: { first_name: 'Aiko' } }]);
    expect((await search('?q=nobody-has-this')).json().leads).toEqual([]);
  });

  it('treats LIKE wildcards as plain characters', async () => {
    expect((await search(`?q=${encodeURIComponent('_100%')}`)).json().leads.map((lead: { id: string }) => lead.id)).toEqual([bob]);
    expect((await search(`?q=${encodeURIComponent('%')}`)).json().leads.map((lead: { id: string }) => lead.id)).toEqual([bob]);
    expect((await search('?q=_')).json().leads.map((lead: { id: string }) => lead.id)).toEqual([bob]);
  });

  it('lists the newest leads without a query, up to the limit', async () => {
    const newest = await search('?limit=2');
    expect(newest.statusCode).toBe(200);
    expect(newest.json().leads.map((lead: { id: string }) => lead.id)).toEqual([carol, bob]);
  });

  it('leaves erased leads out', async () => {
    const gone = await createLead(api, 'erased-search@globex.example');
    expect((await search('?q=erased-search')).json().leads).toHaveLength(1);
    expect((await api.call({ method: 'DELETE', url: `/v1/leads/${gone}` })).statusCode).toBe(200);
    expect((await search('?q=erased-search')).json().leads).toEqual([]);
  });

  it.each([
    ['an empty query', '?q='],
    ['a blank query', '?q=%20%20'],
    ['a query longer than an address', `?q=${'a'.repeat(255)}`],
    ['limit 0', '?q=globex&limit=0'],
    ['limit 101', '?q=globex&limit=101'],
    ['a limit that is not a number', '?q=globex&limit=ten'],
    ['a negative limit', '?limit=-1'],
    ['an unknown parameter', '?q=globex&email=x'],
  ])('refuses %s with 400', async (_name, query) => {
    const response = await search(query);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_request');
  });

  it('needs a key', async () => {
    expect((await api.call({ method: 'GET', url: '/v1/leads?q=globex', key: null })).statusCode).toBe(401);
  });
});

describe('POST /v1/campaigns/:id/simulate', () => {
  beforeAll(async () => {
    const created = await api.call({ method: 'POST', url: '/v1/campaigns', headers: { 'content-type': 'application/yaml' }, payload: DEMO });
    expect(created.statusCode, created.body).toBe(201);
  });

  const simulate = (payload: unknown, { id = 'saas-whitepaper-nurture', key = api.writeKey }: { id?: string; key?: string | null } = {}) =>
    api.call({ method: 'POST', url: `/v1/campaigns/${encodeURIComponent(id)}/simulate`, payload: payload as object, key });

  it('returns the projected funnel, steps and A/B outcome of the current version', async () => {
    const response = await simulate({ leads: 300, days: 60, seed: 7 });
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report).toMatchObject({ campaign_id: 'saas-whitepaper-nurture', campaign_version: 1, leads: 300, days: 60, seed: 7 });
    expect(report.funnel.enrolled).toBe(300);
    expect(report.funnel.reached_warm).toBeGreaterThan(0);
    expect(report.funnel.reached_warm).toBeGreaterThanOrEqual(report.funnel.reached_hot);
    expect(report.funnel.reached_hot).toBeGreaterThanOrEqual(report.funnel.handed_off);
    expect(report.steps[0]).toMatchObject({ step: 'tracks.cold[0]' });
    expect(report.steps[0].sent).toBeGreaterThan(0);
    expect(Object.keys(report.steps[0]).sort()).toEqual(['bounced', 'clicked', 'label', 'machine_opened', 'not_sent', 'opened', 'sent', 'step', 'subject', 'unsubscribed']);
    expect(report.sends_by_day).toHaveLength(60);
    expect(report.sends_by_day.reduce((sum: number, n: number) => sum + n, 0)).toBe(report.steps.reduce((sum: number, s: { sent: number }) => sum + s.sent, 0));
    expect(report.ab_tests).toHaveLength(1);
    expect(report.ab_tests[0]).toMatchObject({ test_key: 'tracks.cold[0]', reason: expect.any(String), plan: expect.stringMatching(/^finds a 20% lift on 20% opens/) });
    expect(report.ab_tests[0].variants.map((v: { variant: string }) => v.variant)).toEqual(['A', 'B']);
    expect(report.time_to_qualify_days).toHaveProperty('count');
    // The same seed gives the same report.
    expect((await simulate({ leads: 300, days: 60, seed: 7 })).json()).toEqual(report);
  });

  it('uses 1000 leads, 90 days and seed 1 by default, with an empty body or none', async () => {
    const response = await simulate({});
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ leads: 1000, days: 90, seed: 1, funnel: { enrolled: 1000 } });
    const bodiless = await api.call({ method: 'POST', url: '/v1/campaigns/saas-whitepaper-nurture/simulate' });
    expect(bodiless.statusCode).toBe(200);
    expect(bodiless.json()).toEqual(response.json());
  });

  it.each([
    ['no leads', { leads: 0 }],
    ['too many leads', { leads: 20_001 }],
    ['no days', { days: 0 }],
    ['more than a year', { days: 366 }],
    ['a fractional lead count', { leads: 1.5 }],
    ['a lead count as text', { leads: '100' }],
    ['a negative seed', { seed: -1 }],
    ['an unknown field', { leads: 10, profile: 'b2c' }],
    ['a body that is not an object', [100]],
  ])('refuses %s with 400', async (_name, payload) => {
    const response = await simulate(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_request');
  });

  it('answers an unknown campaign with 404, a missing key with 401 and a read key with 403 (it costs seconds of CPU)', async () => {
    const unknown = await simulate({ leads: 10 }, { id: 'no-such-campaign' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    expect((await simulate({ leads: 10 }, { key: null })).statusCode).toBe(401);
    expect((await simulate({ leads: 10 }, { key: 'nk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).statusCode).toBe(401);
    const reader = await simulate({ leads: 10 }, { key: api.readKey });
    expect(reader.statusCode).toBe(403);
    expect(reader.json().error).toMatchObject({ code: 'forbidden', message: expect.stringContaining("'write' scope") });
  });

  it('is documented with its schema and the API key', async () => {
    const document = (await api.call({ method: 'GET', url: '/openapi.json', key: null })).json();
    const operation = document.paths['/v1/campaigns/{id}/simulate'].post;
    expect(operation.security).toEqual([{ apiKey: [] }]);
    expect(operation.responses['200'].content['application/json'].schema.properties).toHaveProperty('funnel');
    expect(document.paths['/v1/leads'].get.security).toEqual([{ apiKey: [] }]);
  });
});

describe('GET /v1/campaigns/:id/stats: A/B tests', () => {
  it('lists every A/B test with its verdict, or null while undecided, next to the existing figures', async () => {
    const leadId = await createLead(api, 'ab-stats@example.com');
    const { enrolmentId, campaignId } = await seedEnrolment(api.db, leadId, 'ab-stats-campaign');
    for (const [abTest, variant] of [['tracks.cold[0]', 'A'], ['tracks.cold[0]', 'B'], ['tracks.cold[0]', 'B'], ['tracks.warm[0]', 'A']] as const) {
      await seedSend(api.db, { leadId, to: 'ab-stats@example.com', campaignId, enrolmentId, stepPath: abTest, abTest, variant });
    }
    const decidedOn = [{ variant: 'A', sends: 210, opens: 40, clicks: 9 }, { variant: 'B', sends: 205, opens: 71, clicks: 15 }];
    await api.db.pool.query(
      `INSERT INTO ab_verdicts (campaign_id, campaign_version, test_key, winner, p_value, stats, decided_at)
       VALUES ($1, 1, 'tracks.cold[0]', 'B', 0.0012, $2, '2026-03-02T05:00:00Z')`,
      [campaignId, JSON.stringify(decidedOn)],
    );

    const response = await api.call({ method: 'GET', url: `/v1/campaigns/${campaignId}/stats`, key: api.readKey });
    expect(response.statusCode).toBe(200);
    const stats = response.json();
    expect(stats.ab_tests).toEqual([
      { test_key: 'tracks.cold[0]', winner: 'B', campaign_version: 1, p_value: 0.0012, decided_at: '2026-03-02T05:00:00.000Z', decided_on: decidedOn },
      { test_key: 'tracks.warm[0]', winner: null, campaign_version: null, p_value: null, decided_at: null, decided_on: null },
    ]);
    // The existing figures stay as they were.
    expect(stats.variants).toEqual([
      { ab_test: 'tracks.cold[0]', variant: 'A', sent: 1, opened: 0, clicked: 0, human_opened: 0, human_clicked: 0 },
      { ab_test: 'tracks.cold[0]', variant: 'B', sent: 2, opened: 0, clicked: 0, human_opened: 0, human_clicked: 0 },
      { ab_test: 'tracks.warm[0]', variant: 'A', sent: 1, opened: 0, clicked: 0, human_opened: 0, human_clicked: 0 },
    ]);
    expect(stats.funnel).toMatchObject({ enrolled: 1, reached: { cold: 1, warm: 0, hot: 0, handed_off: 0 } });
    expect(stats.steps.map((s: { step: string }) => s.step)).toEqual(['tracks.cold[0]', 'tracks.warm[0]']);
  });

  it('shows an empty list for a campaign without A/B tests', async () => {
    const leadId = await createLead(api, 'no-ab@example.com');
    const { campaignId } = await seedEnrolment(api.db, leadId, 'no-ab-campaign');
    const stats = (await api.call({ method: 'GET', url: `/v1/campaigns/${campaignId}/stats`, key: api.readKey })).json();
    expect(stats.ab_tests).toEqual([]);
  });
});

describe('the dashboard files', () => {
  it('serves the page without a key, under a strict content security policy', async () => {
    const page = await api.call({ method: 'GET', url: '/dashboard', key: null });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    // Scripts only as files: no inline script, no inline handlers.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(page.body).not.toMatch(/\son[a-z]+=/i);

    const script = await api.call({ method: 'GET', url: '/dashboard/dashboard.js', key: null });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const style = await api.call({ method: 'GET', url: '/dashboard/dashboard.css', key: null });
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await api.call({ method: 'GET', url: '/dashboard/', key: null })).headers.location).toBe('/dashboard');
  });

  it('serves only its own files', async () => {
    for (const url of ['/dashboard/nothing.js', '/dashboard/..%2Froutes%2Fdashboard.ts', '/dashboard/%2e%2e%2fapp.ts', '/dashboard/dashboard.js%00']) {
      const response = await api.call({ method: 'GET', url, key: null });
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, url).toBeLessThan(500);
      expect(response.body, url).not.toContain('import');
    }
  });

  it('loads nothing from elsewhere and never writes data as markup', () => {
    for (const name of readdirSync(DASHBOARD_DIR)) {
      const text = readFileSync(join(DASHBOARD_DIR, name), 'utf8');
      // The only absolute URL allowed is the SVG namespace name, which is never fetched.
      expect(text.replaceAll('http://www.w3.org/2000/svg', ''), name).not.toMatch(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
      expect(text, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    }
  });
});
