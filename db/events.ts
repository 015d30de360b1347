// Lead events as received. `external_id` (the sender's id) makes ingest idempotent; an event is
// handed to the engine once, and again only if that first delivery never completed.
import type { Db, Pool } from './pool';

export interface EventInput {
  externalId: string;
  leadId: string;
  type: string;
  occurredAt: Date;
  data: Record<string, unknown>;
  machine?: boolean;
}

export interface StoredEvent extends EventInput {
  id: number;
  machine: boolean;
}

interface EventRow {
  id: number;
  external_id: string;
  lead_id: string;
  type: string;
  occurred_at: Date;
  data: Record<string, unknown>;
  machine: boolean;
}

const toEvent = (row: EventRow): StoredEvent => ({
  id: row.id,
  externalId: row.external_id,
  leadId: row.lead_id,
  type: row.type,
  occurredAt: row.occurred_at,
  data: row.data,
  machine: row.machine,
});

/**
 * Stores the events whose external ids are new. Returns those inserted now, and the earlier
 * ones with the same ids that were never delivered (so that a retry completes them).
 */
export async function storeEvents(db: Db, events: EventInput[]): Promise<{ inserted: StoredEvent[]; undelivered: StoredEvent[] }> {
  if (events.length === 0) return { inserted: [], undelivered: [] };
  const records = events.map((event) => ({
    external_id: event.externalId,
    lead_id: event.leadId,
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    data: event.data,
    machine: event.machine ?? false,
  }));
  const { rows } = await db.query<EventRow>(
    `INSERT INTO events (external_id, lead_id, type, occurred_at, data, machine)
     SELECT external_id, lead_id, type, occurred_at, data, machine
     FROM jsonb_to_recordset($1::jsonb)
       AS x(external_id text, lead_id uuid, type text, occurred_at timestamptz, data jsonb, machine boolean)
     ON CONFLICT (external_id) DO NOTHING
     RETURNING id, external_id, lead_id, type, occurred_at, data, machine`,
    [JSON.stringify(records)],
  );
  const inserted = rows.map(toEvent);
  const fresh = new Set(inserted.map((event) => event.externalId));
  const others = events.map((event) => event.externalId).filter((id) => !fresh.has(id));
  if (others.length === 0) return { inserted, undelivered: [] };
  const pending = await db.query<EventRow>(
    `SELECT id, external_id, lead_id, type, occurred_at, data, machine FROM events
     WHERE external_id = ANY($1) AND delivered_at IS NULL AND lead_id IS NOT NULL`,
    [others],
  );
  return { inserted, undelivered: pending.rows.map(toEvent) };
}

/**
 * Notes that these events reached the engine. The mark only saves a redelivery (which the
 * engine deduplicates by event id), so it is committed without waiting for the disk flush.
 */
export async function markDelivered(pool: Pool, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  // One statement, one round trip: the setting is local to the statement's own transaction.
  await pool.query(
    `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
     UPDATE events SET delivered_at = now() FROM relaxed WHERE id = ANY($1) AND delivered_at IS NULL`,
    [ids],
  );
}

/** The lead's latest human events up to `before`, newest first (what a sales notice lists as recent activity). */
export async function recentHumanEvents(db: Db, leadId: string, before: Date, limit: number): Promise<{ at: string; type: string; data: Record<string, unknown> }[]> {
  const { rows } = await db.query<{ at: Date; type: string; data: Record<string, unknown> }>(
    `SELECT occurred_at AS at, type, data FROM events
     WHERE lead_id = $1 AND NOT machine AND occurred_at <= $2 ORDER BY occurred_at DESC LIMIT $3`,
    [leadId, before, limit],
  );
  return rows.map((row) => ({ at: row.at.toISOString(), type: row.type, data: row.data }));
}
