// The A/B verdict under continuous monitoring (campaign/ab-test.ts, the mSPRT): looked at after
// every send, as the engine does, it declares a false winner at most as often as its confidence
// allows, with two variants and with three; and a variant `min_lift` better wins within the
// sends planAbTest promises in at least 80 % of tests. Seeded, so every run draws the same.
import { describe, expect, it } from 'vitest';
import { abDecision, evaluateAbTest, planAbTest, type AbEvaluationOptions } from '../../campaign';
import { rateOver } from '../../bench/support/ab-experiments';

const EXPERIMENTS = 500;
// The decision evaluateAbTest words (without building its sentence at every one of millions of looks).
const verdictOf = (options: AbEvaluationOptions) => (stats: Parameters<typeof abDecision>[0]) => {
  const decision = abDecision(stats, options);
  return decision.winner ? stats[decision.leader]!.variant : undefined;
};

describe('sequential A/B verdicts', () => {
  // A 20 % rate: the plan says about 3,300 sends per variant for a 20 % lift; the null tests run to 6,000.
  const settings: AbEvaluationOptions = { metric: 'clicks', expectedRate: 0.2, minLift: 0.2, confidence: 0.95, minSample: 100 };

  it(`over ${EXPERIMENTS} null experiments with two variants, false winners stay at or below 5 %`, () => {
    const result = rateOver(EXPERIMENTS, { rates: [0.2, 0.2], horizon: 6000, verdict: verdictOf(settings) }, (outcome) => outcome.winner !== undefined);
    console.log(`two variants, no difference: false winners ${(result.rate * 100).toFixed(1)}% (95% CI ${(result.low * 100).toFixed(1)}–${(result.high * 100).toFixed(1)}%)`);
    expect(result.rate).toBeLessThanOrEqual(0.05);
  });

  it(`over ${EXPERIMENTS} null experiments with three variants, any false winner stays at or below 5 % (family-wise)`, () => {
    const result = rateOver(EXPERIMENTS, { rates: [0.2, 0.2, 0.2], horizon: 3000, verdict: verdictOf(settings) }, (outcome) => outcome.winner !== undefined);
    console.log(`three variants, no difference: false winners ${(result.rate * 100).toFixed(1)}% (95% CI ${(result.low * 100).toFixed(1)}–${(result.high * 100).toFixed(1)}%)`);
    expect(result.rate).toBeLessThanOrEqual(0.05);
  });

  it('a 20 % lift wins within the planned sends in at least 80 % of tests, and the wrong variant almost never wins', () => {
    const plan = planAbTest(2, settings);
    const result = rateOver(EXPERIMENTS, { rates: [0.2, 0.24], horizon: plan.sendsPerVariantFor80PercentPower, verdict: verdictOf(settings) }, (outcome) => outcome.winner === 'B');
    const wrong = result.outcomes.filter((outcome) => outcome.winner === 'A').length;
    console.log(`20% lift within ${plan.sendsPerVariantFor80PercentPower} sends per variant: B won ${(result.rate * 100).toFixed(1)}% (95% CI ${(result.low * 100).toFixed(1)}–${(result.high * 100).toFixed(1)}%), A won ${wrong}`);
    expect(result.rate).toBeGreaterThanOrEqual(0.8);
    expect(wrong / EXPERIMENTS).toBeLessThanOrEqual(0.05);
  });

  it('the wording cannot contradict the verdict', () => {
    const stats = (a: number, b: number, sends = 1000) => [
      { variant: 'whatsnew', sends, opens: 0, clicks: a },
      { variant: 'question', sends, opens: 0, clicks: b },
    ];
    const lead = evaluateAbTest(stats(41, 32));
    expect(lead.winner).toBeUndefined();
    expect(lead.reason).toBe('no winner yet: whatsnew leads, whatsnew 4.1% vs question 3.2% clicks per send, not yet significant (always-valid p = 1; a winner needs ≤ 0.05)');
    const win = evaluateAbTest(stats(90, 30));
    expect(win.winner).toBe('whatsnew');
    expect(win.reason).toMatch(/^whatsnew wins: whatsnew 9\.0% vs question 3\.0% clicks per send \(always-valid p = [\d.e-]+ ≤ 0\.05\)$/);
    expect(evaluateAbTest(stats(9, 3, 50)).reason).toBe('no winner yet: variant whatsnew has 50 of the 100 sends needed before any verdict');
    for (let a = 0; a <= 120; a += 7) {
      for (let b = 0; b <= 120; b += 11) {
        const verdict = evaluateAbTest(stats(a, b));
        expect(verdict.reason.startsWith(verdict.winner ? `${verdict.winner} wins:` : 'no winner yet:')).toBe(true);
        expect(verdict.winner !== undefined).toBe(verdict.pValue <= 0.05);
      }
    }
  });

  it('plans what a test can find before launch: more variants or more confidence need more sends', () => {
    const two = planAbTest(2, { metric: 'clicks' });
    expect(two).toMatchObject({ expectedRate: 0.03, minLift: 0.2 });
    expect(two.alphaPerComparison).toBeCloseTo(0.05, 10);
    expect(two.minDetectableDifference).toBeCloseTo(0.006, 6);
    expect(planAbTest(3, { metric: 'clicks' }).sendsPerVariantFor80PercentPower).toBeGreaterThan(two.sendsPerVariantFor80PercentPower);
    expect(planAbTest(2, { metric: 'clicks', confidence: 0.99 }).sendsPerVariantFor80PercentPower).toBeGreaterThan(two.sendsPerVariantFor80PercentPower);
    expect(two.typicalSendsPerVariant).toBeLessThan(two.sendsPerVariantFor80PercentPower);
  });
});
