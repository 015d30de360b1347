// The paths production walks, on the real engine (time-skipping server, real worker, mailer,
// PostgreSQL and SMTP): a lead who enters a campaign again is mailed again and gets a fresh
// handoff that the earlier notice's links cannot answer; webhook receivers that refuse (401) or
// fail (500) leave every enrolment running and every notice sent; a handoff to a pool nobody can
// take waits unassigned and alerts the operator; a campaign paused right after a batch of
// enrolments sends nothing further, even to enrolments whose workflow had not started; emails
// decided together are requested at the instant of the decision.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Campaign } from '../../campaign';
import { setCampaignStatus } from '../../db/campaigns';
import { DAY, HOUR, loadCampaign, startHarness, type Harness } from './harness';

const OPERATOR = 'ops@acme.example';

/** An HTTP receiver that answers every webhook with `status` and counts the posts. */
async function receiver(status: number): Promise<{ url: string; posts: () => number; close: () => Promise<void> }> {
  let posts = 0;
  const server: Server = createServer((request, response) => {
    posts++;
    request.resume();
    response.statusCode = status;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=secret`,
    posts: () => posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The reference lead's way to hot: whitepaper, open and click, two pricing views. */
async function qualify(h: Harness, leadId: string) {
  await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
  await h.settle();
  await h.advance(2 * HOUR);
  await h.event(leadId, 'email.opened', { template: 'welcome' });
  await h.event(leadId, 'email.clicked', { template: 'welcome', url: 'https://acme.example/guide' });
  await h.settle();
  await h.advance(HOUR);
  await h.event(leadId, 'page.viewed', { page: 'pricing', path: '/pricing' });
  await h.event(leadId, 'page.viewed', { page: 'pricing', path: '/pricing' });
  await h.settle();
}

async function enrolments(h: Harness, leadId: string) {
  const { rows } = await h.db.pool.query(
    'SELECT id, workflow_id, status, exit_reason, ended_at IS NOT NULL AS ended FROM enrolments WHERE lead_id = $1 ORDER BY id',
    [leadId],
  );
  return rows;
}

async function handoffsOf(h: Harness, leadId: string) {
  const { rows } = await h.db.pool.query<{ id: string; owner_id: string | null; unassigned_reason: string | null }>(
    'SELECT id, owner_id, unassigned_reason FROM handoffs WHERE lead_id = $1 ORDER BY created_at',
    [leadId],
  );
  return rows;
}

async function timeline(h: Harness, handoffId: string): Promise<string[]> {
  const { rows } = await h.db.pool.query<{ kind: string }>('SELECT kind FROM handoff_events WHERE handoff_id = $1 ORDER BY id', [handoffId]);
  return rows.map((row) => row.kind);
}

describe('a lead who enters again', () => {
  let h: Harness;
  let nurture: Campaign;
  beforeAll(async () => {
    h = await startHarness();
    nurture = loadCampaign('saas-whitepaper-nurture');
    await h.launch(nurture);
  });
  afterAll(async () => h?.close());

  it('is mailed again and gets a fresh handoff; the earlier notice cannot answer it', async () => {
    await h.startAtCanonicalInstant(nurture);
    const address = 'mika.again@initech.example';
    const leadId = await h.addLead(address, { first_name: 'Mika', company: { name: 'Initech', employees: 250 }, role: 'manager', region: 'kanto' });
    await qualify(h, leadId);
    const firstRun = h.mailTo(address).length;
    expect(firstRun).toBeGreaterThanOrEqual(3);
    const [first] = await handoffsOf(h, leadId);
    expect(first!.id).toMatch(/^enrolment-\d+-handoff-1$/); // URL-safe: it is pasted into /v1/handoffs/<id>/response
    await h.waitForMail((m) => m.subject.startsWith('New manager lead: Mika'));

    const [running] = await enrolments(h, leadId);
    await h.engine.exitEnrolment(running.workflow_id, 'test: left the campaign');
    await h.settle();
    await vi.waitFor(async () => expect((await enrolments(h, leadId))[0]).toMatchObject({ ended: true, exit_reason: 'test: left the campaign' }));

    // The campaign lets a lead back in after 90 days.
    await h.advance(91 * DAY);
    await h.startAtCanonicalInstant(nurture);
    await qualify(h, leadId);
    const rows = await enrolments(h, leadId);
    expect(rows).toHaveLength(2);
    expect(rows[1].workflow_id).toBe(rows[0].workflow_id); // the same workflow id, a new enrolment
    expect(rows[1].ended).toBe(false);
    await vi.waitFor(() => expect(h.mailTo(address).length).toBeGreaterThanOrEqual(2 * firstRun), { timeout: 20_000 });
    const ids = h.mailTo(address).map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length); // no email twice, each a new one

    const handoffs = await handoffsOf(h, leadId);
    expect(handoffs).toHaveLength(2);
    expect(handoffs[1]!.id).not.toBe(handoffs[0]!.id);
    expect(handoffs[1]!.id).toBe(`enrolment-${rows[1].id}-handoff-1`);
    // Both notices went out (one per handoff); the second may still be on its way to SMTP.
    await vi.waitFor(async () => {
      const { rows: notices } = await h.db.pool.query(
        `SELECT count(*)::int AS n FROM email_sends WHERE lead_id = $1 AND kind = 'sales_notice' AND status = 'sent'`,
        [leadId],
      );
      expect(notices[0].n).toBe(2);
    }, { timeout: 20_000 });
    // The first notice's answer links name the first handoff, which belongs to an ended enrolment.
    await expect(h.engine.salesResponse(handoffs[0]!.id, 'accepted')).rejects.toThrow(/ended|no handoff/);
    await h.engine.salesResponse(handoffs[1]!.id, 'accepted');
    await h.settle();
    const { rows: answered } = await h.db.pool.query('SELECT id, status FROM handoffs WHERE lead_id = $1 ORDER BY created_at', [leadId]);
    expect(answered.map((row) => row.status)).toEqual(['pending', 'accepted']);
    expect(await h.checkHistories('reentry')).toEqual([]);
  });
});

describe('webhook receivers that refuse or fail', () => {
  for (const status of [401, 500]) {
    describe(`answering ${status}`, () => {
      let h: Harness;
      let nurture: Campaign;
      let hook: Awaited<ReturnType<typeof receiver>>;
      beforeAll(async () => {
        hook = await receiver(status);
        h = await startHarness({ config: { webhookUrl: hook.url } });
        nurture = loadCampaign('saas-whitepaper-nurture');
        await h.launch(nurture);
      });
      afterAll(async () => {
        await h?.close();
        await hook?.close();
      });

      it('leave every enrolment running and every notice sent; the failure is on the handoff timeline', async () => {
        await h.startAtCanonicalInstant(nurture);
        const leads = await Promise.all(
          [1, 2, 3].map((n) =>
            h.addLead(`lead${n}.hook${status}@initech.example`, { first_name: `Lead${n}`, company: { name: 'Initech', employees: 250 }, role: 'manager', region: 'kanto' }),
          ),
        );
        for (const leadId of leads) await qualify(h, leadId);
        // 401 is not retried; 500 is retried (about 20 minutes of backoff) and then given up.
        await h.advance(2 * HOUR);
        await h.settle();
        for (const leadId of leads) {
          const [row] = await enrolments(h, leadId);
          expect(row).toMatchObject({ ended: false, status: 'handed_off' });
          const [handoff] = await handoffsOf(h, leadId);
          await vi.waitFor(async () => expect(await timeline(h, handoff!.id)).toEqual(['assigned', 'notice_sent', 'webhook_failed']), { timeout: 20_000 });
          const state = (await h.engine.enrolmentState(row.workflow_id)) as { exited: boolean };
          expect(state.exited).toBe(false);
        }
        expect(hook.posts()).toBe(status === 401 ? 3 : 3 * 8);
        const { rows: notices } = await h.db.pool.query(`SELECT count(*)::int AS n FROM email_sends WHERE kind = 'sales_notice' AND status = 'sent'`);
        expect(notices[0].n).toBe(3);
        const { rows: failed } = await h.db.pool.query(
          `SELECT detail FROM handoff_events WHERE kind = 'webhook_failed' LIMIT 1`,
        );
        expect(failed[0].detail.error).toContain(String(status));
        expect(failed[0].detail.error).not.toContain('secret'); // the URL's token stays out of histories
        // The lead goes on: an answer is still taken.
        const [handoff] = await handoffsOf(h, leads[0]!);
        await h.engine.salesResponse(handoff!.id, 'accepted');
        expect(await h.checkHistories(`webhook-${status}`)).toEqual([]);
      });
    });
  }
});

describe('a handoff nobody can take', () => {
  let h: Harness;
  let campaign: Campaign;
  beforeAll(async () => {
    h = await startHarness({ config: { operatorEmail: OPERATOR } });
    const nurture = loadCampaign('saas-whitepaper-nurture');
    campaign = { ...nurture, handoff: { ...nurture.handoff!, assign: { ...nurture.handoff!.assign, pool: 'no-such-pool' } } };
    await h.launch(campaign);
  });
  afterAll(async () => h?.close());

  it('waits unassigned, alerts the operator, and the enrolment runs on', async () => {
    await h.startAtCanonicalInstant(campaign);
    const leadId = await h.addLead('noor.unassigned@initech.example', { first_name: 'Noor', company: { name: 'Initech', employees: 250 }, role: 'manager', region: 'kanto' });
    await qualify(h, leadId);
    const alert = await h.waitForMail((m) => m.to.includes(OPERATOR));
    expect(alert.subject).toContain('Unassigned lead: Noor');
    expect(alert.text).toContain('sales pool "no-such-pool" does not exist');
    const [handoff] = await handoffsOf(h, leadId);
    expect(handoff).toMatchObject({ owner_id: null, unassigned_reason: 'sales pool "no-such-pool" does not exist' });
    // The alert's record follows its delivery by a moment (the mailer reports it to the workflow).
    await vi.waitFor(async () => expect(await timeline(h, handoff!.id)).toEqual(['unassigned', 'alert_sent']), { timeout: 10_000 });
    // The enrolment records its handoff beside the alert: either may come first.
    await vi.waitFor(async () => expect((await enrolments(h, leadId))[0]).toMatchObject({ ended: false, status: 'handed_off' }), { timeout: 10_000 });
    // Someone answers for the team: the workflow takes it.
    await h.engine.salesResponse(handoff!.id, 'accepted');
    await h.settle();
    const { rows } = await h.db.pool.query('SELECT status FROM handoffs WHERE id = $1', [handoff!.id]);
    expect(rows[0].status).toBe('accepted');
  });
});

describe('a campaign paused right after a batch of enrolments', () => {
  let h: Harness;
  let nurture: Campaign;
  beforeAll(async () => {
    h = await startHarness();
    nurture = loadCampaign('saas-whitepaper-nurture');
    await h.launch(nurture);
  });
  afterAll(async () => h?.close());

  it('sends nothing further, even to enrolments whose workflow had not started; resuming carries on', async () => {
    await h.startAtCanonicalInstant(nurture);
    const leads = await Promise.all(
      Array.from({ length: 20 }, (_, n) => h.addLead(`lead${n}.paused@initech.example`, { first_name: `P${n}`, company: { name: 'Initech', employees: 40 }, role: 'engineer' })),
    );
    // Each enrolment writes its row and starts its workflow; 5 ms into that, the campaign is paused.
    const enrolled = Promise.all(leads.map((leadId) => h.engine.enrol(nurture.id, leadId)));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const statusSeq = (await setCampaignStatus(h.db.pool, nurture.id, 'paused'))!;
    const pausedAt = h.sink.messages.length;
    await enrolled;
    const fanOut = await h.engine.campaignStatusChanged(nurture.id, 'paused', statusSeq);
    await h.settle();
    await h.advance(10 * DAY);
    await h.settle();
    expect(h.sink.messages.length).toBe(pausedAt);
    await vi.waitFor(async () => {
      const { rows } = await h.db.pool.query(`SELECT status, count(*)::int AS n FROM enrolments WHERE campaign_id = $1 GROUP BY status`, [nurture.id]);
      expect(rows).toEqual([{ status: 'paused', n: 20 }]);
    });
    const { rows: progress } = await h.db.pool.query('SELECT finished_at IS NOT NULL AS finished FROM campaign_fanouts WHERE id = $1', [fanOut.id]);
    expect(progress[0].finished).toBe(true);

    const resumeSeq = (await setCampaignStatus(h.db.pool, nurture.id, 'active'))!;
    await h.engine.campaignStatusChanged(nurture.id, 'active', resumeSeq);
    await h.settle();
    await h.startAtCanonicalInstant(nurture);
    await h.advance(HOUR);
    await h.settle();
    await vi.waitFor(() => expect(h.sink.messages.length).toBeGreaterThan(pausedAt), { timeout: 20_000 });
    expect(await h.checkHistories('pause-resume')).toEqual([]);
  });
});

describe('a send held by the frequency cap', () => {
  let h: Harness;
  let campaign: Campaign;
  beforeAll(async () => {
    h = await startHarness();
    campaign = loadCampaign('saas-whitepaper-nurture', (text) => text.replace('frequency_cap: { max: 3, per: 7d }', 'frequency_cap: { max: 1, per: 7d }'));
    await h.launch(campaign);
  });
  afterAll(async () => h?.close());

  it('goes once the cap allows; the lead’s events are taken meanwhile', async () => {
    await h.startAtCanonicalInstant(campaign);
    const address = 'rin.capped@initech.example';
    const leadId = await h.addLead(address, { first_name: 'Rin', company: { name: 'Initech', employees: 40 }, role: 'engineer' });
    await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
    await vi.waitFor(() => expect(h.mailTo(address)).toHaveLength(1), { timeout: 20_000 });
    await h.advance(HOUR);
    await h.event(leadId, 'webinar.attended', {});
    await h.settle();
    expect(h.mailTo(address)).toHaveLength(1); // the follow-up waits for the cap
    const [row] = await enrolments(h, leadId);
    expect(((await h.engine.enrolmentState(row.workflow_id)) as { score: number }).score).toBe(30); // download 10 + webinar 20
    await h.advance(7 * DAY + 2 * HOUR);
    await h.settle();
    // One email per 7 days: the next one (the reminder or the follow-up, whichever is first) goes
    // when the week has passed, not before.
    await vi.waitFor(() => expect(h.mailTo(address)).toHaveLength(2), { timeout: 20_000 });
    const { rows } = await h.db.pool.query<{ created_at: Date }>(`SELECT created_at FROM email_sends WHERE lead_id = $1 AND status = 'sent' ORDER BY created_at`, [leadId]);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.created_at.getTime() - rows[0]!.created_at.getTime()).toBeGreaterThanOrEqual(7 * DAY);
    expect(await h.checkHistories('cap-and-window')).toEqual([]);
  });
});

describe('emails one decision sends', () => {
  let h: Harness;
  let campaign: Campaign;
  beforeAll(async () => {
    h = await startHarness();
    campaign = loadCampaign('saas-whitepaper-nurture');
    await h.launch(campaign);
  });
  afterAll(async () => h?.close());

  // The workflow counts the frequency cap at the instant it decides; the database checks it again
  // at the instant each email is requested. Were the second email requested once the first one's
  // activity had finished, a week later the two would disagree about whether it still counts.
  it('are requested at the instant of the decision, the one the workflow counts the cap at', async () => {
    await h.startAtCanonicalInstant(campaign);
    const address = 'mai.director@globex.example';
    const leadId = await h.addLead(address, { first_name: 'Mai', company: { name: 'Globex', employees: 500 }, role: 'director' });
    await h.event(leadId, 'asset.downloaded', { asset: 'whitepaper' });
    await vi.waitFor(() => expect(h.mailTo(address)).toHaveLength(1), { timeout: 20_000 });
    await h.advance(HOUR);
    // Fit 35 + download 10 + pricing 15: warm, so the warm track's first email and the pricing trigger's, together.
    await h.event(leadId, 'page.viewed', { page: 'pricing', path: '/pricing' });
    await h.settle();
    await vi.waitFor(() => expect(h.mailTo(address)).toHaveLength(3), { timeout: 20_000 });
    const { rows } = await h.db.pool.query<{ template: string; created_at: Date }>(
      `SELECT template, created_at FROM email_sends WHERE lead_id = $1 AND template <> 'welcome' ORDER BY template`,
      [leadId],
    );
    expect(rows.map((row) => row.template)).toEqual(['case-study', 'demo-invite']);
    expect(rows[1]!.created_at.getTime()).toBe(rows[0]!.created_at.getTime());
    expect(await h.checkHistories('one-decision')).toEqual([]);
  });
});
