// An A/B subject test over 2,000 leads on the real engine: sends split by weight, human opens
// recorded as the tracking endpoint records them, a winner declared by the two-proportion test,
// and every later send using the winner.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { assignVariant, parseCampaign, type Campaign, type Variant } from '../../campaign';
import { unitHash } from '../../campaign/ab';
import { startHarness, type Harness } from './harness';

const CAMPAIGN = `
id: ab-subject-test
name: A/B subject test
from: { name: Acme Analytics, email: marketing@acme.example }
timezone: Asia/Tokyo
entry: { on: asset.downloaded }
consent: marketing_email
scoring: { fit: [] }
stages: { warm: 50, hot: 80 }
tracks:
  cold:
    - email:
        template: welcome
        variants:
          - { key: plain, weight: 70, subject: "Your guide is ready" }
          - { key: personal, weight: 30, subject: "{{lead.first_name}}, your guide is ready" }
    - wait: 30d
send_window: { days: every_day, hours: "00:00-24:00", timezone: Asia/Tokyo }
ab: { metric: opens, min_sample: 200, confidence: 0.99 }
`;

let h: Harness;
let campaign: Campaign;
let variants: Variant[];

beforeAll(async () => {
  h = await startHarness();
  const parsed = parseCampaign(CAMPAIGN);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  campaign = parsed.campaign;
  variants = (campaign.tracks.cold[0] as { variants: Variant[] }).variants;
  await h.launch(campaign);
  await h.startAtCanonicalInstant(campaign);
}, 180_000);

afterAll(async () => {
  await h?.close();
});

async function enrolBatch(from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = from; start < from + count; start += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, from + count - start) }, async (_, i) => {
        const n = start + i;
        const leadId = await h.addLead(`lead${n}@ab.example`, { first_name: `Lead${n}` });
        await h.engine.enrol(campaign.id, leadId);
        return leadId;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

async function sendsOf(leadIds: string[]) {
  const { rows } = await h.db.pool.query<{ id: number; lead_id: string; variant: string; subject: string; status: string }>(
    `SELECT id, lead_id, variant, subject, status FROM email_sends WHERE campaign_id = $1 AND lead_id = ANY($2)`,
    [campaign.id, leadIds],
  );
  return rows;
}

/** Once every lead's welcome email is stored (workflows start in parallel and lag under load) and sent. */
async function welcomeSendsOf(leadIds: string[]) {
  await vi.waitFor(async () => expect((await sendsOf(leadIds)).length).toBeGreaterThanOrEqual(leadIds.length), { timeout: 120_000, interval: 500 });
  await h.settle();
  return sendsOf(leadIds);
}

it('splits by weight, declares the better subject the winner, then sends only the winner', async () => {
  const first = await enrolBatch(0, 1000);
  const firstSends = await welcomeSendsOf(first);
  expect(firstSends).toHaveLength(1000);
  expect(firstSends.every((s) => s.status === 'sent')).toBe(true);
  // Each lead got exactly its deterministic assignment…
  for (const send of firstSends) expect(send.variant).toBe(assignVariant(campaign.id, 'tracks.cold[0]', send.lead_id, variants).key);
  // …and the split follows the 70/30 weights (binomial sd ≈ 14.5 sends: allow 4 sd).
  const plain = firstSends.filter((s) => s.variant === 'plain').length;
  expect(Math.abs(plain - 700)).toBeLessThan(58);

  // Human opens, as the tracking pixel records them: the personal subject opens twice as often.
  const opened = firstSends.filter((s) => unitHash(`open:${s.lead_id}`) < (s.variant === 'personal' ? 0.44 : 0.22));
  await h.db.pool.query(
    `INSERT INTO email_engagements (send_id, kind, machine) SELECT unnest($1::bigint[]), 'open', false`,
    [opened.map((s) => s.id)],
  );
  // Machine opens (privacy proxies) must not sway the verdict: give the losing variant plenty.
  const machine = firstSends.filter((s) => s.variant === 'plain').map((s) => s.id);
  await h.db.pool.query(`INSERT INTO email_engagements (send_id, kind, machine, machine_reason) SELECT unnest($1::bigint[]), 'open', true, 'apple-mpp'`, [machine]);

  const second = await enrolBatch(1000, 1000);
  const secondSends = await welcomeSendsOf(second);
  const verdict = await h.db.pool.query('SELECT winner, p_value FROM ab_verdicts WHERE campaign_id = $1', [campaign.id]);
  expect(verdict.rows).toHaveLength(1);
  expect(verdict.rows[0].winner).toBe('personal');
  expect(verdict.rows[0].p_value).toBeLessThan(0.01);
  expect(secondSends).toHaveLength(1000);
  expect(secondSends.every((s) => s.variant === 'personal')).toBe(true);
  const received = h.sink.messages.filter((m) => m.to[0]?.startsWith('lead1999@'));
  expect(received[0]?.subject).toBe('Lead1999, your guide is ready');
  const ids = h.sink.messages.map((m) => m.messageId);
  expect(new Set(ids).size).toBe(2000);
}, 300_000);
