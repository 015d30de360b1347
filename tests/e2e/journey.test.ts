// The reference journey end to end, on the real engine: a lead downloads the whitepaper, gets
// the welcome email, opens and clicks, moves to the warm track, views the pricing page, turns
// hot, qualifies and is handed to the right rep, who answers "not ready"; the lead is recycled
// after the cooldown, qualifies again and is accepted, then converts.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assignVariant, type Campaign, type EmailStep } from '../../campaign';
import { DAY, HOUR, loadCampaign, startHarness, type Harness } from './harness';

let h: Harness;
let campaign: Campaign;

beforeAll(async () => {
  h = await startHarness();
  campaign = loadCampaign('saas-whitepaper-nurture');
  await h.launch(campaign);
  // The scenario's first hours run inside the send window, so its emails go at once.
  await h.advanceIntoSendWindow(campaign);
});

afterAll(async () => {
  await h?.close();
});

const AIKO = 'aiko.suzuki@globex.example';

describe('whitepaper → warm → hot → sales → recycled → accepted', () => {
  let leadId: string;

  it('a whitepaper download enrols the lead and sends the welcome email', async () => {
    leadId = await h.addLead(AIKO, {
      first_name: 'Aiko',
      last_name: 'Suzuki',
      company: { name: 'Globex', employees: 250 },
      role: 'manager',
      region: 'kanto',
    });
    await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
    const welcome = await h.waitForMail((m) => m.to.includes(AIKO));
    const variant = assignVariant(campaign.id, 'tracks.cold[0]', leadId, (campaign.tracks.cold[0] as EmailStep).variants!);
    expect(welcome.subject).toBe(variant.key === 'A' ? 'Your guide is ready' : 'Aiko, your data-driven growth guide');
    expect(welcome.html).toContain('Aiko');
    expect(welcome.text).toContain('Aiko');
    expect(welcome.headers['list-unsubscribe']).toMatch(/^<http:\/\/nurture\.test\/u\/[^>]+>$/);
    expect(welcome.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(welcome.messageId).toMatch(/^<[A-Za-z0-9_-]{22}@nurture\.test>$/);
    await h.settle();
    const state = (await h.engine.enrolmentState(`nurture:${campaign.id}:${leadId}`)) as { stage: string; score: number };
    // Fit: 100+ employees (15) + manager (20); the download itself: 10.
    expect(state).toMatchObject({ stage: 'cold', score: 45 });
  });

  it('opens and clicks move the lead to the warm track', async () => {
    await h.advance(2 * HOUR);
    await h.event(leadId, 'email.opened', { template: 'welcome' });
    await h.event(leadId, 'email.clicked', { template: 'welcome', url: 'https://acme.example/guide' });
    const warmMail = await h.waitForMail((m) => m.to.includes(AIKO) && m.subject.startsWith('Globex and teams like yours'));
    expect(warmMail.html).toContain('Globex');
    await vi.waitFor(async () => {
      const stages = await h.db.pool.query('SELECT from_stage, to_stage FROM stage_changes ORDER BY id');
      expect(stages.rows).toEqual([{ from_stage: 'cold', to_stage: 'warm' }]);
    });
  });

  let firstHandoff: string;

  it('pricing-page views make the lead hot and hand it to the rep of its territory', async () => {
    await h.advance(HOUR);
    await h.event(leadId, 'page.viewed', { page: 'pricing', path: '/pricing' });
    await h.event(leadId, 'page.viewed', { page: 'pricing', path: '/pricing' });
    const notice = await h.waitForMail((m) => m.to.includes('kenji@acme.example'));
    expect(notice.subject).toContain('Aiko Suzuki');
    expect(notice.subject).toContain('Globex');
    expect(notice.html).toContain('pricing page views');
    expect(notice.html).toMatch(/http:\/\/nurture\.test\/h\/[A-Za-z0-9_.-]+/);
    const handoffs = await h.db.pool.query('SELECT id, status, score, first_contact_due, owner_id FROM handoffs');
    expect(handoffs.rows).toHaveLength(1);
    firstHandoff = handoffs.rows[0].id;
    expect(handoffs.rows[0].score).toBeGreaterThanOrEqual(75);
    // One business day (9 working hours) after qualifying, in the campaign's calendar.
    expect(handoffs.rows[0].first_contact_due.getTime()).toBeGreaterThan(await h.now());
    expect(notice.html).toContain('(Asia/Tokyo)');
  });

  it('"not ready" recycles the lead into the warm track after the cooldown', async () => {
    await h.engine.salesResponse(firstHandoff, 'not_ready', 'Budget next quarter');
    await h.settle();
    const before = h.mailTo(AIKO).length;
    await h.advance(29 * DAY);
    await h.settle();
    expect(h.mailTo(AIKO).length).toBe(before); // silence during the cooldown
    await h.advance(3 * DAY);
    const recycled = await h.waitForMail((m) => m.to.includes(AIKO) && m.subject.startsWith('Globex and teams like yours') && h.mailTo(AIKO).indexOf(m) >= before);
    expect(recycled).toBeDefined();
    const handoff = await h.db.pool.query('SELECT status, response_note FROM handoffs WHERE id = $1', [firstHandoff]);
    expect(handoff.rows[0]).toEqual({ status: 'not_ready', response_note: 'Budget next quarter' });
  });

  it('qualifies again, goes to the next rep in turn, is accepted and converts', async () => {
    await h.event(leadId, 'page.viewed', { page: 'pricing' });
    await h.event(leadId, 'page.viewed', { page: 'pricing' });
    await h.event(leadId, 'webinar.attended', { webinar: 'metrics-culture' });
    const notice = await h.waitForMail((m) => m.to.includes('ren@acme.example'));
    expect(notice.subject).toContain('Aiko Suzuki');
    const { rows } = await h.db.pool.query(`SELECT id FROM handoffs WHERE status = 'pending'`);
    expect(rows).toHaveLength(1);
    await h.engine.salesResponse(rows[0].id, 'accepted');
    await h.settle();
    const afterAccept = h.mailTo(AIKO).length;
    await h.advance(20 * DAY);
    await h.settle();
    expect(h.mailTo(AIKO).length).toBe(afterAccept); // marketing stops once sales accept
    await h.engine.salesResponse(rows[0].id, 'converted');
    await h.settle();
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
