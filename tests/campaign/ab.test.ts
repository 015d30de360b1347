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

describe('evaluateAbTest (the sequential test; error rates in ab-sequential.test.ts)', () => {
  const stats = (aClicks: number, bClicks: number, sends = 1000) => [
    { variant: 'A', sends, opens: 300, clicks: aClicks },
    { variant: 'B', sends, opens: 300, clicks: bClicks },
  ];

  it('declares the better variant once the always-valid p-value reaches 1 − confidence', () => {
    // 12% vs 8% of 1,000 with τ = 0.1 × 0.2 = 0.02: V = 0.1·0.9·2/1000 = 1.8e-4,
    // log Λ = ½ ln(V / (V + τ²)) + τ² Δ² / (2 V (V + τ²)) = −0.5850 + 3.0651, so p = e^−2.4801 ≈ 0.0837.
    const settings = { metric: 'clicks', minSample: 100, confidence: 0.95, expectedRate: 0.1, minLift: 0.2 } as const;
    const verdict = evaluateAbTest(stats(120, 80), settings);
    expect(verdict.pValue).toBeCloseTo(0.0837, 4);
    expect(verdict.winner).toBeUndefined(); // a z-test read once would have said p ≈ 0.0029
    expect(evaluateAbTest(stats(120, 80), { ...settings, confidence: 0.9 }).winner).toBe('A');
    expect(evaluateAbTest(stats(240, 160, 2000), settings)).toMatchObject({ winner: 'A', rates: { A: 0.12, B: 0.08 } });
  });

  it('needs the minimum sample in every variant', () => {
    const verdict = evaluateAbTest(stats(120, 80, 150), { metric: 'clicks', minSample: 200, confidence: 0.95 });
    expect(verdict).toMatchObject({ pValue: 1, reason: 'no winner yet: variant A has 150 of the 200 sends needed before any verdict' });
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
    expect(evaluateAbTest(stats(0, 0))).toMatchObject({ pValue: 1 });
  });

  it('very high confidence can be reached: the p-value is exact, not from a table', () => {
    const s = [
      { variant: 'A', sends: 2000, opens: 900, clicks: 0 },
      { variant: 'B', sends: 2000, opens: 700, clicks: 0 },
    ];
    const verdict = evaluateAbTest(s, { metric: 'opens', confidence: 0.9999 });
    expect(verdict.winner).toBe('A');
    expect(verdict.pValue).toBeLessThan(1e-6);
  });

  it('with three variants the leader must beat each other one, at α shared by the three pairs', () => {
    const three = [
      { variant: 'A', sends: 3000, opens: 0, clicks: 90 },
      { variant: 'B', sends: 3000, opens: 0, clicks: 150 },
      { variant: 'C', sends: 3000, opens: 0, clicks: 140 },
    ];
    const verdict = evaluateAbTest(three, { metric: 'clicks' });
    expect(verdict.winner).toBeUndefined(); // B beats A clearly, but not C
    expect(verdict.reason).toMatch(/^no winner yet: B leads, B 5\.0% vs C 4\.7% clicks per send, not yet significant \(always-valid p = 1, adjusted for 3 comparisons; a winner needs ≤ 0\.05\)$/);
    three[2]!.clicks = 90;
    expect(evaluateAbTest(three, { metric: 'clicks' })).toMatchObject({ winner: 'B' });
  });
});
