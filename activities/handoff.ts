// Handing a qualified lead to sales: choose an owner, record the handoff, and keep its timeline.
// Every step is idempotent on the handoff id, so a retried activity changes nothing twice.
import { ApplicationFailure } from '@temporalio/common';
import { inTransaction, type Db, type Pool } from '../db/pool';

export interface AssignmentRule {
  /** Reps of this pool share the leads. */
  pool: string;
  /** 'round_robin': in turn within the pool; 'territory': in turn among reps whose territory matches. */
  strategy: 'round_robin' | 'territory';
  /** Lead attribute naming the territory, e.g. 'region' (dots reach into objects). */
  territoryBy?: string;
}

export interface OpenHandoffRequest {
  handoffId: string;
  enrolmentId: number;
  leadId: string;
  campaignId: string;
  score: number;
  reasons: string[];
  breakdown: unknown[];
  firstContactDue: number;
  outcomeDue?: number;
  assign: AssignmentRule;
  /** The workflow's clock. */
  at: number;
}

export interface Person {
  name: string;
  email: string;
}

export interface OpenedHandoff {
  handoffId: string;
  owner: Person & { id: string };
  manager: Person;
  pool: string;
  territory: string;
  lead: { email: string | null; attributes: Record<string, unknown> };
  recentActivity: { at: string; type: string; data: Record<string, unknown> }[];
}

export function createHandoffActivities(deps: { pool: Pool }) {
  return {
    /** Assigns an owner and records the handoff; asking again returns the same answer. */
    async openHandoff(request: OpenHandoffRequest): Promise<OpenedHandoff> {
      return inTransaction(deps.pool, async (tx) => {
        const lead = (
          await tx.query<{ email: string | null; attributes: Record<string, unknown> }>(
            'SELECT email, attributes FROM leads WHERE id = $1',
            [request.leadId],
          )
        ).rows[0];
        if (!lead) throw ApplicationFailure.nonRetryable(`lead ${request.leadId} does not exist`, 'UnknownLead');
        const manager = await poolManager(tx, request.assign.pool);
        const recentActivity = (
          await tx.query(
            `SELECT occurred_at AS at, type, data FROM events
             WHERE lead_id = $1 AND NOT machine AND occurred_at <= $2 ORDER BY occurred_at DESC LIMIT 10`,
            [request.leadId, new Date(request.at)],
          )
        ).rows.map((row) => ({ at: (row.at as Date).toISOString(), type: row.type as string, data: row.data }));

        const existing = (
          await tx.query(
            `SELECT h.pool, h.recent_activity, r.id, r.name, r.email, h.reasons
             FROM handoffs h JOIN sales_reps r ON r.id = h.owner_id WHERE h.id = $1`,
            [request.handoffId],
          )
        ).rows[0];
        if (existing) {
          return {
            handoffId: request.handoffId,
            owner: { id: existing.id, name: existing.name, email: existing.email },
            manager,
            pool: existing.pool,
            territory: territoryOf(lead.attributes, request.assign),
            lead,
            recentActivity: existing.recent_activity,
          };
        }

        const territory = territoryOf(lead.attributes, request.assign);
        const owner = await nextOwner(tx, request.assign.pool, territory);
        await tx.query(
          `INSERT INTO handoffs (id, enrolment_id, lead_id, campaign_id, owner_id, pool, score, reasons, breakdown,
                                 recent_activity, first_contact_due, outcome_due, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            request.handoffId,
            request.enrolmentId,
            request.leadId,
            request.campaignId,
            owner.id,
            request.assign.pool,
            request.score,
            JSON.stringify(request.reasons),
            JSON.stringify(request.breakdown),
            JSON.stringify(recentActivity),
            new Date(request.firstContactDue),
            request.outcomeDue ? new Date(request.outcomeDue) : null,
            new Date(request.at),
          ],
        );
        await addHandoffEvent(tx, request.handoffId, 'assigned', { owner: owner.email, territory }, request.at);
        return { handoffId: request.handoffId, owner, manager, pool: request.assign.pool, territory, lead, recentActivity };
      });
    },

    /** Appends to the handoff's timeline (notice sent, reminder, escalation, answer…). */
    async recordHandoffEvent(input: { handoffId: string; kind: string; detail?: Record<string, unknown>; at: number }): Promise<void> {
      await inTransaction(deps.pool, async (tx) => {
        // A retried activity must not append the same entry twice.
        const { rowCount } = await tx.query(
          `SELECT 1 FROM handoff_events WHERE handoff_id = $1 AND kind = $2 AND at = $3`,
          [input.handoffId, input.kind, new Date(input.at)],
        );
        if (!rowCount) await addHandoffEvent(tx, input.handoffId, input.kind, input.detail ?? {}, input.at);
      });
    },

    /** The rep's answer, as the workflow accepted it. */
    async recordSalesResponse(input: {
      handoffId: string;
      outcome: 'accepted' | 'not_ready' | 'disqualified' | 'converted';
      note?: string;
      at: number;
    }): Promise<void> {
      await inTransaction(deps.pool, async (tx) => {
        const { rowCount } = await tx.query(
          `UPDATE handoffs SET status = $2, response_note = COALESCE($3, response_note),
                  responded_at = COALESCE(responded_at, $4)
           WHERE id = $1 AND status IS DISTINCT FROM $2`,
          [input.handoffId, input.outcome, input.note ?? null, new Date(input.at)],
        );
        if (rowCount) await addHandoffEvent(tx, input.handoffId, input.outcome, { note: input.note ?? null }, input.at);
      });
    },
  };
}

function territoryOf(attributes: Record<string, unknown>, rule: AssignmentRule): string {
  if (rule.strategy !== 'territory' || !rule.territoryBy) return '';
  let value: unknown = attributes;
  for (const part of rule.territoryBy.replace(/^lead\./, '').split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value).toLowerCase() : '';
}

async function poolManager(tx: Db, pool: string): Promise<Person> {
  const row = (await tx.query('SELECT manager_name, manager_email FROM sales_pools WHERE name = $1', [pool])).rows[0];
  if (!row) throw ApplicationFailure.nonRetryable(`sales pool "${pool}" does not exist`, 'UnknownSalesPool');
  return { name: row.manager_name ?? 'Sales manager', email: row.manager_email };
}

/**
 * The next rep in turn. The cursor row is advanced with one atomic upsert, which also locks it
 * until the transaction ends, so concurrent handoffs take distinct turns and the split stays
 * even. Reps of the lead's territory are preferred; with none, the whole pool shares.
 */
async function nextOwner(tx: Db, pool: string, territory: string): Promise<Person & { id: string }> {
  const reps = async (forTerritory: string) =>
    (
      await tx.query<{ id: string; name: string; email: string }>(
        `SELECT id, name, email FROM sales_reps
         WHERE pool = $1 AND active AND ($2 = '' OR $2 = ANY (SELECT lower(t) FROM unnest(territories) t))
         ORDER BY created_at, email`,
        [pool, forTerritory],
      )
    ).rows;
  let cursorKey = territory;
  let candidates = territory ? await reps(territory) : [];
  if (candidates.length === 0) {
    cursorKey = '';
    candidates = await reps('');
  }
  if (candidates.length === 0) {
    throw ApplicationFailure.nonRetryable(`sales pool "${pool}" has no active rep`, 'NoSalesRep');
  }
  const { rows } = await tx.query<{ turn: number }>(
    `INSERT INTO assignment_cursors (pool, territory, next_turn) VALUES ($1, $2, 1)
     ON CONFLICT (pool, territory) DO UPDATE SET next_turn = assignment_cursors.next_turn + 1
     RETURNING next_turn - 1 AS turn`,
    [pool, cursorKey],
  );
  return candidates[rows[0]!.turn % candidates.length]!;
}

async function addHandoffEvent(tx: Db, handoffId: string, kind: string, detail: Record<string, unknown>, at: number) {
  await tx.query('INSERT INTO handoff_events (handoff_id, kind, detail, at) VALUES ($1, $2, $3, $4)', [
    handoffId,
    kind,
    JSON.stringify(detail),
    new Date(at),
  ]);
}
