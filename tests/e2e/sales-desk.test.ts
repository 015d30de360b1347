// The sales desk end to end on Temporal's dev server (real time), with the real worker, desk,
// mailer, SMTP server and API: a rep out of office and a rep at capacity are skipped; with
// everyone unavailable the handoff waits and the pool's manager is told; marking a rep back
// through the API assigns it at once; a missed first contact escalates to the address
// `escalate_to` names and reassigns the lead to the next available rep.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../api/app';
import { formatCampaignError, parseCampaign, type Campaign } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { startHarness, TEST_CONFIG, type Harness } from './harness';

const FIRST_CONTACT_SECONDS = 8;
const CAMPAIGN_TEXT = `
id: desk-e2e
name: Sales desk end to end
from: { name: Acme, email: hello@acme.example }
timezone: UTC
entry: { on: form.submitted }
consent: marketing_email
scoring:
  behaviour:
    - { on: demo.requested, points: 100, label: asked for a demo }
stages: { warm: 30, hot: 60 }
tracks:
  cold: [ { wait: 30d } ]
  warm: [ { wait: 30d } ]
  hot: [ { wait: 30d } ]
send_window: { days: [mon, tue, wed, thu, fri, sat, sun], hours: "00:00-24:00", timezone: UTC }
qualify: { any: ["score >= 60"] }
handoff:
  assign: { pool: desk-e2e }
  sla:
    first_contact: ${FIRST_CONTACT_SECONDS}s
    remind_before: 1h
    escalate_to: escalations@acme.example
    reassign: missed_first_contact
`;

let h: Harness;
let api: FastifyInstance;
let key: string;
let campaign: Campaign;

async function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) {
  const response = await api.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });
  expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
  return response.json();
}

/** A lead who asks for a demo: enrolled, hot and qualified at once; its handoff once recorded. */
async function qualifiedLead(name: string) {
  const leadId = await h.addLead(`${name}@lead.example`, { first_name: name, last_name: 'Lead', company: { name: `${name} Co` }, role: 'cto' });
  await h.event(leadId, 'form.submitted');
  await h.event(leadId, 'demo.requested');
  return vi.waitFor(
    async () => {
      const { handoffs } = await call('GET', '/v1/handoffs');
      const handoff = handoffs.find((candidate: { lead_id: string }) => candidate.lead_id === leadId);
      expect(handoff).toBeDefined();
      return handoff as { id: string; owner: { email: string } | null; routing_log: { outcome: string; owner: string | null; skipped: { rep: string; reason: string }[] }[] };
    },
    { timeout: 20_000, interval: 200 },
  );
}

beforeAll(async () => {
  h = await startHarness({ devServerArgs: [] });
  api = await buildApi({ pool: h.db.pool, engine: h.engine, links: { baseUrl: TEST_CONFIG.publicUrl, secret: TEST_CONFIG.linkSecret }, rateLimit: false });
  await api.ready();
  key = (await createApiKey(h.db.pool, 'desk e2e', ['read', 'write'])).key;
  const parsed = parseCampaign(CAMPAIGN_TEXT);
  if (!parsed.ok) throw new Error(parsed.errors.map(formatCampaignError).join('\n'));
  campaign = parsed.campaign;
  await h.launch(campaign);

  // The team, set up as a user would: through the API.
  await call('PUT', '/v1/sales/pools/desk-e2e', { manager_email: 'desk-manager@acme.example', manager_name: 'Mia Manager', working_hours: { days: 'mon-sun', start: '00:00', end: '24:00' } });
  await call('POST', '/v1/sales/reps', { email: 'ann@acme.example', name: 'Ann', pool: 'desk-e2e' });
  await call('POST', '/v1/sales/reps', { email: 'bob@acme.example', name: 'Bob', pool: 'desk-e2e', capacity: 1 });
  await call('POST', '/v1/sales/reps', { email: 'cat@acme.example', name: 'Cat', pool: 'desk-e2e', capacity: 1 });
  await call('POST', '/v1/sales/reps/ann@acme.example/absences', { ends_at: new Date(Date.now() + 7 * 86_400_000).toISOString(), note: 'holiday' });
}, 240_000);

afterAll(async () => {
  await api?.close();
  await h?.close();
});

describe('the sales desk on the real engine', () => {
  let first: Awaited<ReturnType<typeof qualifiedLead>>;
  let second: Awaited<ReturnType<typeof qualifiedLead>>;

  it('skips the rep out of office, then the rep at capacity', async () => {
    first = await qualifiedLead('first');
    expect(first.owner?.email).toBe('bob@acme.example');
    expect(first.routing_log[0]!.skipped).toContainEqual({ rep: 'ann@acme.example', reason: expect.stringMatching(/^out of office until/) });
    await h.waitForMail((m) => m.to.includes('bob@acme.example') && m.subject.includes('first Lead'));

    second = await qualifiedLead('second');
    expect(second.owner?.email).toBe('cat@acme.example');
    expect(second.routing_log[0]!.skipped).toEqual(
      expect.arrayContaining([
        { rep: 'ann@acme.example', reason: expect.stringMatching(/^out of office/) },
        { rep: 'bob@acme.example', reason: 'at capacity (1 of 1 open handoffs)' },
      ]),
    );
    const notice = await h.waitForMail((m) => m.to.includes('cat@acme.example') && m.subject.includes('second Lead'));
    expect(notice.html).toMatch(/http:\/\/nurture\.test\/r\/[A-Za-z0-9_.-]+/);
    // Both answer in time: no escalation for them, and they stay at capacity while the leads are open.
    await h.engine.salesResponse(first.id, 'accepted');
    await h.engine.salesResponse(second.id, 'accepted');
  });

  it('lets a handoff wait when nobody is available, tells the manager, and assigns it once a rep is back', async () => {
    const third = await qualifiedLead('third');
    expect(third.owner).toBeNull();
    expect(third.routing_log[0]).toMatchObject({ outcome: 'waiting', owner: null });
    const alert = await h.waitForMail((m) => m.to.includes('desk-manager@acme.example') && m.subject.startsWith('Unassigned lead'));
    expect(alert.html).toContain('nobody in sales pool');

    const back = await call('POST', '/v1/sales/reps/ann@acme.example/back');
    expect(back.available).toBe(true);
    const notice = await h.waitForMail((m) => m.to.includes('ann@acme.example') && m.subject.includes('third Lead'));
    expect(notice.subject).toMatch(/^New /);
    const assigned = await call('GET', `/v1/handoffs/${third.id}`);
    expect(assigned.owner.email).toBe('ann@acme.example');
    expect(assigned.routing_log.map((entry: { outcome: string }) => entry.outcome)).toEqual(['waiting', 'assigned']);

    // Bob's lead converts, so Bob has room again: the next available rep when Ann misses her deadline.
    await h.engine.salesResponse(first.id, 'converted');
    const escalation = await h.waitForMail((m) => m.to.includes('escalations@acme.example'), (FIRST_CONTACT_SECONDS + 20) * 1000);
    expect(escalation.subject).toContain('third Lead was not contacted in time');
    const reassigned = await h.waitForMail((m) => m.to.includes('bob@acme.example') && m.subject.startsWith('Reassigned to you'), 20_000);
    expect(reassigned.subject).toContain('third Lead');
    await vi.waitFor(async () => {
      const now = await call('GET', `/v1/handoffs/${third.id}`);
      expect(now.owner.email).toBe('bob@acme.example');
      expect(now.routing_log.at(-1)).toMatchObject({ outcome: 'reassigned', owner: 'bob@acme.example', why: 'first contact was missed' });
    });
    // Nobody hears twice: one notice per owner, one escalation.
    await h.settle();
    expect(h.mailTo('escalations@acme.example')).toHaveLength(1);
    expect(h.mailTo('ann@acme.example').filter((m) => m.subject.includes('third Lead'))).toHaveLength(1);
  });

  it('replays its histories (engine version 3: the desk keeps the SLA) with the current workflow code', async () => {
    expect(await h.checkHistories('sales-desk')).toEqual([]);
  });
});
