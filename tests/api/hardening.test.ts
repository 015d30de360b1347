// Deployment hardening over real HTTP on a real database: the client address behind a trusted
// proxy (rate-limit buckets, consent and tracking evidence), /metrics behind its bearer token,
// and GET /v1/enrolments/:workflowId limited to recorded enrolments.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type ApiOptions } from '../../api/app';
import { Links } from '../../mail/links';
import { createLead, LINKS, RecordingEngine, seedEnrolment, seedSend, startTestApi, type TestApi } from './support';

let api: TestApi;
const links = new Links(LINKS);
const path = (url: string) => url.slice(LINKS.baseUrl.length);
const METRICS_TOKEN = 'a-metrics-token-of-the-hardening-tests-0123';
const started: FastifyInstance[] = [];

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await Promise.all(started.map((app) => app.close()));
  await api?.close();
});

/** The app listening on 127.0.0.1 (requests arrive from 127.0.0.1), with the options given. */
async function serve(options: Partial<ApiOptions>): Promise<{ url: string; engine: RecordingEngine }> {
  const engine = new RecordingEngine();
  const app = await buildApi({ pool: api.db.pool, engine, links: LINKS, rateLimit: false, ...options });
  started.push(app);
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }), engine };
}

describe('TRUST_PROXY', () => {
  const campaigns = (base: string, forwardedFor?: string) =>
    fetch(`${base}/v1/campaigns`, {
      headers: { authorization: `Bearer ${api.readKey}`, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    }).then((response) => response.status);

  it('gives each client behind a trusted proxy its own rate-limit bucket', async () => {
    const { url } = await serve({ trustProxy: ['127.0.0.1'], rateLimit: { max: 2, timeWindow: '1 minute' } });
    expect([await campaigns(url, '203.0.113.1'), await campaigns(url, '203.0.113.1'), await campaigns(url, '203.0.113.1')]).toEqual([200, 200, 429]);
    // Another client of the same balancer is not held back by the first one.
    expect(await campaigns(url, '203.0.113.2')).toBe(200);
    // The proxy's own address appended last is the one believed: a client's forged entry before it is not.
    expect(await campaigns(url, '198.51.100.9, 203.0.113.1')).toBe(429);
  });

  it('believes no forwarded address from a peer it does not trust, nor by default', async () => {
    for (const options of [{}, { trustProxy: ['10.0.0.0/8'] }] satisfies Partial<ApiOptions>[]) {
      const { url } = await serve({ ...options, rateLimit: { max: 2, timeWindow: '1 minute' } });
      // A client choosing a fresh X-Forwarded-For per request still shares the socket address's bucket.
      expect([await campaigns(url, '203.0.113.10'), await campaigns(url, '203.0.113.11'), await campaigns(url, '203.0.113.12')]).toEqual([200, 200, 429]);
    }
  });

  it("stores the client's address, not the balancer's, as consent and tracking evidence", async () => {
    const { url } = await serve({ trustProxy: '127.0.0.1' });
    const leadId = await createLead(api, 'behind-proxy@example.com');
    const send = await seedSend(api.db, { leadId, to: 'behind-proxy@example.com' });
    const unsubscribe = await fetch(`${url}${path(links.unsubscribe(send.messageKey, leadId))}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.50', 'user-agent': 'Evidence/1.0' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribe.status).toBe(200);
    const consent = await api.db.pool.query<{ ip: string; user_agent: string }>(
      `SELECT host(ip) AS ip, user_agent FROM consent_records WHERE lead_id = $1 AND source = 'unsubscribe-link'`,
      [leadId],
    );
    expect(consent.rows).toEqual([{ ip: '203.0.113.50', user_agent: 'Evidence/1.0' }]);

    const click = await fetch(`${url}${path(links.click(send.messageKey, 'https://acme.example/pricing', 0))}`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': '203.0.113.51', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' },
    });
    expect(click.status).toBe(302);
    const engagement = await api.db.pool.query<{ ip: string }>(`SELECT host(ip) AS ip FROM email_engagements WHERE send_id = $1 AND kind = 'click'`, [send.sendId]);
    expect(engagement.rows).toEqual([{ ip: '203.0.113.51' }]);
  });
});

describe('/metrics', () => {
  it('needs Authorization: Bearer <METRICS_TOKEN>: 401 in the API error shape otherwise; /healthz stays public', async () => {
    const { url } = await serve({ metricsToken: METRICS_TOKEN });
    const scrape = (authorization?: string) => fetch(`${url}/metrics`, { headers: authorization ? { authorization } : undefined });
    for (const authorization of [undefined, 'Bearer', `Bearer ${METRICS_TOKEN}x`, `Bearer ${METRICS_TOKEN.slice(0, -1)}`, `Basic ${METRICS_TOKEN}`, api.readKey, `Bearer ${api.readKey}`]) {
      const refused = await scrape(authorization);
      expect(refused.status, String(authorization)).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      const body = await refused.json();
      expect(body).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('METRICS_TOKEN') } });
      expect(JSON.stringify(body)).not.toContain(METRICS_TOKEN);
    }
    for (const authorization of [`Bearer ${METRICS_TOKEN}`, `bearer ${METRICS_TOKEN}`]) {
      const scraped = await scrape(authorization);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await scraped.text()).toMatch(/^nurture_events_undelivered \d+$/m);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('answers 404 when no token is configured, with or without a header', async () => {
    const { url } = await serve({});
    for (const headers of [{}, { authorization: `Bearer ${METRICS_TOKEN}` }] as Record<string, string>[]) {
      const response = await fetch(`${url}/metrics`, { headers });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'metrics are not enabled on this server' } });
    }
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', database: 'ok' });
  });
});

describe('GET /v1/enrolments/:workflowId', () => {
  it('answers 404 for a workflow id no enrolment was recorded under, without asking Temporal', async () => {
    api.engine.calls = [];
    // A workflow the engine would answer for (another workflow of the namespace, say).
    api.engine.states.set('fanout:some-campaign', { secret: 'not an enrolment' });
    for (const workflowId of ['fanout:some-campaign', 'nurture:no-such-campaign:00000000-0000-4000-8000-000000000000', 'x'.repeat(400)]) {
      const response = await api.call({ method: 'GET', url: `/v1/enrolments/${encodeURIComponent(workflowId)}`, key: api.readKey });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('not_found');
    }
    expect(api.engine.of('enrolmentState')).toEqual([]);
  });

  it('reads the state of a recorded enrolment, open or ended', async () => {
    const leadId = await createLead(api, 'enrolled-state@example.com');
    const { workflowId, enrolmentId } = await seedEnrolment(api.db, leadId, 'state-campaign');
    api.engine.states.set(workflowId, { stage: 'cold' });
    const read = () => api.call({ method: 'GET', url: `/v1/enrolments/${encodeURIComponent(workflowId)}`, key: api.readKey });
    expect((await read()).json()).toEqual({ workflow_id: workflowId, state: { stage: 'cold' } });
    await api.db.pool.query(`UPDATE enrolments SET ended_at = now(), status = 'exited' WHERE id = $1`, [enrolmentId]);
    expect((await read()).statusCode).toBe(200);
    expect(api.engine.of('enrolmentState').map((call) => call.workflowId)).toEqual([workflowId, workflowId]);
  });
});
