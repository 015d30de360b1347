// GDPR erasure after a whole journey, on the real engine: the lead downloads the whitepaper
// (events whose ids carry her address), engages, is handed to a rep whose notice subject names
// her and her company, is answered "not ready" with a note, qualifies again and converts; a
// second campaign's email then bounces with a reply quoting her address. After DELETE
// /v1/leads/:id no table holds her name, address, company or the note, and no workflow history
// of the Temporal server does either: not as stored (payloads are encrypted), and not decoded
// with the current keys (hers is gone).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { buildApi } from '../../api/app';
import type { Campaign } from '../../campaign';
import { createApiKey } from '../../db/api-keys';
import { recordConsent } from '../../db/consent';
import { ErasedPayloadError } from '../../runtime/payload-codec';
import { decodePayloads, fetchHistories, type RecordedHistory } from '../support/history';
import { JOURNEY_LEAD, referenceJourney } from '../support/reference-journey';
import { loadCampaign, startHarness, TEST_CONFIG, type Harness } from './harness';
import { harnessJourneyEngine } from './journey-engine';

const AIKO = JOURNEY_LEAD.email;
const NOTE = 'Budget next quarter';
/** What must not survive the erasure anywhere, compared case-insensitively. */
const NEEDLES = [AIKO, 'aiko', 'suzuki', 'globex', NOTE];

let h: Harness;
let api: FastifyInstance;
let key: string;
let campaign: Campaign;
let leadId: string;
let eventCount = 0;

/** Every text column of every table, as text, where one of the needles occurs: "table.column: value". */
async function needlesInDatabase(): Promise<string[]> {
  const { rows: columns } = await h.db.pool.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'inet')
       AND table_name <> 'campaign_versions'`, // the marketer's campaigns (the demo's case study is about a Globex)
  );
  const found: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    const { rows } = await h.db.pool.query<{ value: string }>(
      `SELECT "${column}"::text AS value FROM "${table}" WHERE "${column}"::text ILIKE ANY($1)`,
      [NEEDLES.map((needle) => `%${needle}%`)],
    );
    for (const row of rows) found.push(`${table}.${column}: ${row.value.slice(0, 200)}`);
  }
  return found;
}

/** Every string and byte string in a history (payload data as UTF-8), lower-cased, for searching. */
function textOf(value: unknown): string {
  const parts: string[] = [];
  const walk = (item: unknown) => {
    if (typeof item === 'string') parts.push(item);
    else if (item instanceof Uint8Array) parts.push(Buffer.from(item).toString('utf8'));
    else if (Array.isArray(item)) item.forEach(walk);
    else if (item && typeof item === 'object') Object.values(item).forEach(walk);
  };
  walk(value);
  return parts.join('\n').toLowerCase();
}

/** Every run of every enrolment the database knows (continued-as-new runs too). */
async function allHistories(): Promise<RecordedHistory[]> {
  const { rows } = await h.db.pool.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM enrolments');
  const latest = await fetchHistories(rows.map((row) => h.client.workflow.getHandle(row.workflow_id)));
  const earlier: RecordedHistory[] = [];
  for (const recorded of latest) {
    const started = recorded.history.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (started?.continuedExecutionRunId && started.firstExecutionRunId) {
      earlier.push(...(await fetchHistories([h.client.workflow.getHandle(recorded.workflowId, started.firstExecutionRunId)])));
    }
  }
  return [...latest, ...earlier];
}

/** The history decoded with the current keys; payloads whose key was erased become "[unreadable]". */
async function decodedWithCurrentKeys(history: RecordedHistory['history']): Promise<{ text: string; unreadable: number }> {
  let unreadable = 0;
  const codec = {
    encode: async (payloads: never[]) => payloads,
    decode: async (payloads: Parameters<typeof h.payloadCodec.decode>[0]) =>
      Promise.all(
        payloads.map(async (payload) => {
          try {
            return (await h.payloadCodec.decode([payload]))[0]!;
          } catch (error) {
            if (!(error instanceof ErasedPayloadError)) throw error;
            unreadable++;
            return { metadata: {}, data: Buffer.from('[unreadable]') };
          }
        }),
      ),
  };
  return { text: textOf(await decodePayloads(history, codec)), unreadable };
}

beforeAll(async () => {
  h = await startHarness();
  api = await buildApi({ pool: h.db.pool, engine: h.engine, links: { baseUrl: TEST_CONFIG.publicUrl, secret: TEST_CONFIG.linkSecret }, rateLimit: false });
  key = (await createApiKey(h.db.pool, 'erasure test', ['read', 'write'])).key;
  campaign = loadCampaign('saas-whitepaper-nurture');
  await h.launch(campaign);
  await h.launch(loadCampaign('hot-lead-seed002'));
  leadId = await h.addLead(AIKO, JOURNEY_LEAD.attributes, { timezone: JOURNEY_LEAD.timezone });
  await recordConsent(h.db.pool, { leadId, purpose: 'marketing_email', granted: true, source: `form:${AIKO}`, ip: '203.0.113.9', userAgent: 'Aiko browser' });

  // The sender's own ids, as a website would choose them: with the address in them.
  const journey = referenceJourney(campaign, harnessJourneyEngine(h, () => ({ campaignId: campaign.id, leadId }), (type) => `${AIKO}/${type}/${++eventCount}`));
  await journey.start();
  await journey.download();
  await journey.engage();
  await journey.viewPricing();
  await journey.notReady(); // the rep's note: NOTE
  await journey.qualifyAgain();
  await journey.acceptAndConvert();

  // The second campaign's email bounces, with the receiving server quoting her address.
  h.sink.setFault(({ to }) => (to.includes(AIKO) ? { code: 550, message: `5.1.1 <${AIKO}>: no such user (Aiko Suzuki, Globex)` } : undefined));
  await h.event(leadId, 'form.submitted', { form: 'contact' }, { id: `${AIKO}/contact` });
  await vi.waitFor(async () => {
    const { rows } = await h.db.pool.query(`SELECT 1 FROM email_sends WHERE lead_id = $1 AND status = 'bounced'`, [leadId]);
    expect(rows).toHaveLength(1);
  }, { timeout: 30_000 });
  h.sink.setFault(undefined);
}, 240_000);

afterAll(async () => {
  await api?.close();
  await h?.close();
});

it('before the erasure the journey left her data in the tables, and in the histories only encrypted', async () => {
  const found = await needlesInDatabase();
  for (const where of ['leads.email', 'email_sends.subject', 'handoffs.response_note', 'handoff_events.detail', 'suppressions.detail', 'email_sends.smtp_response', 'events.external_id', 'consent_records.source']) {
    expect(found.some((line) => line.startsWith(`${where}:`)), `${where} holds her data before the erasure`).toBe(true);
  }
  const histories = await allHistories();
  expect(histories.length).toBeGreaterThanOrEqual(2);
  for (const { workflowId, history } of histories) {
    const stored = textOf(history);
    for (const needle of NEEDLES) expect(stored, `${workflowId} as stored`).not.toContain(needle.toLowerCase());
  }
  // Decoded with her key, they do hold her data (so the checks below can fail).
  const decoded = await decodedWithCurrentKeys(histories[0]!.history);
  expect(decoded.unreadable).toBe(0);
  expect(decoded.text).toContain('aiko');
});

it('after DELETE /v1/leads/:id no table and no decoded history holds her name, address, company or the note', async () => {
  const response = await api.inject({ method: 'DELETE', url: `/v1/leads/${leadId}`, headers: { authorization: `Bearer ${key}` } });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.json().unterminated_workflows).toEqual([]);

  expect(await needlesInDatabase()).toEqual([]);
  // The address stays suppressed, by a keyed hash only.
  const suppression = await h.db.pool.query('SELECT s.reason FROM suppressions s JOIN leads l ON l.email_hash = s.email_hash WHERE l.id = $1', [leadId]);
  expect(suppression.rows).toHaveLength(1);

  h.payloadCodec.forget(`lead:${leadId}`); // as every process does within a minute
  const histories = await allHistories();
  let unreadable = 0;
  for (const { workflowId, history } of histories) {
    const stored = textOf(history);
    const decoded = await decodedWithCurrentKeys(history);
    unreadable += decoded.unreadable;
    for (const needle of NEEDLES) {
      expect(stored, `${workflowId} as stored`).not.toContain(needle.toLowerCase());
      expect(decoded.text, `${workflowId} decoded with the current keys`).not.toContain(needle.toLowerCase());
    }
  }
  expect(unreadable).toBeGreaterThan(0);
});

it('her open enrolments were terminated, and her unsubscribe link records nothing new', async () => {
  const { rows } = await h.db.pool.query<{ workflow_id: string; status: string; exit_reason: string }>('SELECT workflow_id, status, exit_reason FROM enrolments WHERE lead_id = $1', [leadId]);
  for (const row of rows) {
    expect(row.status).toBe('exited');
    const description = await h.client.workflow.getHandle(row.workflow_id).describe();
    expect(description.status.name).not.toBe('RUNNING');
  }
  const welcome = h.mailTo(AIKO)[0]!;
  const link = /<(http:\/\/nurture\.test\/u\/[^>]+)>/.exec(welcome.headers['list-unsubscribe'] as string)![1]!;
  const consentBefore = (await h.db.pool.query('SELECT count(*)::int AS n FROM consent_records WHERE lead_id = $1', [leadId])).rows[0].n;
  const answer = await api.inject({
    method: 'POST',
    url: new URL(link).pathname,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Aiko phone' },
    payload: 'List-Unsubscribe=One-Click',
    remoteAddress: '198.51.100.7',
  });
  expect(answer.statusCode).toBe(200);
  const consentAfter = (await h.db.pool.query('SELECT count(*)::int AS n FROM consent_records WHERE lead_id = $1', [leadId])).rows[0].n;
  expect(consentAfter).toBe(consentBefore);
  expect(await needlesInDatabase()).toEqual([]);
  const evidence = await h.db.pool.query(`SELECT 1 FROM consent_records WHERE user_agent = 'Aiko phone' OR host(ip) = '198.51.100.7'`);
  expect(evidence.rows).toHaveLength(0);
});
