// Seeded A/B experiments for checking the verdict's error rates: two or more variants with given
// true rates, sends dealt in turn, the verdict looked at after every send (as the engine does),
// stopping at the first winner or at the horizon. Shared by bench/ab-sequential.ts and the tests.
import type { VariantStats } from '../../campaign';
import { seededRandom } from '../../campaign/simulator';

export interface Experiment {
  /** The true rate of each variant, in order (keys A, B, C …). */
  rates: number[];
  /** Sends per variant at most. */
  horizon: number;
  /** The verdict's winner, or undefined; called after every send. */
  verdict: (stats: readonly VariantStats[]) => string | undefined;
}

export interface ExperimentOutcome {
  winner?: string;
  /** Sends of all variants when the verdict came (the horizon's total without one). */
  sends: number;
}

export const variantKey = (index: number) => String.fromCharCode(65 + index);

export function runExperiment(experiment: Experiment, seed: number): ExperimentOutcome {
  const random = seededRandom(seed);
  const stats: VariantStats[] = experiment.rates.map((_, i) => ({ variant: variantKey(i), sends: 0, opens: 0, clicks: 0 }));
  for (let round = 0; round < experiment.horizon; round++) {
    for (let i = 0; i < stats.length; i++) {
      const arm = stats[i]!;
      arm.sends++;
      if (random() < experiment.rates[i]!) arm.clicks++;
      const winner = experiment.verdict(stats);
      if (winner) return { winner, sends: round * stats.length + i + 1 };
    }
  }
  return { sends: experiment.horizon * stats.length };
}

/** The share of experiments (seeds 1…count) whose outcome passes `counts`, with its 95 % Wilson interval. */
export function rateOver(count: number, experiment: Experiment, counts: (outcome: ExperimentOutcome) => boolean): { rate: number; low: number; high: number; outcomes: ExperimentOutcome[] } {
  const outcomes = Array.from({ length: count }, (_, i) => runExperiment(experiment, i + 1));
  const hits = outcomes.filter(counts).length;
  return { ...wilson(hits, count), outcomes };
}

export function wilson(hits: number, n: number): { rate: number; low: number; high: number } {
  const z = 1.959964;
  const p = hits / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
