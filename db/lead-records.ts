// Everything stored about one lead, across tables: its timeline, the GDPR export, and the
// erasure that removes the personal data from it.
import { enrolmentsOfLead, openEnrolments } from './enrolments';
import { inTransaction, type Db, type Pool } from './pool';
import { suppressHash } from './suppressions';

export interface TimelineItem {
  at: Date;
  kind: string;
  id: string;
  data: Record<string, unknown>;
}

/** Everything that happened to the lead, newest first, from every table that records it. */
export async function leadTimeline(db: Db, leadId: string, limit: number, offset: number): Promise<TimelineItem[]> {
  const { rows } = await db.query<TimelineItem>(
    `SELECT * FROM (
       SELECT occurred_at AS at, 'event' AS kind, external_id AS id,
              jsonb_build_object('type', type, 'data', data, 'machine', machine) AS data
       FROM events WHERE lead_id = $1
       UNION ALL
       SELECT COALESCE(sent_at, created_at), 'email', idempotency_key,
              jsonb_build_object('template', template, 'subject', subject, 'status', status, 'campaign', campaign_id,
                                 'step', step_path, 'variant', variant, 'kind', kind)
       FROM email_sends WHERE lead_id = $1
       UNION ALL
       SELECT g.occurred_at, 'email.' || g.kind, g.kind || ':' || g.id,
              jsonb_build_object('send_key', s.idempotency_key, 'template', s.template, 'url', g.url,
                                 'machine', g.machine, 'machine_reason', g.machine_reason)
       FROM email_engagements g JOIN email_sends s ON s.id = g.send_id WHERE s.lead_id = $1
       UNION ALL
       SELECT recorded_at, 'consent', 'consent:' || id,
              jsonb_build_object('purpose', purpose, 'granted', granted, 'source', source)
       FROM consent_records WHERE lead_id = $1
       UNION ALL
       SELECT c.changed_at, 'stage', 'stage:' || c.id,
              jsonb_build_object('campaign', e.campaign_id, 'from', c.from_stage, 'to', c.to_stage, 'score', c.score)
       FROM stage_changes c JOIN enrolments e ON e.id = c.enrolment_id WHERE e.lead_id = $1
       UNION ALL
       SELECT created_at, 'handoff', id,
              jsonb_build_object('campaign', campaign_id, 'status', status, 'score', score, 'owner', owner_id)
       FROM handoffs WHERE lead_id = $1
       UNION ALL
       SELECT he.at, 'handoff.' || he.kind, 'handoff_event:' || he.id, he.detail
       FROM handoff_events he JOIN handoffs h ON h.id = he.handoff_id WHERE h.lead_id = $1
     ) items
     ORDER BY at DESC, kind, id
     LIMIT $2 OFFSET $3`,
    [leadId, limit, offset],
  );
  return rows;
}

/** The GDPR export: every row that names the lead (minus delivery internals such as task tokens). */
export async function exportLead(db: Db, leadId: string): Promise<Record<string, unknown> | undefined> {
  const lead = await db.query('SELECT * FROM leads WHERE id = $1', [leadId]);
  if (!lead.rows[0]) return undefined;
  const all = async (sql: string) => (await db.query(sql, [leadId])).rows;
  const [consent, events, sends, engagements, enrolments, stageChanges, handoffs, handoffEvents, suppression] = await Promise.all([
    all('SELECT id, purpose, granted, source, host(ip) AS ip, user_agent, evidence, recorded_at FROM consent_records WHERE lead_id = $1 ORDER BY id'),
    all('SELECT external_id, type, occurred_at, received_at, data, machine FROM events WHERE lead_id = $1 ORDER BY occurred_at, id'),
    all(`SELECT idempotency_key, message_id, kind, campaign_id, campaign_version, step_path, template, ab_test, variant, to_address,
                consent_purpose, subject, status, attempts, smtp_response, created_at, sent_at
         FROM email_sends WHERE lead_id = $1 ORDER BY created_at, id`),
    all(`SELECT g.kind, s.idempotency_key AS send_key, g.url, host(g.ip) AS ip, g.user_agent, g.machine, g.machine_reason, g.occurred_at
         FROM email_engagements g JOIN email_sends s ON s.id = g.send_id WHERE s.lead_id = $1 ORDER BY g.occurred_at, g.id`),
    enrolmentsOfLead(db, leadId),
    all(`SELECT e.campaign_id, c.from_stage, c.to_stage, c.score, c.changed_at
         FROM stage_changes c JOIN enrolments e ON e.id = c.enrolment_id WHERE e.lead_id = $1 ORDER BY c.changed_at, c.id`),
    all('SELECT * FROM handoffs WHERE lead_id = $1 ORDER BY created_at'),
    all('SELECT he.handoff_id, he.kind, he.detail, he.at FROM handoff_events he JOIN handoffs h ON h.id = he.handoff_id WHERE h.lead_id = $1 ORDER BY he.at, he.id'),
    all('SELECT s.reason, s.detail, s.created_at FROM suppressions s JOIN leads l ON l.email_hash = s.email_hash WHERE l.id = $1'),
  ]);
  return {
    lead: lead.rows[0],
    consent_records: consent,
    events,
    email_sends: sends,
    email_engagements: engagements,
    enrolments,
    stage_changes: stageChanges,
    handoffs,
    handoff_events: handoffEvents,
    suppression: suppression[0] ?? null,
  };
}

/**
 * Erases the lead's personal data and keeps what must outlive it: the address hash (so the
 * suppression 'erased' keeps it unmailable) and the anonymous facts behind the statistics.
 * Returns the workflow ids of the lead's open enrolments, for the caller to stop.
 */
export async function eraseLead(pool: Pool, leadId: string): Promise<{ erasedAt: Date; openWorkflows: string[] } | undefined> {
  return inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ email_hash: string }>('SELECT email_hash FROM leads WHERE id = $1 FOR UPDATE', [leadId]);
    if (!rows[0]) return undefined;
    await suppressHash(tx, rows[0].email_hash, 'erased');
    const erased = await tx.query<{ erased_at: Date }>(
      `UPDATE leads SET email = NULL, attributes = '{}', external_id = NULL, timezone = NULL,
              erased_at = COALESCE(erased_at, now()), updated_at = now()
       WHERE id = $1 RETURNING erased_at`,
      [leadId],
    );
    await tx.query(`UPDATE events SET data = '{}' WHERE lead_id = $1`, [leadId]);
    await tx.query('UPDATE email_sends SET to_address = NULL, message = NULL WHERE lead_id = $1', [leadId]);
    await tx.query(
      'UPDATE email_engagements SET ip = NULL, user_agent = NULL, url = NULL WHERE send_id IN (SELECT id FROM email_sends WHERE lead_id = $1)',
      [leadId],
    );
    await tx.query(`UPDATE consent_records SET ip = NULL, user_agent = NULL, evidence = '{}' WHERE lead_id = $1`, [leadId]);
    await tx.query(`UPDATE handoffs SET recent_activity = '[]', response_note = NULL WHERE lead_id = $1`, [leadId]);
    const open = await openEnrolments(tx, { leadId });
    return { erasedAt: erased.rows[0]!.erased_at, openWorkflows: open.map((row) => row.workflowId) };
  });
}
