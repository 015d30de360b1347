// Scoring (fit, behaviour with filters and caps, decay, maximum) and stages with hysteresis.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decayed, eventPoints, fitPoints, scoreBreakdown } from '../../campaign/scoring';
import { nextStage } from '../../campaign/stages';
import { describeState, initialState, stepInPlace, validateCampaign, type Stage } from '../../campaign';
import { loadCampaign, DAY, lead, TUESDAY_10_JST } from './support';

const demo = loadCampaign('saas-whitepaper-nurture');
const seed002 = loadCampaign('hot-lead-seed002');
const at = TUESDAY_10_JST;

describe('fit and behaviour points', () => {
  it('fit rules read the lead attributes, negative points included', () => {
    expect(fitPoints(demo, { company: { employees: 500 }, role: 'vp', email_domain: 'gmail.com' })).toEqual([
      { label: 'company 100+ employees', points: 15 },
      { label: 'decision-maker role', points: 20 },
      { label: 'free-mail address', points: -10 },
    ]);
    expect(fitPoints(demo, {})).toEqual([]);
  });

  it('behaviour rules match the event type and filter; machine events earn nothing', () => {
    const totals = {};
    expect(eventPoints(demo, { id: '1', type: 'page.viewed', at, data: { page: 'pricing' } }, {}, totals)).toEqual([{ label: 'pricing page views', points: 15, at }]);
    expect(eventPoints(demo, { id: '2', type: 'page.viewed', at, data: { page: 'careers' } }, {}, totals)).toEqual([{ label: 'careers page views', points: -5, at }]);
    expect(eventPoints(demo, { id: '3', type: 'page.viewed', at, data: { page: 'blog' } }, {}, totals)).toEqual([]);
    expect(eventPoints(demo, { id: '4', type: 'page.viewed', at, data: { page: 'pricing' }, machine: true }, {}, totals)).toEqual([]);
  });

  it('a rule cap limits its points, the last award partly', () => {
    const totals: Record<string, number> = {};
    const earned = [1, 2, 3, 4, 5, 6].flatMap((i) => eventPoints(demo, { id: `${i}`, type: 'email.clicked', at }, {}, totals));
    expect(earned.map((e) => e.points)).toEqual([5, 5, 5, 5, 5]);
    expect(totals['email clicks']).toBe(25);
  });
});

describe('decay and totals', () => {
  it('halves behaviour points every half-life; expiry drops them at once', () => {
    const item = { label: 'x', points: 16, at };
    expect(decayed(demo, item, at + 30 * DAY)).toBeCloseTo(8);
    expect(decayed(demo, item, at + 90 * DAY)).toBeCloseTo(2);
    expect(decayed(seed002, item, at + 60 * DAY)).toBe(16);
    expect(decayed(seed002, item, at + 60 * DAY + 1)).toBe(0);
  });

  it('the score is the sum of the rounded breakdown, capped at the maximum', () => {
    const parts = {
      fit: [{ label: 'fit', points: 100 }],
      behaviour: [{ label: 'b', points: 70, at }, { label: 'b', points: 10, at: at - 10 * DAY }],
      adjustments: [{ label: 'manual', points: -3, at }],
    };
    const { score, breakdown } = scoreBreakdown(demo, parts, at);
    expect(score).toBe(150);
    expect(breakdown.at(-1)!.label).toBe('capped at maximum');
    expect(Math.round(breakdown.reduce((sum, item) => sum + item.points, 0) * 10) / 10).toBe(score);
  });
});

describe('stages', () => {
  const RANK: Record<Stage, number> = { cold: 0, warm: 1, hot: 2 };
  const threshold = (stage: Stage) => (stage === 'cold' ? -Infinity : demo.stages[stage]);

  it('moves up at a threshold and down only below threshold − hysteresis', () => {
    expect(nextStage(demo, 'cold', 49.9)).toBe('cold');
    expect(nextStage(demo, 'cold', 50)).toBe('warm');
    expect(nextStage(demo, 'cold', 80)).toBe('hot');
    expect(nextStage(demo, 'hot', 70)).toBe('hot'); // 75 − 5
    expect(nextStage(demo, 'hot', 69.9)).toBe('warm');
    expect(nextStage(demo, 'hot', 10)).toBe('cold');
  });

  it('never flaps: any move is justified by the thresholds', () => {
    fc.assert(
      fc.property(fc.constantFrom<Stage>('cold', 'warm', 'hot'), fc.double({ min: -50, max: 200, noNaN: true }), (current, score) => {
        const next = nextStage(demo, current, score);
        if (RANK[next] > RANK[current]) expect(score).toBeGreaterThanOrEqual(threshold(next));
        if (RANK[next] < RANK[current]) expect(score).toBeLessThan(threshold(current) - demo.stages.hysteresis);
        // Staying put: the score did not qualify for a higher stage.
        if (next === current && current !== 'hot') expect(score).toBeLessThan(demo.stages[current === 'cold' ? 'warm' : 'hot']);
        // A stage reached is kept at the same score (no ping-pong).
        expect(nextStage(demo, next, score)).toBe(next);
      }),
      { numRuns: 500 },
    );
  });
});

describe('bounded state keeps the score exact', () => {
  const plain = validateCampaign({
    id: 'plain',
    name: 'No decay, no caps',
    from: { email: 'a@b.example' },
    entry: { on: 'form.submitted' },
    consent: 'marketing_email',
    scoring: { behaviour: [{ on: 'page.viewed', points: 2, label: 'page views' }] },
    stages: { warm: 10_000, hot: 20_000 },
    tracks: { cold: [{ wait: '1h', label: 'again' }, { score: { add: 1, reason: 'loop' } }, { goto: 'again' }] },
  });
  if (!plain.ok) throw new Error(JSON.stringify(plain.errors));
  const campaign = plain.campaign;

  it('without decay, hundreds of scoring events all still count', () => {
    const s = initialState(campaign, lead({ attributes: {} }), at);
    for (let i = 0; i < 450; i++) stepInPlace(campaign, s, { type: 'event', event: { id: `v${i}`, type: 'page.viewed', at: at + i * 60_000 } }, at + i * 60_000);
    expect(describeState(campaign, s, at + DAY).score).toBe(900);
    expect(s.behaviour.length).toBeLessThan(40);
  });

  it('a looping score step keeps one adjustment per reason', () => {
    const s = initialState(campaign, lead({ attributes: {} }), at);
    stepInPlace(campaign, s, { type: 'start' }, at);
    for (let hour = 1; hour <= 300; hour++) stepInPlace(campaign, s, { type: 'wake' }, at + hour * 3_600_000);
    expect(describeState(campaign, s, at + 300 * 3_600_000).breakdown).toEqual([{ label: 'loop', points: 300 }]);
    expect(s.adjustments).toHaveLength(1);
  });
});
