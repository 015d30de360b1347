// Everything stored about one lead, across tables: its timeline, the GDPR export, and the
// erasure that removes the personal data from it.
import { erasedIdHash } from './addresses';
import { shredLeadKey } from './data-keys';
import { endOpenEnrolmentsOfLead, enrolmentsOfLead } from './enrolments';
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
 * What the erasure does with every text-like column of the schema (text, jsonb, inet, arrays,
 * bytea): `erase` says how the lead's value is removed; `keep` says why the column holds nothing
 * personal about a lead. tests/db/erasure-plan.test.ts fails when a column is missing here, so a
 * new column is classified when it is added.
 */
export const ERASURE_PLAN: Record<string, Record<string, { erase: string } | { keep: string }>> = {
  leads: {
    email: { erase: 'set to NULL' },
    email_hash: { keep: 'a keyed HMAC of the address (DATA_SECRET): keeps the address suppressed without holding it' },
    attributes: { erase: "set to '{}'" },
    external_id: { erase: 'set to NULL' },
    timezone: { erase: 'set to NULL' },
  },
  consent_records: {
    ip: { erase: 'set to NULL' },
    user_agent: { erase: 'set to NULL' },
    evidence: { erase: "set to '{}'" },
    source: { erase: "replaced by 'erased' (a client-chosen text)" },
    purpose: { keep: "a purpose of the campaign language ('marketing')" },
  },
  events: {
    data: { erase: "set to '{}'" },
    external_id: { erase: "replaced by 'erased:' and a keyed hash (client-chosen; the demo puts the address in it); stays unique" },
    last_error: { erase: 'set to NULL' },
    type: { keep: 'an event type of the campaign language' },
  },
  email_sends: {
    to_address: { erase: 'set to NULL' },
    message: { erase: 'set to NULL (the rendered email)' },
    subject: { erase: "replaced by '[erased]' (personalised subjects quote names and companies)" },
    smtp_response: { erase: 'set to NULL (bounce replies quote the address)' },
    task_token: { keep: 'a Temporal task token: ids only' },
    idempotency_key: { erase: "replaced by 'erased:' and a keyed hash (a trigger email's key holds the sender's event id)" },
    message_id: { keep: 'a hash of the idempotency key @ MAIL_DOMAIN' },
    message_key: { keep: 'a hash of the idempotency key' },
    report_to: { keep: 'a workflow id: campaign and lead ids' },
    report_key: { erase: "replaced by 'erased:' and a keyed hash (as idempotency_key)" },
    kind: { keep: 'an email kind' },
    campaign_id: { keep: 'a campaign id' },
    step_path: { keep: 'a step of the campaign' },
    template: { keep: 'a template name' },
    ab_test: { keep: 'an A/B test of the campaign' },
    variant: { keep: 'a variant of the campaign' },
    consent_purpose: { keep: 'a purpose of the campaign language' },
    status: { keep: 'a send status' },
  },
  email_engagements: {
    ip: { erase: 'set to NULL' },
    user_agent: { erase: 'set to NULL' },
    url: { erase: 'set to NULL (links may carry personal query strings)' },
    kind: { keep: 'open or click' },
    machine_reason: { keep: 'a machine-detection rule name' },
  },
  handoffs: {
    recent_activity: { erase: "set to '[]'" },
    response_note: { erase: 'set to NULL' },
    breakdown: { keep: 'score rules of the campaign and their points' },
    reasons: { keep: 'qualification rules of the campaign' },
    id: { keep: 'an id' },
    campaign_id: { keep: 'a campaign id' },
    pool: { keep: 'a sales pool name' },
    status: { keep: 'a handoff status' },
    unassigned_reason: { keep: 'a routing reason' },
    routing_log: { erase: "set to '[]' (the lead's routing values: territory, product, language)" },
    desk: { keep: "the campaign's SLA, routing rules, sender and notice template" },
  },
  handoff_events: {
    detail: { erase: "set to '{}' (holds the rep's note and the lead's context)" },
    handoff_id: { keep: 'an id' },
    kind: { keep: 'a handoff event kind' },
  },
  suppressions: {
    email_hash: { keep: 'a keyed HMAC of the address: the suppression that outlives the erasure' },
    detail: { erase: 'set to NULL (SMTP replies quote the address)' },
    reason: { keep: 'a suppression reason' },
  },
  legacy_suppressions: {
    sha256: { keep: 'SHA-256 of an address erased before hashes were keyed (migration 0005); nothing more can be done for it' },
    reason: { keep: 'a suppression reason' },
  },
  data_keys: {
    owner: { keep: "'lead:<id>' or 'system'" },
    wrapped: { erase: "the lead's row is deleted (crypto-shredding of its Temporal histories)" },
  },
  enrolments: {
    workflow_id: { keep: 'campaign and lead ids' },
    campaign_id: { keep: 'a campaign id' },
    stage: { keep: 'a stage' },
    status: { keep: 'an enrolment status' },
    exit_reason: { keep: "an exit reason of the engine ('erased' after the erasure)" },
  },
  stage_changes: { from_stage: { keep: 'a stage' }, to_stage: { keep: 'a stage' } },
  campaign_launches: {
    lead_ids: { keep: 'random lead ids, no data' },
    segment: { keep: 'a condition of the campaign language written by a marketer' },
    campaign_id: { keep: 'a campaign id' },
    status: { keep: 'a launch status' },
    skipped: { keep: 'counts by reason' },
    not_entered: { keep: 'counts by reason' },
  },
  tracking_hits: { token_hash: { keep: 'a hash of a link token' } },
  ab_verdicts: { campaign_id: { keep: 'a campaign id' }, test_key: { keep: 'an A/B test' }, winner: { keep: 'a variant' }, stats: { keep: 'counts' } },
  campaigns: { id: { keep: 'a campaign id' }, name: { keep: "the marketer's campaign name" }, status: { keep: 'a campaign status' } },
  campaign_versions: {
    campaign_id: { keep: 'a campaign id' },
    content_hash: { keep: 'a hash' },
    definition: { keep: 'the campaign definition' },
    source: { keep: 'the campaign file' },
  },
  campaign_fanouts: { action: { keep: 'a fan-out action' }, campaign_id: { keep: 'a campaign id' } },
  assignment_cursors: { pool: { keep: 'a sales pool name' }, territory: { keep: 'a territory' } },
  sales_pools: {
    name: { keep: 'a sales pool name' },
    manager_name: { keep: 'staff, not a lead: kept while the manager works here' },
    manager_email: { keep: 'staff, not a lead: kept while the manager works here' },
    timezone: { keep: 'a time zone' },
    work_days: { keep: 'weekdays' },
    holidays: { keep: 'a country code' },
    holiday_dates: { keep: 'dates' },
    routing: { keep: "the pool's routing rules" },
  },
  sales_reps: {
    name: { keep: 'staff, not a lead' },
    email: { keep: 'staff, not a lead' },
    pool: { keep: 'a sales pool name' },
    territories: { keep: 'territories' },
    products: { keep: 'products' },
    languages: { keep: 'languages' },
    timezone: { keep: 'a time zone' },
    work_days: { keep: 'weekdays' },
  },
  sales_rep_absences: { note: { keep: "staff, not a lead: the rep's own note on an absence" } },
  api_keys: { name: { keep: "a key's label" }, prefix: { keep: 'the public part of a key' }, key_hash: { keep: 'a hash' }, scopes: { keep: 'scopes' } },
  address_hash_key: { fingerprint: { keep: 'a fingerprint of the address key' } },
  schema_migrations: { name: { keep: 'a migration name' } },
};

/** The exit reason of the enrolments an erasure ends. */
const ERASED_EXIT = 'erased';

/**
 * Erases the lead's personal data, as ERASURE_PLAN says, and keeps what must outlive it: the
 * keyed address hash (the suppression 'erased' keeps the address unmailable) and the anonymous
 * facts behind the statistics. Deletes the lead's data key, so that what Temporal keeps of the
 * lead cannot be read any more, and ends the lead's open enrolments (reason 'erased'). Returns
 * those (`openWorkflows`) and every workflow an erasure of the lead ended (`erasedWorkflows`,
 * this one's and earlier ones'), for the caller to terminate: without their key they cannot run on.
 */
export async function eraseLead(
  pool: Pool,
  leadId: string,
): Promise<{ erasedAt: Date; openWorkflows: string[]; erasedWorkflows: string[] } | undefined> {
  return inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ email_hash: string }>('SELECT email_hash FROM leads WHERE id = $1 FOR UPDATE', [leadId]);
    if (!rows[0]) return undefined;
    await suppressHash(tx, rows[0].email_hash, 'erased');
    await tx.query('UPDATE suppressions SET detail = NULL WHERE email_hash = $1', [rows[0].email_hash]);
    const erased = await tx.query<{ erased_at: Date }>(
      `UPDATE leads SET email = NULL, attributes = '{}', external_id = NULL, timezone = NULL,
              erased_at = COALESCE(erased_at, now()), updated_at = now()
       WHERE id = $1 RETURNING erased_at`,
      [leadId],
    );
    const ids = await tx.query<{ id: string; external_id: string }>(
      `SELECT id, external_id FROM events WHERE lead_id = $1 AND external_id NOT LIKE 'erased:%'`,
      [leadId],
    );
    await tx.query(
      `UPDATE events e SET external_id = p.erased FROM unnest($1::bigint[], $2::text[]) AS p(id, erased) WHERE e.id = p.id`,
      [ids.rows.map((row) => row.id), ids.rows.map((row) => `erased:${erasedIdHash(row.external_id)}`)],
    );
    await tx.query(`UPDATE events SET data = '{}', last_error = NULL WHERE lead_id = $1`, [leadId]);
    const sends = await tx.query<{ id: string; idempotency_key: string; report_key: string | null }>(
      `SELECT id, idempotency_key, report_key FROM email_sends WHERE lead_id = $1 AND idempotency_key NOT LIKE 'erased:%'`,
      [leadId],
    );
    const erasedKey = (value: string | null) => (value === null ? null : `erased:${erasedIdHash(value)}`);
    await tx.query(
      `UPDATE email_sends s SET idempotency_key = p.idempotency_key, report_key = p.report_key
       FROM unnest($1::bigint[], $2::text[], $3::text[]) AS p(id, idempotency_key, report_key) WHERE s.id = p.id`,
      [sends.rows.map((row) => row.id), sends.rows.map((row) => erasedKey(row.idempotency_key)), sends.rows.map((row) => erasedKey(row.report_key))],
    );
    await tx.query(`UPDATE email_sends SET to_address = NULL, message = NULL, subject = '[erased]', smtp_response = NULL WHERE lead_id = $1`, [leadId]);
    await tx.query(
      'UPDATE email_engagements SET ip = NULL, user_agent = NULL, url = NULL WHERE send_id IN (SELECT id FROM email_sends WHERE lead_id = $1)',
      [leadId],
    );
    await tx.query(`UPDATE consent_records SET ip = NULL, user_agent = NULL, evidence = '{}', source = 'erased' WHERE lead_id = $1`, [leadId]);
    await tx.query(`UPDATE handoffs SET recent_activity = '[]', response_note = NULL, routing_log = '[]' WHERE lead_id = $1`, [leadId]);
    await tx.query(`UPDATE handoff_events SET detail = '{}' WHERE handoff_id IN (SELECT id FROM handoffs WHERE lead_id = $1)`, [leadId]);
    await shredLeadKey(tx, leadId);
    const ended = await endOpenEnrolmentsOfLead(tx, leadId, ERASED_EXIT);
    const erasedWorkflows = (await enrolmentsOfLead(tx, leadId)).filter((row) => row.exit_reason === ERASED_EXIT).map((row) => row.workflow_id);
    return { erasedAt: erased.rows[0]!.erased_at, openWorkflows: ended, erasedWorkflows };
  });
}

/**
 * A lead's journey in one campaign as the workflow's clock saw it (emails at the time they were
 * asked for, not sent: under virtual time the mailer's clock is another), for scenario tests.
 */
export async function campaignJourney(db: Db, leadId: string, campaignId: string) {
  const [emails, stages, handoffs, exits] = await Promise.all([
    db.query<{ id: string; sendKey: string; at: Date; template: string; step: string | null; subject: string; status: string }>(
      `SELECT id, idempotency_key AS "sendKey", created_at AS at, template, step_path AS step, subject, status FROM email_sends
       WHERE lead_id = $1 AND campaign_id = $2 AND kind IN ('step', 'trigger') ORDER BY created_at, id`,
      [leadId, campaignId],
    ),
    db.query<{ at: Date; from: string; to: string }>(
      `SELECT c.changed_at AS at, c.from_stage AS from, c.to_stage AS to FROM stage_changes c JOIN enrolments e ON e.id = c.enrolment_id
       WHERE e.lead_id = $1 AND e.campaign_id = $2 ORDER BY c.changed_at, c.id`,
      [leadId, campaignId],
    ),
    db.query<{ at: Date; owner: string | null }>(
      `SELECT h.created_at AS at, r.email AS owner FROM handoffs h LEFT JOIN sales_reps r ON r.id = h.owner_id
       WHERE h.lead_id = $1 AND h.campaign_id = $2 ORDER BY h.created_at, h.id`,
      [leadId, campaignId],
    ),
    db.query<{ at: Date; reason: string }>(
      `SELECT ended_at AS at, exit_reason AS reason FROM enrolments
       WHERE lead_id = $1 AND campaign_id = $2 AND ended_at IS NOT NULL ORDER BY ended_at, id`,
      [leadId, campaignId],
    ),
  ]);
  return { emails: emails.rows, stages: stages.rows, handoffs: handoffs.rows, exits: exits.rows };
}
