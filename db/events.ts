// Lead events as received. `external_id` (the sender's id) makes ingest idempotent. The API only
// stores them; the workers' dispatcher (worker/dispatcher.ts) claims each lead's undelivered
// events and delivers them to the workflows in arrival order.
import { createHash } from 'node:crypto';
import { addressHash, normaliseAddress } from './addresses';
import pg from 'pg';
import { inTransaction, type Db, type Pool, type PoolClient } from './pool';

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
  /** Failed deliveries so far. */
  attempts: number;
}

interface EventRow {
  id: number;
  external_id: string;
  lead_id: string;
  type: string;
  occurred_at: Date;
  data: Record<string, unknown>;
  machine: boolean;
  attempts: number;
}

/** The channel whose notifications wake the dispatchers (worker/dispatcher.ts). */
export const EVENTS_CHANNEL = 'nurture_events';

/**
 * Wakes the dispatchers after events were stored, off the request's path and coalesced: at most
 * one NOTIFY in flight per pool, and one more after it if events arrived meanwhile. A NOTIFY in
 * each insert's own transaction would serialise every commit on the notification queue's lock.
 */
const wakers = new WeakMap<Pool, { inFlight: boolean; again: boolean }>();
function wakeDispatchers(pool: Pool): void {
  const waker = wakers.get(pool) ?? { inFlight: false, again: false };
  wakers.set(pool, waker);
  if (waker.inFlight) {
    waker.again = true;
    return;
  }
  waker.inFlight = true;
  waker.again = false;
  pool
    .query(`NOTIFY ${EVENTS_CHANNEL}`)
    .catch(() => {}) // the dispatchers' poll is the safety net
    .finally(() => {
      waker.inFlight = false;
      if (waker.again) wakeDispatchers(pool);
    });
}

/** After storing through `db`: a pool is woken as above; a transaction notifies at its commit. */
export async function eventsStored(db: Db): Promise<void> {
  if (db instanceof pg.Pool) wakeDispatchers(db);
  else await db.query(`NOTIFY ${EVENTS_CHANNEL}`);
}

const EVENT_COLUMNS = 'id, external_id, lead_id, type, occurred_at, data, machine, attempts';
/** An event the dispatcher has still to deliver (an event of an erased lead has none to reach). */
const UNDELIVERED = 'delivered_at IS NULL AND lead_id IS NOT NULL';

const toEvent = (row: EventRow): StoredEvent => ({
  id: row.id,
  externalId: row.external_id,
  leadId: row.lead_id,
  type: row.type,
  occurredAt: row.occurred_at,
  data: row.data,
  machine: row.machine,
  attempts: row.attempts,
});

/**
 * Stores the events whose external ids are new, in one statement; returns those inserted now.
 * The dispatcher delivers them (a repeated id is a duplicate: stored and delivered once).
 */
export async function storeEvents(db: Db, events: EventInput[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
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
     RETURNING ${EVENT_COLUMNS}`,
    [JSON.stringify(records)],
  );
  if (rows.length) await eventsStored(db);
  return rows.map(toEvent);
}

/** The lead (by id) of each of these stored event ids. */
export async function leadsOfEvents(db: Db, externalIds: string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ external_id: string; lead_id: string }>(
    'SELECT external_id, lead_id FROM events WHERE external_id = ANY($1) AND lead_id IS NOT NULL',
    [externalIds],
  );
  return new Map(rows.map((row) => [row.external_id, row.lead_id]));
}

/** Who a single event is about: an existing lead by id, or an address (created if unknown). */
export type EventLead = { id: string } | { email: string };

/**
 * Accepts one event in one statement (one round trip): resolves or creates its lead, stores the
 * event unless its id is known. `leadId` is undefined when a lead named by id does not exist
 * or was erased (nothing is stored then). A known address is only read. Attributes to merge go
 * through upsertLead (db/leads.ts), which stores their change as an event of its own.
 */
export async function acceptEvent(
  db: Db,
  lead: EventLead,
  event: Omit<EventInput, 'leadId'>,
): Promise<{ leadId: string | undefined; duplicate: boolean }> {
  const values = [event.externalId, event.type, event.occurredAt, JSON.stringify(event.data), event.machine ?? false];
  const resolve =
    'id' in lead
      ? { sql: `lead AS (SELECT id FROM leads WHERE id = $6 AND erased_at IS NULL)`, params: [lead.id] }
      : {
          sql: `found AS (
             SELECT id FROM leads WHERE email_hash = $7 AND erased_at IS NULL
           ), upserted AS (
             INSERT INTO leads (email, email_hash)
             SELECT $6, $7 WHERE NOT EXISTS (SELECT 1 FROM found)
             ON CONFLICT (email_hash) DO UPDATE SET
               email = EXCLUDED.email,
               updated_at = now(),
               erased_at = NULL
             RETURNING id
           ), lead AS (SELECT id FROM found UNION ALL SELECT id FROM upserted)`,
          params: [normaliseAddress(lead.email), addressHash(lead.email)],
        };
  const { rows } = await db.query<{ lead_id: string | null; inserted: boolean; earlier_lead: string | null }>(
    `WITH ${resolve.sql},
     stored AS (
       INSERT INTO events (external_id, lead_id, type, occurred_at, data, machine)
       SELECT $1, lead.id, $2, $3, $4::jsonb, $5 FROM lead
       ON CONFLICT (external_id) DO NOTHING
       RETURNING id
     )
     SELECT (SELECT id FROM lead) AS lead_id, EXISTS (SELECT 1 FROM stored) AS inserted,
            (SELECT lead_id FROM events WHERE external_id = $1) AS earlier_lead`,
    [...values, ...resolve.params],
  );
  const row = rows[0]!;
  if (!row.lead_id) return { leadId: undefined, duplicate: false };
  if (row.inserted) await eventsStored(db);
  // A duplicate answers with the lead its first copy was stored for.
  return { leadId: row.inserted ? row.lead_id : (row.earlier_lead ?? row.lead_id), duplicate: !row.inserted };
}

/**
 * Stores an open or click event unless the same link token was stored within `windowMs` (a mail
 * client refetching, a double click): race-free, as the token's row is locked by the upsert.
 * Returns whether it was stored. `record` runs in the same transaction, after the check, and
 * gives the event to store (if any).
 */
export async function storeTrackedEvent(
  pool: Pool,
  token: string,
  windowMs: number,
  record: (tx: Db) => Promise<EventInput | null>,
): Promise<boolean> {
  const tokenHash = createHash('sha256').update(token).digest('base64url');
  return inTransaction(pool, async (tx) => {
    const { rowCount } = await tx.query(
      `INSERT INTO tracking_hits (token_hash, stored_at) VALUES ($1, now())
       ON CONFLICT (token_hash) DO UPDATE SET stored_at = now()
       WHERE tracking_hits.stored_at <= now() - make_interval(secs => $2::float8 / 1000)`,
      [tokenHash, windowMs],
    );
    if (!rowCount) return false;
    const event = await record(tx);
    if (event) await storeEvents(tx, [event]);
    return true;
  });
}

/** Lock namespace of the dispatchers' per-lead advisory locks. */
const DISPATCH_LOCKS = 7301;

/**
 * Claims up to `limit` leads whose oldest undelivered event is due, oldest first, by taking each
 * lead's session advisory lock on `session` (a connection the dispatcher keeps): a lead is
 * delivered by one dispatcher at a time, and its lock dies with the connection. `holding`: the
 * leads this session has claimed already (a session may take its own lock again).
 */
export async function claimLeads(session: PoolClient, limit: number, holding: string[]): Promise<string[]> {
  const { rows } = await session.query<{ lead_id: string }>(
    `WITH heads AS MATERIALIZED (
       SELECT DISTINCT ON (lead_id) lead_id, id, next_attempt_at FROM events
       WHERE ${UNDELIVERED} ORDER BY lead_id, id
     )
     SELECT lead_id FROM (
       SELECT lead_id FROM heads
       WHERE (next_attempt_at IS NULL OR next_attempt_at <= now()) AND lead_id <> ALL($2::uuid[])
       ORDER BY id OFFSET 0
     ) due
     WHERE pg_try_advisory_lock(${DISPATCH_LOCKS}, hashtext(lead_id::text))
     LIMIT $1`,
    [limit, holding],
  );
  return rows.map((row) => row.lead_id);
}

/** Releases a lead the session claimed. */
export async function releaseLead(session: PoolClient, leadId: string): Promise<void> {
  await session.query(`SELECT pg_advisory_unlock(${DISPATCH_LOCKS}, hashtext($1::text))`, [leadId]);
}

/** The undelivered events of these leads, each lead's in arrival order. */
export async function undeliveredEvents(db: Db, leadIds: string[]): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE ${UNDELIVERED} AND lead_id = ANY($1::uuid[]) ORDER BY lead_id, id`,
    [leadIds],
  );
  return rows.map(toEvent);
}

/** Notes that these events reached the workflows. */
export async function markDelivered(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('UPDATE events SET delivered_at = now(), next_attempt_at = NULL, last_error = NULL WHERE id = ANY($1) AND delivered_at IS NULL', [ids]);
}

/** Notes a failed delivery: the event (and its lead's later ones) waits `delayMs` for the next attempt. */
export async function deferDelivery(db: Db, id: number, delayMs: number, error: string): Promise<void> {
  await db.query(
    `UPDATE events SET attempts = attempts + 1, last_error = left($3, 1000),
       next_attempt_at = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id = $1`,
    [id, delayMs, error],
  );
}

/** When these events were stored and marked delivered (benchmarks). */
export async function deliveryTimes(db: Db, externalIds: string[]): Promise<{ externalId: string; leadId: string; receivedAt: Date; deliveredAt: Date | null }[]> {
  const { rows } = await db.query<{ external_id: string; lead_id: string; received_at: Date; delivered_at: Date | null }>(
    'SELECT external_id, lead_id, received_at, delivered_at FROM events WHERE external_id = ANY($1)',
    [externalIds],
  );
  return rows.map((row) => ({ externalId: row.external_id, leadId: row.lead_id, receivedAt: row.received_at, deliveredAt: row.delivered_at }));
}

export interface DeliveryBacklog {
  /** Stored events not delivered yet. */
  undelivered: number;
  /** Of those, events whose delivery failed at least once. */
  retrying: number;
  /** Age of the oldest undelivered event (since it was stored), in seconds; 0 when none. */
  oldestSeconds: number;
  /** Time from storing to delivery over the events delivered in the last 5 minutes. */
  lagSeconds: { p50: number; p99: number; max: number; delivered: number };
  /** The latest delivery error, if any event is retrying. */
  lastError: string | null;
}

/** What the dashboard and /metrics show of the dispatchers' work. */
export async function deliveryBacklog(db: Db): Promise<DeliveryBacklog> {
  const { rows } = await db.query(
    `SELECT
       (SELECT count(*) FROM events WHERE ${UNDELIVERED}) AS undelivered,
       (SELECT count(*) FROM events WHERE ${UNDELIVERED} AND attempts > 0) AS retrying,
       (SELECT coalesce(extract(epoch FROM now() - min(received_at)), 0) FROM events WHERE ${UNDELIVERED}) AS oldest,
       (SELECT last_error FROM events WHERE ${UNDELIVERED} AND last_error IS NOT NULL ORDER BY next_attempt_at DESC LIMIT 1) AS last_error,
       lag.*
     FROM (
       SELECT count(*) AS delivered,
         coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY s), 0) AS p50,
         coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY s), 0) AS p99,
         coalesce(max(s), 0) AS max
       FROM (SELECT extract(epoch FROM delivered_at - received_at) AS s FROM events
             WHERE delivered_at > now() - interval '5 minutes') recent
     ) lag`,
  );
  const row = rows[0];
  return {
    undelivered: Number(row.undelivered),
    retrying: Number(row.retrying),
    oldestSeconds: Number(row.oldest),
    lagSeconds: { p50: Number(row.p50), p99: Number(row.p99), max: Number(row.max), delivered: Number(row.delivered) },
    lastError: row.last_error,
  };
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
