// The interpreter, concept by concept and through the two reference scenarios.
import { describe, expect, it } from 'vitest';
import { describeState, initialState, step, stepInPlace, validateCampaign, type Command, type EnrolmentState, type Input } from '../../campaign';
import { loadCampaign, DAY, HOUR, lead, TUESDAY_10_JST } from './support';

const demo = loadCampaign('saas-whitepaper-nurture');
const seed002 = loadCampaign('hot-lead-seed002');

function run(state: EnrolmentState, input: Input, now: number, campaign = demo): Command[] {
  return stepInPlace(campaign, state, input, now);
}
const sends = (commands: Command[]) => commands.filter((c) => c.type === 'send') as Extract<Command, { type: 'send' }>[];
const event = (id: string, type: string, at: number, data: Record<string, unknown> = {}, machine = false): Input => ({
  type: 'event',
  event: { id, type, at, data, machine },
});

describe('start and track', () => {
  it('sends the first step at once inside the window and asks to wake after the wait', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    const commands = run(s, { type: 'start' }, TUESDAY_10_JST);
    expect(sends(commands).map((c) => [c.template, c.sendKey])).toEqual([['welcome', 'tracks.cold[0]#1']]);
    expect(commands.at(-1)).toEqual({ type: 'wake_at', at: TUESDAY_10_JST + 3 * DAY }); // the click wait times out
  });

  it('waits for the window: Saturday evening → Monday 09:00 in the lead time zone', () => {
    const saturday = Date.parse('2026-11-28T10:00:00Z'); // 19:00 JST
    const s = initialState(demo, lead(), saturday);
    const commands = run(s, { type: 'start' }, saturday);
    expect(sends(commands)).toEqual([]);
    expect(commands.at(-1)).toEqual({ type: 'wake_at', at: Date.parse('2026-11-30T00:00:00Z') });
    expect(sends(run(s, { type: 'wake' }, Date.parse('2026-11-30T00:00:00Z')))).toHaveLength(1);
  });

  it('wait_for takes the then-branch on a matching human event, the else-branch on timeout', () => {
    const clicked = initialState(demo, lead(), TUESDAY_10_JST);
    run(clicked, { type: 'start' }, TUESDAY_10_JST); // welcome sent; now waiting up to 3 days for a click
    const click = run(clicked, event('c1', 'email.clicked', TUESDAY_10_JST + HOUR, { template: 'welcome' }), TUESDAY_10_JST + HOUR);
    expect(sends(click)).toEqual([]); // the then-branch starts with a 2-day wait
    expect(click.at(-1)).toEqual({ type: 'wake_at', at: TUESDAY_10_JST + HOUR + 2 * DAY });
    expect(sends(run(clicked, { type: 'wake' }, TUESDAY_10_JST + HOUR + 2 * DAY)).map((x) => x.template)).toEqual(['case-study']);

    const silent = initialState(demo, lead({ id: 'lead-2' }), TUESDAY_10_JST);
    run(silent, { type: 'start' }, TUESDAY_10_JST);
    const machine = run(silent, event('m1', 'email.clicked', TUESDAY_10_JST + HOUR, {}, true), TUESDAY_10_JST + HOUR);
    expect(machine.at(-1)).toEqual({ type: 'wake_at', at: TUESDAY_10_JST + 3 * DAY }); // a scanner click does not count
    expect(sends(run(silent, { type: 'wake' }, TUESDAY_10_JST + 3 * DAY)).map((x) => x.template)).toEqual(['reminder']);
  });

  it('an event after the wait_for timeout does not count, even before the wake-up is handled', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST); // waiting up to 3 days for a click
    const late = TUESDAY_10_JST + 3 * DAY + HOUR;
    const click = run(s, event('late', 'email.clicked', late, { template: 'welcome' }), late);
    expect(click.at(-1)).toEqual({ type: 'wake_at', at: late }); // the timeout is due now
    expect(sends(run(s, { type: 'wake' }, late)).map((c) => c.template)).toEqual(['reminder']);
  });

  it('a duplicate event changes nothing', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST);
    const e = event('dup', 'page.viewed', TUESDAY_10_JST + HOUR, { page: 'pricing' });
    run(s, e, TUESDAY_10_JST + HOUR);
    const before = JSON.stringify(s);
    expect(run(s, e, TUESDAY_10_JST + HOUR).filter((c) => c.type !== 'wake_at')).toEqual([]);
    expect(JSON.stringify({ ...s, nextWake: undefined })).toBe(JSON.stringify({ ...JSON.parse(before), nextWake: undefined }));
  });

  it('the pure step leaves its input untouched and agrees with the in-place step', () => {
    const a = initialState(demo, lead(), TUESDAY_10_JST);
    const frozen = JSON.stringify(a);
    const pure = step(demo, a, { type: 'start' }, TUESDAY_10_JST);
    expect(JSON.stringify(a)).toBe(frozen);
    const b = initialState(demo, lead(), TUESDAY_10_JST);
    expect(run(b, { type: 'start' }, TUESDAY_10_JST)).toEqual(pure.commands);
    expect(b).toEqual(pure.state);
  });
});

describe('scoring and stages', () => {
  it('scores fit and behaviour, and the score is the sum of its breakdown', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST);
    run(s, event('d', 'asset.downloaded', TUESDAY_10_JST, { asset: 'whitepaper' }), TUESDAY_10_JST);
    const view = describeState(demo, s, TUESDAY_10_JST);
    expect(view.breakdown).toEqual([
      { label: 'company 100+ employees', points: 15 },
      { label: 'decision-maker role', points: 20 },
      { label: 'content downloads', points: 10 },
    ]);
    expect(view.score).toBe(45);
  });

  it('behaviour points decay by half-life', () => {
    const s = initialState(demo, lead({ attributes: {} }), TUESDAY_10_JST);
    run(s, event('d', 'asset.downloaded', TUESDAY_10_JST), TUESDAY_10_JST);
    expect(describeState(demo, s, TUESDAY_10_JST + 30 * DAY).score).toBe(5);
    expect(describeState(demo, s, TUESDAY_10_JST + 60 * DAY).score).toBe(2.5);
  });

  it('per-rule caps hold (opens count at most 10 points)', () => {
    const s = initialState(demo, lead({ attributes: {} }), TUESDAY_10_JST);
    for (let i = 0; i < 30; i++) run(s, event(`o${i}`, 'email.opened', TUESDAY_10_JST), TUESDAY_10_JST);
    expect(describeState(demo, s, TUESDAY_10_JST).score).toBe(10);
  });

  it('moves up at a threshold but not back down until below threshold − hysteresis', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST); // fit 35
    run(s, { type: 'start' }, TUESDAY_10_JST);
    const up = run(s, event('p', 'page.viewed', TUESDAY_10_JST, { page: 'pricing' }), TUESDAY_10_JST); // 50
    expect(up).toContainEqual({ type: 'stage_changed', from: 'cold', to: 'warm', score: 50 });
    const dip = run(s, event('c', 'page.viewed', TUESDAY_10_JST, { page: 'careers' }), TUESDAY_10_JST); // 45: inside the margin
    expect(dip.some((c) => c.type === 'stage_changed')).toBe(false);
    const down = run(s, event('c2', 'page.viewed', TUESDAY_10_JST, { page: 'careers' }), TUESDAY_10_JST); // 40 < 45
    expect(down).toContainEqual({ type: 'stage_changed', from: 'warm', to: 'cold', score: 40 });
  });
});

describe('triggers and caps', () => {
  it('fires a trigger email on its event, honours its cooldown, and keeps the track position', () => {
    const s = initialState(demo, lead({ attributes: {} }), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST);
    const first = run(s, event('w1', 'webinar.attended', TUESDAY_10_JST + HOUR), TUESDAY_10_JST + HOUR);
    expect(sends(first).map((c) => [c.kind, c.template])).toEqual([['trigger', 'webinar-followup']]);
    const again = run(s, event('w2', 'webinar.attended', TUESDAY_10_JST + 2 * DAY), TUESDAY_10_JST + 2 * DAY);
    expect(sends(again)).toEqual([]); // cooldown 7d
    expect(describeState(demo, s, TUESDAY_10_JST + 2 * DAY).currentStep).toBe('tracks.cold[1]');
  });

  it('never exceeds the frequency cap: the fourth email in 7 days waits', () => {
    const capped = loadCampaign('saas-whitepaper-nurture', (t) => t.replace('frequency_cap: { max: 3, per: 7d }', 'frequency_cap: { max: 1, per: 7d }'));
    const s = initialState(capped, lead({ attributes: {} }), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST, capped);
    const trigger = run(s, event('w1', 'webinar.attended', TUESDAY_10_JST + HOUR), TUESDAY_10_JST + HOUR, capped);
    expect(sends(trigger)).toEqual([]);
    expect(trigger.at(-1)).toEqual({ type: 'wake_at', at: TUESDAY_10_JST + 3 * DAY }); // the track's wait comes first
  });
});

describe('consent, pause, exit', () => {
  it('sends nothing without consent', () => {
    const s = initialState(demo, lead({ consent: {} }), TUESDAY_10_JST);
    expect(sends(run(s, { type: 'start' }, TUESDAY_10_JST))).toEqual([]);
  });

  it('pausing holds the track; resuming continues it', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    run(s, { type: 'pause' }, TUESDAY_10_JST);
    expect(sends(run(s, { type: 'start' }, TUESDAY_10_JST))).toEqual([]);
    expect(sends(run(s, { type: 'resume' }, TUESDAY_10_JST + HOUR)).map((c) => c.template)).toEqual(['welcome']);
  });

  it('unsubscribing exits, and exit is final', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST);
    expect(run(s, event('u', 'unsubscribed', TUESDAY_10_JST + HOUR), TUESDAY_10_JST + HOUR)).toEqual([{ type: 'exit', reason: 'unsubscribed' }]);
    expect(run(s, { type: 'wake' }, TUESDAY_10_JST + 10 * DAY)).toEqual([]);
    expect(run(s, event('p', 'page.viewed', TUESDAY_10_JST + 10 * DAY, { page: 'pricing' }), TUESDAY_10_JST + 10 * DAY)).toEqual([]);
  });
});

describe('seed 004: whitepaper → pricing → hot → sales', () => {
  it('hands off once qualified, reminds before and escalates after the SLA, recycles on "not ready"', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST);
    run(s, event('d', 'asset.downloaded', TUESDAY_10_JST, { asset: 'whitepaper' }), TUESDAY_10_JST); // 45
    run(s, event('o', 'email.opened', TUESDAY_10_JST + HOUR, { template: 'welcome' }), TUESDAY_10_JST + HOUR);
    run(s, event('c', 'email.clicked', TUESDAY_10_JST + HOUR, { template: 'welcome' }), TUESDAY_10_JST + HOUR); // 51 warm
    run(s, event('p1', 'page.viewed', TUESDAY_10_JST + 2 * HOUR, { page: 'pricing' }), TUESDAY_10_JST + 2 * HOUR);
    const hot = run(s, event('p2', 'page.viewed', TUESDAY_10_JST + 2 * HOUR, { page: 'pricing' }), TUESDAY_10_JST + 2 * HOUR); // 81
    const handoff = hot.find((c) => c.type === 'handoff');
    expect(handoff).toMatchObject({ handoffKey: 'handoff-1', score: 81, reasons: ['score >= 75', 'lead.company.employees >= 100', expect.stringContaining('pricing')] });
    // 1 business day = 9 working hours from Tuesday 12:00 JST → Wednesday 12:00 JST.
    expect((handoff as { firstContactDue: number }).firstContactDue).toBe(Date.parse('2026-11-25T03:00:00Z'));
    expect(hot.at(-1)).toEqual({ type: 'wake_at', at: Date.parse('2026-11-25T01:00:00Z') }); // reminder 2h before

    expect(run(s, { type: 'wake' }, Date.parse('2026-11-25T01:00:00Z'))).toContainEqual({ type: 'sales_reminder', handoffKey: 'handoff-1', due: Date.parse('2026-11-25T03:00:00Z') });
    expect(run(s, { type: 'wake' }, Date.parse('2026-11-25T03:00:00Z'))).toContainEqual({
      type: 'sales_escalation',
      handoffKey: 'handoff-1',
      due: Date.parse('2026-11-25T03:00:00Z'),
      escalateTo: 'manager',
    });

    const answered = Date.parse('2026-11-25T05:00:00Z');
    run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'not_ready' }, answered);
    run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'not_ready' }, answered + DAY); // repeated: changes nothing
    expect(sends(run(s, { type: 'wake' }, answered + 10 * DAY))).toEqual([]); // cooling down
    const recycled = run(s, { type: 'wake' }, answered + 30 * DAY);
    expect(describeState(demo, s, answered + 30 * DAY)).toMatchObject({ stage: 'warm', score: 50, handoff: null });
    expect(sends(recycled).map((c) => c.template)).toEqual(['case-study']);
  });
});

describe('marketing held while sales has the lead', () => {
  it('a trigger event while the handoff is accepted is dropped, not sent after a later recycle', () => {
    const s = initialState(demo, lead(), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST);
    run(s, event('w', 'webinar.attended', TUESDAY_10_JST, {}), TUESDAY_10_JST); // 55 warm (+ follow-up sent)
    run(s, event('d', 'asset.downloaded', TUESDAY_10_JST, { asset: 'whitepaper' }), TUESDAY_10_JST);
    const hot = run(s, event('p', 'page.viewed', TUESDAY_10_JST + HOUR, { page: 'pricing' }), TUESDAY_10_JST + HOUR); // 80
    expect(hot.some((c) => c.type === 'handoff')).toBe(true);
    run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'accepted' }, TUESDAY_10_JST + 2 * HOUR);
    const later = TUESDAY_10_JST + 14 * DAY; // past the follow-up's 7-day cooldown; the recycle lands on a Thursday
    expect(sends(run(s, event('w2', 'webinar.attended', later), later))).toEqual([]);
    run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'not_ready' }, later + HOUR);
    const recycled = run(s, { type: 'wake' }, later + HOUR + 30 * DAY);
    expect(sends(recycled).map((c) => c.kind)).toEqual(['step']);
  });
});

describe('seed 002: hot-lead conditions', () => {
  const seedLead = (attributes: Record<string, unknown>) =>
    lead({ attributes: { company: { employees: 300 }, role: 'director', authority: true, timeline_months: 2, ...attributes } });

  function qualifiesAfterActivity(attributes: Record<string, unknown>) {
    const s = initialState(seed002, seedLead(attributes), TUESDAY_10_JST);
    const all = [...run(s, { type: 'start' }, TUESDAY_10_JST, seed002)];
    all.push(...run(s, event('b', 'asset.downloaded', TUESDAY_10_JST, { asset: 'product-brochure' }), TUESDAY_10_JST, seed002));
    for (let i = 0; i < 3; i++) all.push(...run(s, event(`v${i}`, 'page.viewed', TUESDAY_10_JST + i * HOUR, { section: 'product' }), TUESDAY_10_JST + i * HOUR, seed002));
    return all.find((c) => c.type === 'handoff') as Extract<Command, { type: 'handoff' }> | undefined;
  }

  it('a decision-maker of a large company with a near timeline and recent product interest is handed off', () => {
    const handoff = qualifiesAfterActivity({});
    expect(handoff).toBeDefined();
    expect(handoff!.score).toBeGreaterThanOrEqual(70);
    // Qualified at the second product page view (Tuesday 11:00 JST); 3 business days of
    // 9 working hours later is Friday 11:00 JST.
    expect(handoff!.firstContactDue).toBe(Date.parse('2026-11-27T02:00:00Z'));
  });

  it.each([
    ['a company under 100 employees', { company: { employees: 40 } }],
    ['no decision authority', { authority: false }],
    ['adoption beyond 3 months', { timeline_months: 9 }],
  ])('is not handed off with %s', (_name, attributes) => {
    expect(qualifiesAfterActivity(attributes)).toBeUndefined();
  });

  it('product material requested more than two weeks ago does not qualify; a fresh request does', () => {
    const before = TUESDAY_10_JST - 20 * DAY;
    const s = initialState(seed002, seedLead({}), before);
    const all = [...run(s, { type: 'start' }, before, seed002)];
    all.push(...run(s, event('old', 'asset.downloaded', before, { asset: 'product-brochure' }), before, seed002));
    for (let i = 0; i < 3; i++) all.push(...run(s, event(`v${i}`, 'page.viewed', TUESDAY_10_JST, { section: 'product' }), TUESDAY_10_JST, seed002));
    expect(describeState(seed002, s, TUESDAY_10_JST).score).toBeGreaterThanOrEqual(70); // the old request still scores (60-day expiry)
    expect(all.some((c) => c.type === 'handoff')).toBe(false);
    const fresh = run(s, event('new', 'asset.downloaded', TUESDAY_10_JST + HOUR, { asset: 'product-brochure' }), TUESDAY_10_JST + HOUR, seed002);
    expect(fresh.some((c) => c.type === 'handoff')).toBe(true);
  });

  it('once sales accepts, marketing email stops; a conversion ends the enrolment', () => {
    const s = initialState(seed002, seedLead({}), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST, seed002);
    run(s, event('b', 'asset.downloaded', TUESDAY_10_JST, { asset: 'product-brochure' }), TUESDAY_10_JST, seed002);
    for (let i = 0; i < 3; i++) run(s, event(`v${i}`, 'page.viewed', TUESDAY_10_JST, { section: 'product' }), TUESDAY_10_JST, seed002);
    run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'accepted' }, TUESDAY_10_JST + HOUR, seed002);
    const quiet: Command[] = [];
    for (let day = 1; day <= 20; day++) {
      const now = TUESDAY_10_JST + day * DAY;
      quiet.push(...run(s, event(`p${day}`, 'page.viewed', now, { section: 'product' }), now, seed002), ...run(s, { type: 'wake' }, now, seed002));
    }
    expect(sends(quiet)).toEqual([]);
    expect(run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'converted' }, TUESDAY_10_JST + 21 * DAY, seed002)).toEqual([{ type: 'exit', reason: 'converted' }]);
    expect(describeState(seed002, s, TUESDAY_10_JST + 21 * DAY)).toMatchObject({ exited: true, exitReason: 'converted' });
  });

  it('the outcome is due 48 h after acceptance, then escalated', () => {
    const s = initialState(seed002, seedLead({}), TUESDAY_10_JST);
    run(s, { type: 'start' }, TUESDAY_10_JST, seed002);
    run(s, event('b', 'asset.downloaded', TUESDAY_10_JST, { asset: 'product-brochure' }), TUESDAY_10_JST, seed002);
    for (let i = 0; i < 3; i++) run(s, event(`v${i}`, 'page.viewed', TUESDAY_10_JST, { section: 'product' }), TUESDAY_10_JST, seed002);
    const accepted = run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'accepted' }, TUESDAY_10_JST + HOUR, seed002);
    expect(accepted.at(-1)).toEqual({ type: 'wake_at', at: TUESDAY_10_JST + HOUR + 48 * HOUR });
    expect(run(s, { type: 'wake' }, TUESDAY_10_JST + 49 * HOUR, seed002)).toContainEqual(expect.objectContaining({ type: 'sales_escalation' }));
  });
});

describe('handoffs kept by the sales desk (engine version 3)', () => {
  const seedLead = () => lead({ attributes: { company: { employees: 300 }, role: 'director', authority: true, timeline_months: 2, region: 'Kansai' } });

  function handedOff() {
    const s = initialState(seed002, seedLead(), TUESDAY_10_JST, { salesDesk: true });
    const all = [...run(s, { type: 'start' }, TUESDAY_10_JST, seed002)];
    all.push(...run(s, event('b', 'asset.downloaded', TUESDAY_10_JST, { asset: 'product-brochure' }), TUESDAY_10_JST, seed002));
    for (let i = 0; i < 3; i++) all.push(...run(s, event(`v${i}`, 'page.viewed', TUESDAY_10_JST, { section: 'product' }), TUESDAY_10_JST, seed002));
    return { s, handoff: all.find((c) => c.type === 'handoff') as Extract<Command, { type: 'handoff' }> };
  }

  it('routes the handoff and sets no SLA timers of its own', () => {
    const { s, handoff } = handedOff();
    expect(handoff.route).toEqual({ pool: 'sales-japan', match: {}, rule: 'default' });
    const later = [...run(s, { type: 'wake' }, TUESDAY_10_JST + 10 * DAY, seed002)];
    expect(later.filter((c) => c.type === 'sales_reminder' || c.type === 'sales_escalation')).toEqual([]);
    run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'accepted' }, TUESDAY_10_JST + 10 * DAY, seed002);
    expect(run(s, { type: 'wake' }, TUESDAY_10_JST + 20 * DAY, seed002).filter((c) => c.type === 'sales_escalation')).toEqual([]);
  });

  it("recycles a not-ready lead on the rep's date when they give one", () => {
    const { s } = handedOff();
    const recycleAt = TUESDAY_10_JST + 45 * DAY;
    const answered = run(s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'not_ready', recycleAt }, TUESDAY_10_JST + HOUR, seed002);
    expect(answered.at(-1)).toEqual({ type: 'wake_at', at: recycleAt });
  });
});

describe('goto a stage', () => {
  const result = validateCampaign({
    id: 'jump',
    name: 'Jump to hot',
    from: { email: 'a@b.example' },
    entry: { on: 'form.submitted' },
    consent: 'marketing_email',
    scoring: { behaviour: [{ on: 'page.viewed', points: 1 }] },
    stages: { warm: 50, hot: 80, hysteresis: 5 },
    tracks: {
      cold: [{ email: { template: 'welcome', subject: 'Hi' } }, { goto: { stage: 'hot' } }],
      hot: [{ email: { template: 'demo-invite', subject: 'Demo?' } }, { wait: '30d' }],
    },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const jump = result.campaign;

  it('moves the lead for good: its score is set to the stage threshold, and it is not moved straight back', () => {
    const s = initialState(jump, lead({ attributes: {} }), TUESDAY_10_JST);
    const start = run(s, { type: 'start' }, TUESDAY_10_JST, jump);
    expect(sends(start).map((c) => c.template)).toEqual(['welcome', 'demo-invite']);
    expect(start).toContainEqual({ type: 'stage_changed', from: 'cold', to: 'hot', score: 80 });
    const later = run(s, event('v', 'page.viewed', TUESDAY_10_JST + DAY), TUESDAY_10_JST + DAY, jump);
    expect(later.filter((c) => c.type !== 'wake_at')).toEqual([]);
    expect(describeState(jump, s, TUESDAY_10_JST + DAY)).toMatchObject({ stage: 'hot', score: 81, waitingFor: expect.stringMatching(/^timer until /) });
  });
});
