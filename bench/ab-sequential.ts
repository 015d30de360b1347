// A/B verdicts under continuous monitoring: the rate of false winners over null experiments (no
// true difference) and the power at a 20 % lift, for the engine's sequential test (mSPRT,
// campaign/ab-test.ts) against a baseline measured in the same run: the fixed-sample two-
// proportion z-test the engine used before, read at every send as the engine reads its verdict.
// Every experiment looks at its verdict after each send; 95 % Wilson intervals in brackets.
import { fileURLToPath } from 'node:url';
import { errorFunction } from 'simple-statistics';
import { abDecision, planAbTest, type AbEvaluationOptions, type VariantStats } from '../campaign';
import { rateOver, type Experiment } from './support/ab-experiments';

const EXPERIMENTS = Number(process.env.BENCH_AB_EXPERIMENTS ?? 1000);

/** The baseline: leader against runner-up, two-sided z-test at 1 − confidence, no correction for looks. */
function fixedSampleWinner(stats: readonly VariantStats[], minSample: number, alpha: number): string | undefined {
  if (stats.some((s) => s.sends < minSample)) return undefined;
  const [leader, runnerUp] = [...stats].sort((a, b) => b.clicks / b.sends - a.clicks / a.sends);
  const pooled = (leader!.clicks + runnerUp!.clicks) / (leader!.sends + runnerUp!.sends);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / leader!.sends + 1 / runnerUp!.sends));
  if (se === 0) return undefined;
  const z = (leader!.clicks / leader!.sends - runnerUp!.clicks / runnerUp!.sends) / se;
  return 1 - errorFunction(Math.abs(z) / Math.SQRT2) < alpha ? leader!.variant : undefined;
}

export async function main(): Promise<void> {
  const pct = (r: { rate: number; low: number; high: number }) => `${(r.rate * 100).toFixed(1)}% [${(r.low * 100).toFixed(1)}–${(r.high * 100).toFixed(1)}%]`;
  console.log(`A/B verdicts looked at after every send, ${EXPERIMENTS} seeded experiments per row, confidence 0.95, min_sample 100`);
  for (const { name, rate, settings } of [
    { name: 'clicks 3%', rate: 0.03, settings: { metric: 'clicks', confidence: 0.95, minSample: 100, minLift: 0.2 } as AbEvaluationOptions },
    { name: 'opens 20%', rate: 0.2, settings: { metric: 'clicks', expectedRate: 0.2, confidence: 0.95, minSample: 100, minLift: 0.2 } as AbEvaluationOptions },
  ]) {
    const plan = planAbTest(2, { ...settings, expectedRate: rate });
    const horizon = plan.sendsPerVariantFor80PercentPower;
    // The decision evaluateAbTest words, without its sentence at each of millions of looks.
    const sequential = (stats: readonly VariantStats[]) => {
      const decision = abDecision(stats, { ...settings, expectedRate: rate });
      return decision.winner ? stats[decision.leader]!.variant : undefined;
    };
    const fixed = (stats: readonly VariantStats[]) => fixedSampleWinner(stats, 100, 0.05);
    const started = performance.now();
    const nullOf = (verdict: Experiment['verdict'], variants: number) => rateOver(EXPERIMENTS, { rates: Array(variants).fill(rate), horizon, verdict }, (o) => o.winner !== undefined);
    const powerOf = (verdict: Experiment['verdict']) => rateOver(EXPERIMENTS, { rates: [rate, rate * 1.2], horizon, verdict }, (o) => o.winner === 'B');
    const seqNull = nullOf(sequential, 2);
    const fixNull = nullOf(fixed, 2);
    const seqNull3 = nullOf(sequential, 3);
    const seqPower = powerOf(sequential);
    const fixPower = powerOf(fixed);
    const decided = seqPower.outcomes.filter((o) => o.winner === 'B').map((o) => o.sends / 2).sort((a, b) => a - b);
    console.log(`\n${name}: a 20% lift, horizon ${horizon.toLocaleString('en-US')} sends per variant (the plan's 80% power; typically ${plan.typicalSendsPerVariant.toLocaleString('en-US')})`);
    console.log(`  false winners, 2 variants:  sequential ${pct(seqNull)}   baseline fixed z-test ${pct(fixNull)}   ratio ${(fixNull.rate / Math.max(seqNull.rate, 1 / EXPERIMENTS)).toFixed(1)}× fewer`);
    console.log(`  false winners, 3 variants:  sequential ${pct(seqNull3)} (family-wise)`);
    console.log(`  power at a 20% lift:        sequential ${pct(seqPower)}   baseline fixed z-test ${pct(fixPower)} (its false winners make it look strong)`);
    console.log(`  sends per variant to the sequential verdict: median ${decided[Math.floor(decided.length / 2)]?.toLocaleString('en-US')}, p90 ${decided[Math.floor(decided.length * 0.9)]?.toLocaleString('en-US')}`);
    console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
