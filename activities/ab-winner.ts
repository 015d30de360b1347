// Which variant of an A/B test an email uses: the lead's deterministic assignment until the
// test has a verdict, the winner for every send after it. Verdicts are stored and never
// change, so all workers and all later sends agree.
import { evaluateAbTest, type AbAssignment, type AbEvaluationOptions, type Variant } from '../campaign';
import { storedWinner, storeVerdict, variantStats, type AbTestRef } from '../db/ab-verdicts';
import type { Db } from '../db/pool';

export interface AbRequest extends AbAssignment {
  evaluation?: AbEvaluationOptions;
}

export async function chooseVariant(tx: Db, campaign: { id: string; version: number }, ab: AbRequest): Promise<Variant | undefined> {
  const byKey = (key: string) => ab.variants.find((variant) => variant.key === key);
  const test: AbTestRef = { campaignId: campaign.id, campaignVersion: campaign.version, testKey: ab.testKey };
  const decided = await storedWinner(tx, test);
  if (decided) return byKey(decided) ?? byKey(ab.variant);

  const stats = await variantStats(tx, test, ab.variants.map((variant) => variant.key));
  const result = evaluateAbTest(stats, ab.evaluation);
  // The first worker to see a significant result decides; everyone else reads its verdict.
  if (result.winner) return byKey(await storeVerdict(tx, test, { winner: result.winner, pValue: result.pValue, stats })) ?? byKey(ab.variant);
  return byKey(ab.variant);
}
