// Campaign statistics: the stage funnel, per-step and per-variant email results (all and
// human-only engagement), the A/B tests with their verdicts, and the sales SLA.
import type { Db } from './pool';

export interface EmailFigures {
  sent: number;
  opened: number;
  clicked: number;
  human_opened: number;
  human_clicked: number;
}

export interface CampaignStats {
  funnel: {
    enrolled: number;
    by_stage: Record<string, number>;
    by_status: Record<string, number>;
    reached: { cold: number; warm: number; hot: number; handed_off: number };
    transitions: { from: string; to: string; count: number }[];
  };
  steps: ({ step: string | null; template: string } & EmailFigures)[];
  variants: ({ ab_test: string; variant: string } & EmailFigures)[];
  ab_tests: AbTestState[];
  sla: { handoffs: number; answered: number; answered_in_time: number; overdue: number; compliance: number | null };
}

/**
 * An A/B test of the campaign (keyed by its step path) and its verdict, if one was decided: the
 * winner, when, in which campaign version, and the figures the decision was made on (sends and
 * human opens and clicks per variant, as activities/ab-winner.ts stored them).
 */
export interface AbTestState {
  test_key: string;
  winner: string | null;
  campaign_version: number | null;
  p_value: number | null;
  decided_at: Date | null;
  decided_on: { variant: string; sends: number; opens: number; clicks: number }[] | null;
}

// Per marketing send (step and trigger emails; sales notices are not tracked): was it opened or
// clicked at all, and by a person.
const PER_SEND = `
  SELECT s.*,
    EXISTS (SELECT 1 FROM email_engagements g WHERE g.send_id = s.id AND g.kind = 'open') AS opened,
    EXISTS (SELECT 1 FROM email_engagements g WHERE g.send_id = s.id AND g.kind = 'click') AS clicked,
    EXISTS (SELECT 1 FROM email_engagements g WHERE g.send_id = s.id AND g.kind = 'open' AND NOT g.machine) AS human_opened,
    EXISTS (SELECT 1 FROM email_engagements g WHERE g.send_id = s.id AND g.kind = 'click' AND NOT g.machine) AS human_clicked
  FROM email_sends s WHERE s.campaign_id = $1 AND s.status = 'sent' AND s.kind IN ('step', 'trigger')`;

const FIGURES = `count(*)::int AS sent, count(*) FILTER (WHERE opened)::int AS opened, count(*) FILTER (WHERE clicked)::int AS clicked,
  count(*) FILTER (WHERE human_opened)::int AS human_opened, count(*) FILTER (WHERE human_clicked)::int AS human_clicked`;

export async function campaignStats(db: Db, campaignId: string): Promise<CampaignStats> {
  const [stages, statuses, reached, transitions, steps, variants, abTests, sla] = await Promise.all([
    db.query('SELECT stage, count(*)::int AS n FROM enrolments WHERE campaign_id = $1 GROUP BY stage', [campaignId]),
    db.query('SELECT status, count(*)::int AS n FROM enrolments WHERE campaign_id = $1 GROUP BY status', [campaignId]),
    // An enrolment reached a stage if it is in it now or ever moved into it.
    db.query(
      `SELECT count(*)::int AS enrolled,
         count(*) FILTER (WHERE e.stage IN ('warm', 'hot') OR EXISTS (SELECT 1 FROM stage_changes c WHERE c.enrolment_id = e.id AND c.to_stage IN ('warm', 'hot')))::int AS warm,
         count(*) FILTER (WHERE e.stage = 'hot' OR EXISTS (SELECT 1 FROM stage_changes c WHERE c.enrolment_id = e.id AND c.to_stage = 'hot'))::int AS hot,
         count(*) FILTER (WHERE EXISTS (SELECT 1 FROM handoffs h WHERE h.enrolment_id = e.id))::int AS handed_off
       FROM enrolments e WHERE e.campaign_id = $1`,
      [campaignId],
    ),
    db.query(
      `SELECT c.from_stage AS from, c.to_stage AS to, count(*)::int AS count
       FROM stage_changes c JOIN enrolments e ON e.id = c.enrolment_id WHERE e.campaign_id = $1
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [campaignId],
    ),
    db.query(`SELECT step_path AS step, template, ${FIGURES} FROM (${PER_SEND}) x GROUP BY step_path, template ORDER BY step_path NULLS LAST, template`, [campaignId]),
    db.query(
      `SELECT ab_test, variant, ${FIGURES} FROM (${PER_SEND}) x WHERE ab_test IS NOT NULL AND variant IS NOT NULL
       GROUP BY ab_test, variant ORDER BY ab_test, variant`,
      [campaignId],
    ),
    // Every test that sent an email or has a verdict; verdicts are per campaign version, and the
    // newest version's verdict is the one shown.
    db.query(
      `SELECT t.test_key, v.winner, v.campaign_version, v.p_value, v.decided_at, v.stats AS decided_on
       FROM (SELECT ab_test AS test_key FROM email_sends WHERE campaign_id = $1 AND ab_test IS NOT NULL
             UNION SELECT test_key FROM ab_verdicts WHERE campaign_id = $1) t
       LEFT JOIN LATERAL (SELECT * FROM ab_verdicts a WHERE a.campaign_id = $1 AND a.test_key = t.test_key
                          ORDER BY a.campaign_version DESC LIMIT 1) v ON true
       ORDER BY t.test_key`,
      [campaignId],
    ),
    db.query(
      `SELECT count(*)::int AS handoffs,
         count(*) FILTER (WHERE responded_at IS NOT NULL)::int AS answered,
         count(*) FILTER (WHERE responded_at IS NOT NULL AND responded_at <= first_contact_due)::int AS answered_in_time,
         count(*) FILTER (WHERE responded_at IS NULL AND first_contact_due < now())::int AS overdue
       FROM handoffs WHERE campaign_id = $1`,
      [campaignId],
    ),
  ]);
  const counts = (rows: { n: number }[], key: string) => Object.fromEntries(rows.map((row: any) => [row[key], row.n]));
  const r = reached.rows[0];
  const s = sla.rows[0];
  return {
    funnel: {
      enrolled: r.enrolled,
      by_stage: counts(stages.rows, 'stage'),
      by_status: counts(statuses.rows, 'status'),
      reached: { cold: r.enrolled, warm: r.warm, hot: r.hot, handed_off: r.handed_off },
      transitions: transitions.rows,
    },
    steps: steps.rows,
    variants: variants.rows,
    ab_tests: abTests.rows,
    sla: { ...s, compliance: s.handoffs ? s.answered_in_time / s.handoffs : null },
  };
}
