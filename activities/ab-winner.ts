// Which variant of an A/B test an email uses: the lead's deterministic assignment until the
// test has a verdict, the winner for every send after it. Verdicts are stored and never
// change, so all workers and all later sends agree.
import { evaluateAbTest, type AbEvaluationOptions } from '../campaign';
import type { Db } from '../db/pool';

export interface AbVariant {
  key: string;
  weight: number;
  subject?: string;
  template?: string;
}

export interface AbRequest {
  testKey: string;
  /** The lead's own assignment. */
  variant: string;
  variants: AbVariant[];
  evaluation?: AbEvaluationOptions;
}

export async function chooseVariant(
  tx: Db,
  campaign: { id: string; version: number },
  ab: AbRequest,
): Promise<AbVariant | undefined> {
  const byKey = (key: string) => ab.variants.find((variant) => variant.key === key);
  const verdict = (
    await tx.query<{ winner: string }>(
      'SELECT winner FROM ab_verdicts WHERE campaign_id = $1 AND campaign_version = $2 AND test_key = $3',
      [campaign.id, campaign.version, ab.testKey],
    )
  ).rows[0];
  if (verdict) return byKey(verdict.winner) ?? byKey(ab.variant);

  const stats = await variantStats(tx, campaign, ab);
  const result = evaluateAbTest(stats, ab.evaluation);
  if (result.winner) {
    // The first worker to see a significant result decides; everyone else reads its verdict.
    await tx.query(
      `INSERT INTO ab_verdicts (campaign_id, campaign_version, test_key, winner, p_value, stats)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [campaign.id, campaign.version, ab.testKey, result.winner, result.pValue ?? null, JSON.stringify(stats)],
    );
    const stored = (
      await tx.query<{ winner: string }>(
        'SELECT winner FROM ab_verdicts WHERE campaign_id = $1 AND campaign_version = $2 AND test_key = $3',
        [campaign.id, campaign.version, ab.testKey],
      )
    ).rows[0];
    return byKey(stored?.winner ?? result.winner) ?? byKey(ab.variant);
  }
  return byKey(ab.variant);
}

/** Sends, human opens and human clicks per variant (machine opens and scanner clicks excluded). */
export async function variantStats(tx: Db, campaign: { id: string; version: number }, ab: { testKey: string; variants: AbVariant[] }) {
  const { rows } = await tx.query<{ variant: string; sends: number; opens: number; clicks: number }>(
    `SELECT s.variant,
            count(*)::int AS sends,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM email_engagements e
                                           WHERE e.send_id = s.id AND e.kind = 'open' AND NOT e.machine))::int AS opens,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM email_engagements e
                                           WHERE e.send_id = s.id AND e.kind = 'click' AND NOT e.machine))::int AS clicks
     FROM email_sends s
     WHERE s.campaign_id = $1 AND s.campaign_version = $2 AND s.ab_test = $3 AND s.status = 'sent'
     GROUP BY s.variant`,
    [campaign.id, campaign.version, ab.testKey],
  );
  return ab.variants.map((variant) => {
    const row = rows.find((candidate) => candidate.variant === variant.key);
    return { variant: variant.key, sends: row?.sends ?? 0, opens: row?.opens ?? 0, clicks: row?.clicks ?? 0 };
  });
}
