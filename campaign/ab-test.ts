// The A/B verdict, valid however often it is looked at: the engine looks at every send, so a
// fixed-sample test (a z-test read at every send) would declare false winners far more often
// than its confidence says. This is the mixture sequential probability ratio test (mSPRT) of
// Johari, Koomen, Pekelis and Walsh, "Peeking at A/B Tests: Why it matters, and what to do about
// it" (KDD 2017; the method behind Optimizely's Stats Engine): for two variants' rates, with the
// normal approximation and a normal mixture N(0, τ²) over the difference, the likelihood ratio
//   Λ = sqrt(V / (V + τ²)) · exp(τ² Δ² / (2 V (V + τ²))),   V = p(1 − p)(1/n_a + 1/n_b)
// (Δ the observed difference, p the pooled rate) gives the always-valid p-value 1/Λ: the chance
// that it ever falls below α when the variants do not differ is at most α, at every look.
// τ is the difference the test is tuned to find: the expected rate × the minimum lift.
//
// With k variants every pair is compared at α / (k(k−1)/2) (Bonferroni), which bounds the chance
// of any false winner by α. A winner is the leading variant once it beats each other variant.
import { probit } from 'simple-statistics';
import { eachStep } from './step-graph';
import type { AbSettings, Campaign } from './types';

export interface VariantStats {
  variant: string;
  sends: number;
  opens: number;
  clicks: number;
}

export interface AbVerdict {
  winner?: string;
  /** The leader's always-valid p-value against its closest rival, Bonferroni-adjusted (1 when not computed). */
  pValue: number;
  rates: Record<string, number>;
  reason: string;
}

export type AbEvaluationOptions = Partial<AbSettings>;

export const DEFAULT_AB = { metric: 'clicks', minSample: 100, confidence: 0.95, minLift: 0.2 } as const satisfies AbSettings;
/** The rate a test expects when the campaign does not say (`ab.expected_rate`): typical human opens and clicks per send. */
export const DEFAULT_EXPECTED_RATE: Record<AbSettings['metric'], number> = { opens: 0.2, clicks: 0.03 };

interface Arm {
  sends: number;
  successes: number;
}

/** The settings with every default filled in. */
export function abSettings(options: AbEvaluationOptions = {}): Required<AbSettings> {
  const metric = options.metric ?? DEFAULT_AB.metric;
  return {
    metric,
    minSample: options.minSample ?? DEFAULT_AB.minSample,
    confidence: options.confidence ?? DEFAULT_AB.confidence,
    minLift: options.minLift ?? DEFAULT_AB.minLift,
    expectedRate: options.expectedRate ?? DEFAULT_EXPECTED_RATE[metric],
  };
}

/** τ: the absolute difference the mixture is centred on. */
function mixtureScale(settings: Required<AbSettings>): number {
  return settings.expectedRate * settings.minLift;
}

/** How many comparisons share α. */
function pairsOf(variants: number): number {
  return (variants * (variants - 1)) / 2;
}

/** The always-valid p-value of "a and b have the same rate" (1 while nothing can be measured). */
export function alwaysValidPValue(a: Arm, b: Arm, tau: number): number {
  if (a.sends === 0 || b.sends === 0) return 1;
  const pooled = (a.successes + b.successes) / (a.sends + b.sends);
  const variance = pooled * (1 - pooled) * (1 / a.sends + 1 / b.sends);
  if (variance === 0) return 1;
  const difference = b.successes / b.sends - a.successes / a.sends;
  return Math.min(1, Math.exp(-logLikelihoodRatio(difference, variance, tau * tau)));
}

function logLikelihoodRatio(difference: number, variance: number, tau2: number): number {
  return 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * difference * difference) / (2 * variance * (variance + tau2));
}

/** The decision alone (what evaluateAbTest words): the leader, and its p-value against its closest rival. */
export function abDecision(stats: readonly VariantStats[], options: AbEvaluationOptions = {}): { leader: number; runnerUp: number; pValue: number; winner: boolean; short?: number } {
  const settings = abSettings(options);
  const successes = (s: VariantStats) => (settings.metric === 'opens' ? s.opens : s.clicks);
  const rate = (s: VariantStats) => (s.sends ? successes(s) / s.sends : 0);
  const short = stats.findIndex((s) => s.sends < settings.minSample);
  // The leader: the highest rate, ties to the variant written first; the runner-up likewise.
  let leader = 0;
  for (let i = 1; i < stats.length; i++) if (rate(stats[i]!) > rate(stats[leader]!)) leader = i;
  let runnerUp = leader === 0 ? 1 : 0;
  for (let i = 0; i < stats.length; i++) if (i !== leader && rate(stats[i]!) > rate(stats[runnerUp]!)) runnerUp = i;
  if (stats.length < 2 || short >= 0) return { leader, runnerUp, pValue: 1, winner: false, ...(short >= 0 && { short }) };
  const pairs = pairsOf(stats.length);
  const arm = (s: VariantStats): Arm => ({ sends: s.sends, successes: successes(s) });
  // The leader's weakest comparison decides: it must beat every other variant.
  let pValue = 0;
  for (let i = 0; i < stats.length; i++) {
    if (i !== leader) pValue = Math.max(pValue, Math.min(1, pairs * alwaysValidPValue(arm(stats[i]!), arm(stats[leader]!), mixtureScale(settings))));
  }
  return { leader, runnerUp, pValue, winner: pValue <= 1 - settings.confidence };
}

export function evaluateAbTest(stats: readonly VariantStats[], options: AbEvaluationOptions = {}): AbVerdict {
  const settings = abSettings(options);
  const rates = Object.fromEntries(stats.map((s) => [s.variant, s.sends ? (settings.metric === 'opens' ? s.opens : s.clicks) / s.sends : 0]));
  if (stats.length < 2) return { pValue: 1, rates, reason: 'fewer than two variants' };
  const decision = abDecision(stats, settings);
  if (decision.short !== undefined) {
    const short = stats[decision.short]!;
    return { pValue: 1, rates, reason: `no winner yet: variant ${short.variant} has ${short.sends} of the ${settings.minSample} sends needed before any verdict` };
  }
  const alpha = 1 - settings.confidence;
  const pairs = pairsOf(stats.length);
  const leader = stats[decision.leader]!.variant;
  const runnerUp = stats[decision.runnerUp]!.variant;
  const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
  const comparison = `${leader} ${percent(rates[leader]!)} vs ${runnerUp} ${percent(rates[runnerUp]!)} ${settings.metric} per send`;
  const p = `always-valid p = ${formatP(decision.pValue)}${pairs > 1 ? `, adjusted for ${pairs} comparisons` : ''}`;
  if (decision.winner) return { winner: leader, pValue: decision.pValue, rates, reason: `${leader} wins: ${comparison} (${p} ≤ ${formatP(alpha)})` };
  return { pValue: decision.pValue, rates, reason: `no winner yet: ${leader} leads, ${comparison}, not yet significant (${p}; a winner needs ≤ ${formatP(alpha)})` };
}

function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}

export interface AbPlan {
  variants: number;
  metric: AbSettings['metric'];
  expectedRate: number;
  minLift: number;
  /** The absolute difference that is the minimum detectable effect. */
  minDetectableDifference: number;
  /** α for one comparison of two variants (α / number of pairs). */
  alphaPerComparison: number;
  /** Sends per variant by which a variant `minLift` better is declared the winner with 80 % probability. */
  sendsPerVariantFor80PercentPower: number;
  /** Sends per variant by which such a winner is declared in half the tests (the typical length). */
  typicalSendsPerVariant: number;
}

/**
 * What a test needs before launch: with one variant `minLift` better than the others (all at the
 * expected rate), the sends per variant by which it wins with 80 % probability, from the normal
 * approximation of the observed difference at a single look (looking at every send only wins
 * sooner, so this is an upper bound), and the typical (median) sends.
 */
export function planAbTest(variants: number, options: AbEvaluationOptions = {}): AbPlan {
  const settings = abSettings(options);
  const alpha = (1 - settings.confidence) / pairsOf(Math.max(2, variants));
  const low = settings.expectedRate;
  const high = low * (1 + settings.minLift);
  const pooled = (low + high) / 2;
  const tau2 = mixtureScale(settings) ** 2;
  const difference = high - low;
  const wins = (n: number, quantile: number) => {
    const variance = (2 * pooled * (1 - pooled)) / n;
    const observed = difference + probit(quantile) * Math.sqrt(variance);
    return observed > 0 && logLikelihoodRatio(observed, variance, tau2) >= Math.log(1 / alpha);
  };
  const smallest = (quantile: number) => {
    let lo = 1;
    let hi = 1;
    while (!wins(hi, quantile)) {
      lo = hi;
      hi *= 2;
      if (hi > 1e10) return Number.POSITIVE_INFINITY;
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (wins(mid, quantile)) hi = mid;
      else lo = mid;
    }
    return Math.max(hi, settings.minSample);
  };
  return {
    variants,
    metric: settings.metric,
    expectedRate: settings.expectedRate,
    minLift: settings.minLift,
    minDetectableDifference: difference,
    alphaPerComparison: alpha,
    sendsPerVariantFor80PercentPower: smallest(0.2),
    typicalSendsPerVariant: smallest(0.5),
  };
}

/** One line for people: what the test can find and how many sends it takes. */
export function describeAbPlan(plan: AbPlan): string {
  const percent = (rate: number) => `${Number((rate * 100).toPrecision(3))}%`;
  const count = (n: number) => (Number.isFinite(n) ? Math.ceil(n).toLocaleString('en-US') : 'more than 10 billion');
  return (
    `finds a ${percent(plan.minLift)} lift on ${percent(plan.expectedRate)} ${plan.metric} (${percent(plan.expectedRate)} → ${percent(plan.expectedRate + plan.minDetectableDifference)}) ` +
    `with 80% probability within ${count(plan.sendsPerVariantFor80PercentPower)} sends per variant (typically ${count(plan.typicalSendsPerVariant)}), ${plan.variants} variants`
  );
}

/** The campaign's A/B tests (email steps with variants) and each one's plan. */
export function abTestPlans(campaign: Campaign): { path: string; plan: AbPlan }[] {
  const plans: { path: string; plan: AbPlan }[] = [];
  eachStep(campaign.tracks, (step, path) => {
    if (step.kind === 'email' && step.variants) plans.push({ path, plan: planAbTest(step.variants.length, campaign.ab) });
  });
  return plans;
}

/** Past this many sends per variant a test will practically never find its lift (a warning says so). */
export const IMPRACTICAL_SENDS_PER_VARIANT = 1_000_000;
