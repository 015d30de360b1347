// The API as a whole: API keys and scopes, public routes, OpenAPI document and docs page,
// health and metrics, rate limits, JSON errors without stack traces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../api/app';
import { createApiKey, revokeApiKey, verifyApiKey } from '../../db/api-keys';
import { upsertLead } from '../../db/leads';
import { LINKS, RecordingEngine, seedEnrolment, startTestApi, type TestApi } from './support';

let api: TestApi;
const METRICS_TOKEN = 'metrics-token-for-the-api-tests-0123456789';
beforeAll(async () => {
  api = await startTestApi({ metricsToken: METRICS_TOKEN });
});
afterAll(async () => api?.close());

describe('API keys', () => {
  it('stores only a hash, verifies the whole key and carries scopes', async () => {
    const { key, prefix, id } = await createApiKey(api.db.pool, 'cli', ['read']);
    expect(key).toMatch(new RegExp(`^nk_${prefix}_[A-Za-z0-9_-]{43}$`));
    const stored = (await api.db.pool.query('SELECT key_hash, scopes FROM api_keys WHERE id = $1', [id])).rows[0];
    expect(JSON.stringify(stored)).not.toContain(key.split('_').at(-1)!.slice(0, 10));
    expect(await verifyApiKey(api.db.pool, key)).toMatchObject({ id, prefix, scopes: ['read'] });
    expect(await verifyApiKey(api.db.pool, `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    await expect(createApiKey(api.db.pool, 'bad', ['admin' as never])).rejects.toThrow(/scopes/);
  });

  it('answers a missing, malformed, wrong or revoked key with 401 and a read key on a write route with 403', async () => {
    expect((await api.call({ method: 'GET', url: '/v1/campaigns', key: null })).statusCode).toBe(401);
    const wrongScheme = await api.call({ method: 'GET', url: '/v1/campaigns', key: null, headers: { authorization: `Basic ${api.readKey}` } });
    expect(wrongScheme.statusCode).toBe(401);
    expect(wrongScheme.headers['www-authenticate']).toBe('Bearer');
    expect(wrongScheme.json().error.code).toBe('unauthorized');
    expect((await api.call({ method: 'GET', url: '/v1/campaigns', key: "nk_' OR 1=1 --" })).statusCode).toBe(401);
    const { key, prefix } = await createApiKey(api.db.pool, 'soon revoked', ['read', 'write']);
    expect((await api.call({ method: 'GET', url: '/v1/campaigns', key })).statusCode).toBe(200);
    await revokeApiKey(api.db.pool, prefix);
    // Verified keys are cached (API_KEY_CACHE_MS, 10 s): a revocation bites once that has passed.
    expect((await api.call({ method: 'GET', url: '/v1/campaigns', key })).statusCode).toBe(200);
    const uncached = await buildApi({ pool: api.db.pool, engine: api.engine, links: LINKS, rateLimit: false, apiKeyCacheMs: 0 });
    expect((await uncached.inject({ method: 'GET', url: '/v1/campaigns', headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(401);
    await uncached.close();

    const forbidden = await api.call({ method: 'PUT', url: '/v1/leads', key: api.readKey, payload: { email: 'reader@example.com' } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('forbidden');
    expect((await api.db.pool.query("SELECT count(*)::int AS n FROM leads WHERE email = 'reader@example.com'")).rows[0].n).toBe(0);
  });

  it('refuses an anonymous upload before reading it', async () => {
    const response = await api.call({ method: 'POST', url: '/v1/events', key: null, payload: { blob: 'x'.repeat(2_000_000) } });
    expect(response.statusCode).toBe(401);
  });
});

describe('public routes and documents', () => {
  it('serves /healthz, /openapi.json and /docs without a key, and /metrics with the metrics token', async () => {
    expect((await api.call({ method: 'GET', url: '/healthz', key: null })).json()).toEqual({ status: 'ok', database: 'ok' });
    await api.call({ method: 'POST', url: '/v1/events', payload: { id: 'metric-1', lead: { email: 'metric@example.com' }, type: 'page.viewed' } });
    expect((await api.call({ method: 'GET', url: '/metrics', key: null })).statusCode).toBe(401);
    const metrics = await api.call({ method: 'GET', url: '/metrics', key: METRICS_TOKEN });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/nurture_events_ingested_total\{outcome="new"\} 1/);
    expect(metrics.body).toMatch(/nurture_http_request_duration_seconds_count\{method="POST",route="\/v1\/events",status_code="202"\} 1/);
    const docs = await api.call({ method: 'GET', url: '/docs', key: null });
    expect(docs.statusCode).toBeLessThan(400);
    const openapi = await api.call({ method: 'GET', url: '/openapi.json', key: null });
    expect(openapi.statusCode).toBe(200);
    expect(openapi.json().openapi).toMatch(/^3\./);
  });

  it('documents every route with its responses, and every /v1 route with the API key', async () => {
    const document = (await api.call({ method: 'GET', url: '/openapi.json', key: null })).json();
    const expected = [
      'put /v1/leads', 'get /v1/leads/{id}', 'get /v1/leads/{id}/timeline', 'get /v1/leads/{id}/export', 'delete /v1/leads/{id}', 'post /v1/leads/import',
      'post /v1/leads/{id}/consent', 'get /v1/leads/{id}/consent', 'post /v1/events', 'post /v1/events/batch', 'get /t/o/{file}', 'get /t/c/{token}',
      'get /u/{token}', 'post /u/{token}', 'get /h/{token}', 'post /h/{token}', 'get /v1/handoffs', 'post /v1/handoffs/{id}/response',
      'post /v1/campaigns', 'post /v1/campaigns/validate', 'get /v1/campaigns', 'get /v1/campaigns/{id}', 'post /v1/campaigns/{id}/launch',
      'post /v1/campaigns/{id}/pause', 'post /v1/campaigns/{id}/resume', 'post /v1/campaigns/{id}/archive', 'post /v1/campaigns/{id}/enrolments',
      'get /v1/enrolments/{workflowId}', 'delete /v1/enrolments/{workflowId}', 'get /v1/campaigns/{id}/stats', 'get /healthz', 'get /metrics',
      'get /v1/sales/pools', 'put /v1/sales/pools/{name}', 'get /v1/sales/reps', 'post /v1/sales/reps', 'patch /v1/sales/reps/{rep}',
      'post /v1/sales/reps/{rep}/absences', 'post /v1/sales/reps/{rep}/back', 'post /v1/sales/reps/{rep}/link', 'post /v1/sales/import', 'get /v1/sales/desk',
      'get /r/{token}', 'post /r/{token}',
    ];
    const documented = Object.entries(document.paths as Record<string, Record<string, { responses?: object; security?: unknown[] }>>).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({ key: `${method} ${path}`, operation })),
    );
    expect(documented.map((entry) => entry.key)).toEqual(expect.arrayContaining(expected));
    for (const { key, operation } of documented) {
      expect(Object.keys(operation.responses ?? {}).length, key).toBeGreaterThan(0);
      if (key === 'get /metrics') expect(operation.security, key).toEqual([{ metricsToken: [] }]);
      else expect(Boolean(operation.security), key).toBe(key.split(' ')[1]!.startsWith('/v1/'));
    }
  });

  it('reports an unreachable database on /healthz with 503', async () => {
    const { createPool } = await import('../../db/pool');
    const deadPool = createPool('postgres://nobody:nothing@127.0.0.1:1/none');
    const app = await buildApi({ pool: deadPool, engine: new RecordingEngine(), links: LINKS, rateLimit: false });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    await app.close();
    await deadPool.end();
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'unavailable', database: 'unreachable' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await api.call({ method: 'GET', url: '/nothing/here', key: null });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('not_found');
  });
});

describe('failures and limits', () => {
  it('says only "internal error" when something breaks, and logs it', async () => {
    const engine = new RecordingEngine();
    engine.consentChanged = async () => {
      throw new Error('secret detail at /srv/nurture/engine.ts:42');
    };
    const logged: string[] = [];
    const app = await buildApi({
      pool: api.db.pool,
      engine,
      links: LINKS,
      rateLimit: false,
      logger: { level: 'error', stream: { write: (line: string) => void logged.push(line) } },
    });
    const leadId = (await api.call({ method: 'PUT', url: '/v1/leads', payload: { email: 'boom@example.com' } })).json().lead.id;
    const response = await app.inject({
      method: 'POST',
      url: `/v1/leads/${leadId}/consent`,
      headers: { authorization: `Bearer ${api.writeKey}` },
      payload: { purpose: 'marketing_email', granted: true, source: 'api' },
    });
    await app.close();
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(response.body).not.toContain('secret detail');
    expect(logged.join('')).toContain('secret detail');
  });

  it("turns the engine's refusals into 404 and 409", async () => {
    const { EngineRefusal } = await import('../../api/engine');
    const engine = new RecordingEngine();
    engine.enrolmentState = async (workflowId) => {
      throw new EngineRefusal(workflowId === 'gone' ? 'not_found' : 'conflict', `enrolment ${workflowId} refused`);
    };
    const app = await buildApi({ pool: api.db.pool, engine, links: LINKS, rateLimit: false });
    // Only recorded enrolments reach the engine.
    const { lead } = await upsertLead(api.db.pool, { email: 'refused@example.com' });
    await seedEnrolment(api.db, lead.id, 'refusals');
    await api.db.pool.query(`INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id) VALUES ('gone', 'refusals', 1, $1), ('busy', 'refusals', 1, $1)`, [lead.id]);
    const get = (id: string) => app.inject({ method: 'GET', url: `/v1/enrolments/${id}`, headers: { authorization: `Bearer ${api.readKey}` } });
    const [gone, busy] = [await get('gone'), await get('busy')];
    await app.close();
    expect([gone.statusCode, busy.statusCode]).toEqual([404, 409]);
    expect(busy.json().error).toEqual({ code: 'conflict', message: 'enrolment busy refused' });
  });

  it('rate-limits per client address with 429, whatever key is presented', async () => {
    const app = await buildApi({ pool: api.db.pool, engine: new RecordingEngine(), links: LINKS, rateLimit: { max: 2, timeWindow: '1 minute' } });
    const get = (key: string, remoteAddress = '198.51.100.1') =>
      app.inject({ method: 'GET', url: '/v1/campaigns', remoteAddress, headers: { authorization: `Bearer ${key}` } });
    expect((await get(api.readKey)).statusCode).toBe(200);
    expect((await get('nk_000000000000_made-up')).statusCode).toBe(401);
    const limited = await get(api.writeKey);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect((await get(api.readKey, '198.51.100.2')).statusCode).toBe(200);
    await app.close();
  });

  it('applies a configured body limit', async () => {
    const app = await buildApi({ pool: api.db.pool, engine: new RecordingEngine(), links: LINKS, rateLimit: false, bodyLimit: 200 });
    const response = await app.inject({
      method: 'PUT',
      url: '/v1/leads',
      headers: { authorization: `Bearer ${api.writeKey}` },
      payload: { email: 'limit@example.com', attributes: { note: 'x'.repeat(300) } },
    });
    await app.close();
    expect(response.statusCode).toBe(413);
  });
});
