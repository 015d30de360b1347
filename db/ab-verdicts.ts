// A/B verdicts, one per test (a step path) and campaign version. Sticky: the first verdict stored
// wins, and every later send of that test uses its winner.
import type { VariantStats } from '../campaign';
import type { Db } from './pool';

export interface AbTestRef {
  campaignId: string;
  campaignVersion: number;
  testKey: string;
}

export async function storedWinner(db: Db, test: AbTestRef): Promise<string | undefined> {
  const { rows } = await db.query<{ winner: string }>(
    'SELECT winner FROM ab_verdicts WHERE campaign_id = $1 AND campaign_version = $2 AND test_key = $3',
    [test.campaignId, test.campaignVersion, test.testKey],
  );
  return rows[0]?.winner;
}

/** Stores the verdict unless one exists; returns the winner stored (this one, or the earlier one). */
export async function storeVerdict(db: Db, test: AbTestRef, verdict: { winner: string; pValue: number; stats: VariantStats[] }): Promise<string> {
  await db.query(
    `INSERT INTO ab_verdicts (campaign_id, campaign_version, test_key, winner, p_value, stats)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [test.campaignId, test.campaignVersion, test.testKey, verdict.winner, verdict.pValue, JSON.stringify(verdict.stats)],
  );
  return (await storedWinner(db, test)) ?? verdict.winner;
}

/** Sends, human opens and human clicks per variant of the test (machine opens and scanner clicks excluded). */
export async function variantStats(db: Db, test: AbTestRef, variants: readonly string[]): Promise<VariantStats[]> {
  const { rows } = await db.query<VariantStats>(
    `SELECT s.variant,
            count(*)::int AS sends,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM email_engagements e
                                           WHERE e.send_id = s.id AND e.kind = 'open' AND NOT e.machine))::int AS opens,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM email_engagements e
                                           WHERE e.send_id = s.id AND e.kind = 'click' AND NOT e.machine))::int AS clicks
     FROM email_sends s
     WHERE s.campaign_id = $1 AND s.campaign_version = $2 AND s.ab_test = $3 AND s.status = 'sent'
     GROUP BY s.variant`,
    [test.campaignId, test.campaignVersion, test.testKey],
  );
  return variants.map((variant) => {
    const row = rows.find((candidate) => candidate.variant === variant);
    return { variant, sends: row?.sends ?? 0, opens: row?.opens ?? 0, clicks: row?.clicks ?? 0 };
  });
}
