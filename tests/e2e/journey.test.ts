// The reference journey end to end, on the real engine: a lead downloads the whitepaper, gets
// the welcome email, opens and clicks, moves to the warm track, views the pricing page, turns
// hot, qualifies and is handed to the right rep, who answers "not ready"; the lead is recycled
// after the cooldown, qualifies again and is accepted, then converts. The script and its
// outcome are tests/support/reference-journey.ts, which tests/campaign/clock-independence.test.ts
// also runs from many start instants on the interpreter alone.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assignVariant, type Campaign, type EmailStep } from '../../campaign';
import { JOURNEY_LEAD, JOURNEY_OUTCOME, referenceJourney } from '../support/reference-journey';
import { loadCampaign, startHarness, type Harness } from './harness';
import { harnessJourneyEngine } from './journey-engine';

let h: Harness;
let campaign: Campaign;
let leadId: string;
let journey: ReturnType<typeof referenceJourney>;

beforeAll(async () => {
  h = await startHarness();
  campaign = loadCampaign('saas-whitepaper-nurture');
  await h.launch(campaign);
  leadId = await h.addLead(JOURNEY_LEAD.email, JOURNEY_LEAD.attributes, { timezone: JOURNEY_LEAD.timezone });
  journey = referenceJourney(campaign, harnessJourneyEngine(h, () => ({ campaignId: campaign.id, leadId })));
  await journey.start();
});

afterAll(async () => {
  await h?.close();
});

const AIKO = JOURNEY_LEAD.email;

describe('whitepaper → warm → hot → sales → recycled → accepted', () => {
  it('a whitepaper download enrols the lead and sends the welcome email', async () => {
    expect(await journey.download()).toMatchObject(JOURNEY_OUTCOME.download);
    const welcome = await h.waitForMail((m) => m.to.includes(AIKO));
    const variant = assignVariant(campaign.id, 'tracks.cold[0]', leadId, (campaign.tracks.cold[0] as EmailStep).variants!);
    expect(welcome.subject).toBe(variant.key === 'A' ? 'Your guide is ready' : 'Aiko, your data-driven growth guide');
    expect(welcome.html).toContain('Aiko');
    expect(welcome.text).toContain('Aiko');
    expect(welcome.headers['list-unsubscribe']).toMatch(/^<http:\/\/nurture\.test\/u\/[^>]+>$/);
    expect(welcome.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(welcome.messageId).toMatch(/^<[A-Za-z0-9_-]{22}@nurture\.test>$/);
  });

  it('opens and clicks move the lead to the warm track', async () => {
    expect(await journey.engage()).toMatchObject(JOURNEY_OUTCOME.engage);
    const warmMail = await h.waitForMail((m) => m.to.includes(AIKO) && m.subject.startsWith('Globex and teams like yours'));
    expect(warmMail.html).toContain('Globex');
    await vi.waitFor(async () => {
      const stages = await h.db.pool.query('SELECT from_stage, to_stage FROM stage_changes ORDER BY id');
      expect(stages.rows).toEqual([{ from_stage: 'cold', to_stage: 'warm' }]);
    });
  });

  it('pricing-page views make the lead hot and hand it to the rep of its territory', async () => {
    expect(await journey.viewPricing()).toMatchObject(JOURNEY_OUTCOME.viewPricing);
    const notice = await h.waitForMail((m) => m.to.includes('kenji@acme.example'));
    expect(notice.subject).toContain('Aiko Suzuki');
    expect(notice.subject).toContain('Globex');
    expect(notice.html).toContain('pricing page views');
    expect(notice.html).toMatch(/http:\/\/nurture\.test\/h\/[A-Za-z0-9_.-]+/);
    const handoffs = await h.db.pool.query('SELECT id, status, score, first_contact_due, owner_id FROM handoffs');
    expect(handoffs.rows).toHaveLength(1);
    expect(handoffs.rows[0].score).toBeGreaterThanOrEqual(75);
    // One business day (9 working hours) after qualifying, on the sales pool's calendar (Tokyo, 09:00–18:00).
    expect(handoffs.rows[0].first_contact_due.getTime()).toBeGreaterThan(await h.now());
    expect(notice.html).toContain('(Asia/Tokyo)');
  });

  it('"not ready" recycles the lead into the warm track after the cooldown', async () => {
    const [first] = (await h.db.pool.query('SELECT id FROM handoffs')).rows;
    expect(await journey.notReady()).toMatchObject(JOURNEY_OUTCOME.notReady);
    const recycled = h.mailTo(AIKO).at(-1)!;
    expect(recycled.subject).toBe('Globex and teams like yours: three stories');
    const handoff = await h.db.pool.query('SELECT status, response_note FROM handoffs WHERE id = $1', [first.id]);
    expect(handoff.rows[0]).toEqual({ status: 'not_ready', response_note: 'Budget next quarter' });
  });

  it('qualifies again, goes to the next rep in turn, is accepted and converts', async () => {
    expect(await journey.qualifyAgain()).toMatchObject(JOURNEY_OUTCOME.qualifyAgain);
    const notice = await h.waitForMail((m) => m.to.includes('ren@acme.example'));
    expect(notice.subject).toContain('Aiko Suzuki');
    expect(await journey.acceptAndConvert()).toMatchObject(JOURNEY_OUTCOME.acceptAndConvert);
    // The late outcome went to the pool's manager.
    await h.waitForMail((m) => m.to.includes('manager@acme.example'));
    await vi.waitFor(async () => {
      const enrolment = await h.db.pool.query('SELECT status, exit_reason FROM enrolments WHERE lead_id = $1', [leadId]);
      expect(enrolment.rows[0]).toEqual({ status: 'exited', exit_reason: 'converted' });
    });
  });

  it('sent every email once', () => {
    const ids = h.sink.messages.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

// Last: after every scenario above has run.
it('replays every history it produced (and records them as golden histories on request)', async () => {
  expect(await h.checkHistories('journey')).toEqual([]);
});
