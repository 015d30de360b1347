// A/B: deterministic weighted assignment, and the two-proportion verdict.
import { describe, expect, it } from 'vitest';
import { assignVariant, evaluateAbTest } from '../../campaign';

describe('assignVariant', () => {
  const variants = [
    { key: 'A', weight: 1, subject: 'a' },
    { key: 'B', weight: 3, subject: 'b' },
  ];

  it('is a function of (campaign, step, lead)', () => {
    expect(assignVariant('c', 'tracks.cold[0]', 'lead-7', variants)).toBe(assignVariant('c', 'tracks.cold[0]', 'lead-7', variants));
  });

  it('honours the weights', () => {
    const n = 20_000;
    let b = 0;
    for (let i = 0; i < n; i++) if (assignVariant('c', 'tracks.cold[0]', `lead-${i}`, variants).key === 'B') b++;
    expect(b / n).toBeGreaterThan(0.73);
    expect(b / n).toBeLessThan(0.77);
  });

  it('assigns independently per step and per campaign', () => {
    const even = [
      { key: 'A', weight: 1 },
      { key: 'B', weight: 1 },
    ];
    const n = 10_000;
    let sameStep = 0;
    let sameCampaign = 0;
    for (let i = 0; i < n; i++) {
      const first = assignVariant('c', 'tracks.cold[0]', `lead-${i}`, even).key;
      if (assignVariant('c', 'tracks.warm[2]', `lead-${i}`, even).key === first) sameStep++;
      if (assignVariant('d', 'tracks.cold[0]', `lead-${i}`, even).key === first) sameCampaign++;
    }
    for (const same of [sameStep, sameCampaign]) {
      expect(same / n).toBeGreaterThan(0.47);
      expect(same / n).toBeLessThan(0.53);
    }
  });
});

describe('evaluateAbTest', () => {
  const stats = (aClicks: number, bClicks: number, sends = 1000) => [
    { variant: 'A', sends, opens: 300, clicks: aClicks },
    { variant: 'B', sends, opens: 300, clicks: bClicks },
  ];

  it('declares the better variant when the two-proportion z-test is significant', () => {
    // 12% vs 8% of 1000: pooled 10%, z = 0.04 / √(0.1·0.9·2/1000) ≈ 2.98, two-sided p ≈ 0.0029.
    const verdict = evaluateAbTest(stats(120, 80), { metric: 'clicks', minSample: 100, confidence: 0.95 });
    expect(verdict.winner).toBe('A');
    expect(verdict.pValue).toBeCloseTo(0.0029, 3);
    expect(verdict.rates).toEqual({ A: 0.12, B: 0.08 });
  });

  it('needs the configured confidence', () => {
    expect(evaluateAbTest(stats(120, 80), { metric: 'clicks', minSample: 100, confidence: 0.999 }).winner).toBeUndefined();
  });

  it('needs the minimum sample in every variant', () => {
    const verdict = evaluateAbTest(stats(120, 80, 150), { metric: 'clicks', minSample: 200, confidence: 0.95 });
    expect(verdict.winner).toBeUndefined();
    expect(verdict).toMatchObject({ pValue: 1, reason: 'variant A has 150 of 200 sends' });
  });

  it('tests the configured metric', () => {
    const s = [
      { variant: 'A', sends: 1000, opens: 400, clicks: 50 },
      { variant: 'B', sends: 1000, opens: 300, clicks: 50 },
    ];
    expect(evaluateAbTest(s, { metric: 'opens' }).winner).toBe('A');
    expect(evaluateAbTest(s, { metric: 'clicks' }).winner).toBeUndefined();
  });

  it('no difference, no winner', () => {
    expect(evaluateAbTest(stats(100, 100)).winner).toBeUndefined();
    expect(evaluateAbTest(stats(0, 0))).toMatchObject({ pValue: 1, reason: 'no difference measurable yet' });
  });

  it('computes the p-value without a lookup table, so very high confidence can be reached', () => {
    const s = [
      { variant: 'A', sends: 2000, opens: 900, clicks: 0 },
      { variant: 'B', sends: 2000, opens: 700, clicks: 0 },
    ];
    // z ≈ 6.5: far beyond the 3.09 where a table of Φ ends.
    const verdict = evaluateAbTest(s, { metric: 'opens', confidence: 0.9999 });
    expect(verdict.winner).toBe('A');
    expect(verdict.pValue).toBeLessThan(1e-6);
    // |z| = 1.9516: p = 0.0510 (a table rounded to |z| = 1.95 would give 0.0512).
    const edge = [
      { variant: 'A', sends: 10_000, opens: 0, clicks: 0 },
      { variant: 'B', sends: 10_000, opens: 0, clicks: 0 },
    ];
    edge[0]!.opens = 5000 + 69;
    edge[1]!.opens = 5000 - 69;
    expect(evaluateAbTest(edge, { metric: 'opens' }).pValue).toBeCloseTo(0.051, 4);
  });
});
