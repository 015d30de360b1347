// The A/B verdict: a two-proportion z-test of the leading variant against the runner-up on the
// configured metric (human opens or clicks per send). No verdict before every variant has
// `minSample` sends; a winner when the two-sided p-value is below 1 − confidence. Comparing
// only the top two keeps the test simple; with more than two variants this is slightly
// optimistic (no multiple-comparison correction), which the docs say.
import { errorFunction } from 'simple-statistics';
import type { AbSettings } from './types';

export interface VariantStats {
  variant: string;
  sends: number;
  opens: number;
  clicks: number;
}

export interface AbVerdict {
  winner?: string;
  /** Two-sided p-value of leader vs runner-up (1 when not computed). */
  pValue: number;
  rates: Record<string, number>;
  reason: string;
}

export type AbEvaluationOptions = Partial<AbSettings>;

export const DEFAULT_AB: AbSettings = { metric: 'clicks', minSample: 100, confidence: 0.95 };

export function evaluateAbTest(stats: readonly VariantStats[], options: AbEvaluationOptions = {}): AbVerdict {
  const settings = { ...DEFAULT_AB, ...options };
  const successes = (s: VariantStats) => (settings.metric === 'opens' ? s.opens : s.clicks);
  const rates = Object.fromEntries(stats.map((s) => [s.variant, s.sends ? successes(s) / s.sends : 0]));
  if (stats.length < 2) return { pValue: 1, rates, reason: 'fewer than two variants' };
  const short = stats.find((s) => s.sends < settings.minSample);
  if (short) return { pValue: 1, rates, reason: `variant ${short.variant} has ${short.sends} of ${settings.minSample} sends` };

  const [leader, runnerUp] = [...stats].sort((a, b) => rates[b.variant]! - rates[a.variant]!);
  const p1 = rates[leader!.variant]!;
  const p2 = rates[runnerUp!.variant]!;
  const pooled = (successes(leader!) + successes(runnerUp!)) / (leader!.sends + runnerUp!.sends);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / leader!.sends + 1 / runnerUp!.sends));
  if (standardError === 0) return { pValue: 1, rates, reason: 'no difference measurable yet' };
  const z = (p1 - p2) / standardError;
  // Two-sided: P(|Z| ≥ |z|) = 1 − erf(|z|/√2). The error function, not a rounded lookup table of
  // Φ, so that high confidence settings (0.999+) can be reached and |z| is not rounded.
  const pValue = Math.min(1, Math.max(0, 1 - errorFunction(Math.abs(z) / Math.SQRT2)));
  if (pValue < 1 - settings.confidence) {
    return { winner: leader!.variant, pValue, rates, reason: `${leader!.variant} beats ${runnerUp!.variant} (p=${pValue.toFixed(4)})` };
  }
  return { pValue, rates, reason: `no significant difference yet (p=${pValue.toFixed(4)})` };
}
