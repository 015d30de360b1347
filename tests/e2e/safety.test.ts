// The invariants that protect leads, end to end: an unsubscribe while workflows sleep stops
// every campaign; a hard bounce suppresses the address; no event is lost, even one that arrives
// while its enrolment is still starting; a send due on a weekend or a Japanese
// holiday waits for the next business morning in the lead's own time zone.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { windowOffsetMs, type Campaign } from '../../campaign';
import { recordConsent } from '../../db/consent';
import { suppressAddress } from '../../db/suppressions';
import { DAY, loadCampaign, startHarness, type Harness } from './harness';

let h: Harness;
let nurture: Campaign;
let seed002: Campaign;

beforeAll(async () => {
  h = await startHarness();
  nurture = loadCampaign('saas-whitepaper-nurture');
  seed002 = loadCampaign('hot-lead-seed002');
  await h.launch(nurture);
  await h.launch(seed002);
});

afterAll(async () => {
  await h?.close();
});

async function toNextWindow(campaign: Campaign) {
  await h.startAtCanonicalInstant(campaign);
}

describe('unsubscribe', () => {
  it('while workflows sleep, stops every campaign at once', async () => {
    await toNextWindow(nurture);
    const address = 'ken.unsub@initech.example';
    const leadId = await h.addLead(address, { first_name: 'Ken', company: { name: 'Initech', employees: 40 }, role: 'engineer' });
    await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
    await h.event(leadId, 'form.submitted', { form: 'contact' });
    await vi.waitFor(() => expect(h.mailTo(address)).toHaveLength(2), { timeout: 20_000 });

    // What the unsubscribe link does (api/routes/unsubscribe.ts): withdraw, suppress, tell the workflows.
    await recordConsent(h.db.pool, { leadId, purpose: 'marketing_email', granted: false, source: 'unsubscribe-link' });
    await suppressAddress(h.db.pool, address, 'unsubscribed');
    await h.engine.consentChanged(leadId, 'marketing_email', false);
    await h.event(leadId, 'unsubscribed', {});
    await h.settle();

    await h.advance(60 * DAY);
    await h.settle();
    expect(h.mailTo(address)).toHaveLength(2);
    await vi.waitFor(async () => {
      const { rows } = await h.db.pool.query('SELECT campaign_id, status, exit_reason FROM enrolments WHERE lead_id = $1 ORDER BY campaign_id', [leadId]);
      expect(rows).toEqual([
        { campaign_id: 'hot-lead-seed002', status: 'exited', exit_reason: 'unsubscribed' },
        { campaign_id: 'saas-whitepaper-nurture', status: 'exited', exit_reason: 'unsubscribed' },
      ]);
    });
  });

  it('is enforced by the database even when no signal reaches the workflow', async () => {
    await toNextWindow(nurture);
    const address = 'quiet.withdrawal@initech.example';
    const leadId = await h.addLead(address, { first_name: 'Mia', company: { name: 'Initech', employees: 40 } });
    await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
    await vi.waitFor(() => expect(h.mailTo(address)).toHaveLength(1), { timeout: 20_000 });
    // Consent withdrawn behind the workflows' back (e.g. a CRM sync writing the database directly).
    await recordConsent(h.db.pool, { leadId, purpose: 'marketing_email', granted: false, source: 'crm-sync' });
    await h.advance(30 * DAY);
    await h.settle();
    expect(h.mailTo(address)).toHaveLength(1);
    const { rows } = await h.db.pool.query(`SELECT status FROM email_sends WHERE lead_id = $1 AND status <> 'sent'`, [leadId]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.status === 'skipped_no_consent')).toBe(true);
  });
});

describe('hard bounce', () => {
  it('suppresses the address, ends the enrolment and is not retried', async () => {
    await toNextWindow(nurture);
    const address = 'nobody@bounce.example';
    h.sink.setFault(({ to }) => (to.includes(address) ? { code: 550, message: '5.1.1 mailbox unavailable' } : undefined));
    try {
      const leadId = await h.addLead(address, { first_name: 'Nobody' });
      await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
      await vi.waitFor(
        async () => {
          const { rows } = await h.db.pool.query('SELECT status, exit_reason FROM enrolments WHERE lead_id = $1', [leadId]);
          expect(rows[0]).toEqual({ status: 'exited', exit_reason: 'bounced' });
        },
        { timeout: 20_000 },
      );
      const suppression = await h.db.pool.query('SELECT reason, detail FROM suppressions');
      expect(suppression.rows).toContainEqual({ reason: 'hard_bounce', detail: expect.stringContaining('5.1.1') });
      const sends = await h.db.pool.query('SELECT status, attempts FROM email_sends WHERE lead_id = $1', [leadId]);
      expect(sends.rows).toEqual([{ status: 'bounced', attempts: 1 }]);
      expect(h.mailTo(address)).toHaveLength(0);
    } finally {
      h.sink.setFault(undefined);
    }
  });
});

describe('no lost event', () => {
  it('events sent right after the entering one reach the enrolment that is still starting', async () => {
    const address = 'quick.clicker@globex.example';
    const leadId = await h.addLead(address, { first_name: 'Quinn', company: { name: 'Globex', employees: 250 }, role: 'manager' });
    // No wait between them: the open and click arrive before the new workflow has run anything.
    await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
    await Promise.all([h.event(leadId, 'email.opened', { template: 'welcome' }), h.event(leadId, 'email.clicked', { template: 'welcome', url: 'https://acme.example/guide' })]);
    // The workflow works through its inbox one input at a time: wait until it has taken all three.
    await vi.waitFor(
      async () => {
        const state = (await h.engine.enrolmentState(`nurture:${nurture.id}:${leadId}`)) as { score: number; breakdown: { label: string; points: number }[] };
        expect(state.breakdown).toEqual(
          expect.arrayContaining([
            { label: 'content downloads', points: 10 },
            { label: 'email opens', points: 1 },
            { label: 'email clicks', points: 5 },
          ]),
        );
        // Fit 35 + download 10 + open 1 + click 5.
        expect(state.score).toBe(51);
      },
      { timeout: 15_000, interval: 200 },
    );
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM enrolments WHERE lead_id = $1', [leadId]);
    expect(rows[0].n).toBe(1);
  });
});

describe('send window', () => {
  it('a send due on a weekend before a Japanese holiday goes out the next business morning, in the lead time zone', async () => {
    // Friday before Coming of Age Day (the second Monday of January) next year, 19:00 in Tokyo.
    const year = DateTime.fromMillis(await h.now(), { zone: 'Asia/Tokyo' }).year + 1;
    const secondMonday = DateTime.fromObject({ year, month: 1, day: 1, hour: 19 }, { zone: 'Asia/Tokyo' }).plus({ days: ((8 - DateTime.fromObject({ year, month: 1, day: 1 }).weekday) % 7) + 7 });
    const fridayEvening = secondMonday.minus({ days: 3 });
    expect(fridayEvening.weekday).toBe(5);
    await h.advance(fridayEvening.toMillis() - (await h.now()));

    const tokyo = await h.addLead('haruto@tokyo.example', { first_name: 'Haruto' }, { timezone: 'Asia/Tokyo' });
    const newYork = await h.addLead('olivia@newyork.example', { first_name: 'Olivia' }, { timezone: 'America/New_York' });
    await h.event(tokyo, 'asset.downloaded', { asset: 'whitepaper' });
    await h.event(newYork, 'asset.downloaded', { asset: 'whitepaper' });
    await h.settle();
    expect(h.mailTo('haruto@tokyo.example')).toHaveLength(0);

    await h.advance(5 * DAY);
    await h.settle();
    const sentAt = async (leadId: string) =>
      (await h.db.pool.query(`SELECT created_at FROM email_sends WHERE lead_id = $1 AND template = 'welcome'`, [leadId])).rows[0].created_at as Date;
    // Each lead's window opens at 09:00 plus its own offset (under the campaign's 30-minute spread).
    const offset = (leadId: string) => windowOffsetMs(nurture.sendWindow, leadId);
    // Tokyo: Saturday, Sunday and the holiday Monday are skipped → Tuesday 09:00 JST (+ offset).
    const tokyoSend = DateTime.fromJSDate(await sentAt(tokyo), { zone: 'Asia/Tokyo' });
    const tuesdayOpening = DateTime.fromISO(secondMonday.plus({ days: 1 }).toFormat("yyyy-MM-dd'T'09:00"), { zone: 'Asia/Tokyo' });
    // (Within a second: the wake-up timer fires a few milliseconds after its instant.)
    expect(Math.abs(tokyoSend.toMillis() - (tuesdayOpening.toMillis() + offset(tokyo)))).toBeLessThan(1_000);
    // New York: Friday 19:00 JST is Friday 05:00 there → the campaign's holiday calendar (JP) also
    // applies, so Friday 09:00 New York time (+ offset) is the next opening.
    const newYorkSend = DateTime.fromJSDate(await sentAt(newYork), { zone: 'America/New_York' });
    expect(newYorkSend.minus(offset(newYork)).toFormat('ccc HH:mm')).toBe('Fri 09:00');
    expect(offset(tokyo)).not.toBe(offset(newYork)); // two leads, two instants
    // One welcome each, and nothing sent outside the window (the New York lead's reminder three
    // days later lands on Tuesday 09:00 too, after the Japanese holiday).
    expect(h.mailTo('haruto@tokyo.example')).toHaveLength(1);
    const { rows } = await h.db.pool.query(`SELECT template, created_at FROM email_sends WHERE lead_id = ANY($1) ORDER BY created_at`, [[tokyo, newYork]]);
    expect(rows.filter((row) => row.template === 'welcome')).toHaveLength(2);
    for (const row of rows) {
      const local = DateTime.fromJSDate(row.created_at, { zone: row.template === 'welcome' && row.created_at.getTime() === (await sentAt(tokyo)).getTime() ? 'Asia/Tokyo' : 'America/New_York' });
      expect(local.hour).toBeGreaterThanOrEqual(9);
      expect(local.hour).toBeLessThan(18);
    }
  });
});

// Last: after every scenario above has run.
it('replays every history it produced (and records them as golden histories on request)', async () => {
  expect(await h.checkHistories('safety')).toEqual([]);
});
