// Leads: one row per address (by its hash), attributes as JSON, erasable.
import { changedAttributes, LEAD_UPDATED, type LeadSnapshot, type LeadStep } from '../campaign';
import { addressHash, normaliseAddress } from './addresses';
import { currentConsent } from './consent';
import { eventsStored } from './events';
import { inTransaction, type Db, type Pool } from './pool';

export interface Lead {
  id: string;
  email: string | null;
  externalId: string | null;
  attributes: Record<string, unknown>;
  timezone: string | null;
  createdAt: Date;
  updatedAt: Date;
  erasedAt: Date | null;
}

interface LeadRow {
  id: string;
  email: string | null;
  external_id: string | null;
  attributes: Record<string, unknown>;
  timezone: string | null;
  created_at: Date;
  updated_at: Date;
  erased_at: Date | null;
}

const toLead = (row: LeadRow): Lead => ({
  id: row.id,
  email: row.email,
  externalId: row.external_id,
  attributes: row.attributes,
  timezone: row.timezone,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  erasedAt: row.erased_at,
});

export interface LeadInput {
  email: string;
  attributes?: Record<string, unknown>;
  timezone?: string | null;
  externalId?: string | null;
}

/**
 * Creates the lead or updates the one with the same address: given attributes are merged over
 * the stored ones (a key set to null removes it), a given time zone or external id replaces
 * the stored one.
 */
export async function upsertLead(db: Db, input: LeadInput): Promise<{ lead: Lead; created: boolean }> {
  // A change to an existing lead's attributes is stored as a lead.updated event in the same
  // statement, so that the dispatcher takes it to the lead's running enrolments in order with
  // its other events (the row lock of the update orders two concurrent changes).
  const { rows } = await db.query<LeadRow & { created: boolean; attributes_changed: boolean }>(
    `WITH before AS (SELECT attributes FROM leads WHERE email_hash = $2 AND erased_at IS NULL),
     upserted AS (
       INSERT INTO leads (email, email_hash, attributes, timezone, external_id)
       VALUES ($1, $2, jsonb_strip_nulls($3::jsonb), $4, $5)
       ON CONFLICT (email_hash) DO UPDATE SET
         email = EXCLUDED.email,
         attributes = jsonb_strip_nulls(leads.attributes || $3::jsonb),
         timezone = COALESCE($4, leads.timezone),
         external_id = COALESCE($5, leads.external_id),
         updated_at = now(),
         erased_at = NULL
       RETURNING *, (xmax = 0) AS created),
     changed AS (
       INSERT INTO events (external_id, lead_id, type, occurred_at, data)
       SELECT 'attributes:' || gen_random_uuid(), u.id, '${LEAD_UPDATED}', now(),
              jsonb_build_object('attributes', u.attributes,
                                 'changed', (SELECT coalesce(jsonb_agg(given.key ORDER BY given.key), '[]'::jsonb)
                                             FROM jsonb_each($3::jsonb) AS given WHERE b.attributes -> given.key IS DISTINCT FROM u.attributes -> given.key))
       FROM upserted u, before b
       WHERE NOT u.created AND b.attributes IS DISTINCT FROM u.attributes
       RETURNING 1)
     SELECT upserted.*, EXISTS (SELECT 1 FROM changed) AS attributes_changed FROM upserted`,
    [normaliseAddress(input.email), addressHash(input.email), JSON.stringify(input.attributes ?? {}), input.timezone ?? null, input.externalId ?? null],
  );
  const row = rows[0]!;
  if (row.attributes_changed) await eventsStored(db);
  return { lead: toLead(row), created: row.created };
}

/**
 * Changes an unerased lead's attributes as a campaign step says (campaign/types.ts
 * changedAttributes) and, when they change, stores the lead.updated event, in one transaction.
 */
export async function changeLeadAttributes(pool: Pool, leadId: string, change: Pick<LeadStep, 'set' | 'tag' | 'untag'>): Promise<boolean> {
  return inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ attributes: Record<string, unknown> }>('SELECT attributes FROM leads WHERE id = $1 AND erased_at IS NULL FOR UPDATE', [leadId]);
    if (!rows[0]) return false;
    const before = rows[0].attributes;
    const after = changedAttributes(before, change);
    const changed = Object.keys({ ...before, ...after }).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])).sort();
    if (changed.length === 0) return false;
    await tx.query('UPDATE leads SET attributes = $2, updated_at = now() WHERE id = $1', [leadId, JSON.stringify(after)]);
    await tx.query(
      `INSERT INTO events (external_id, lead_id, type, occurred_at, data) VALUES ('attributes:' || gen_random_uuid(), $1, '${LEAD_UPDATED}', now(), $2)`,
      [leadId, JSON.stringify({ attributes: after, changed })],
    );
    await eventsStored(tx);
    return true;
  });
}

export async function getLead(db: Db, id: string): Promise<Lead | undefined> {
  const { rows } = await db.query<LeadRow>('SELECT * FROM leads WHERE id = $1', [id]);
  return rows[0] && toLead(rows[0]);
}

/** What the interpreter knows of a lead: attributes (plus derived ones), time zone, consent; undefined once erased. */
export async function leadSnapshot(db: Db, leadId: string): Promise<LeadSnapshot | undefined> {
  const lead = await getLead(db, leadId);
  if (!lead || !lead.email) return undefined;
  return {
    id: lead.id,
    email: lead.email,
    attributes: { ...lead.attributes, email_domain: lead.email.split('@')[1] },
    timezone: lead.timezone ?? undefined,
    consent: await currentConsent(db, lead.id),
  };
}

/** Of these ids, the leads that exist and are not erased. */
export async function unerasedLeadIds(db: Db, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM leads WHERE id = ANY($1::uuid[]) AND erased_at IS NULL', [ids]);
  return new Set(rows.map((row) => row.id));
}

/** The ids of the unerased leads with these address hashes, by hash. */
export async function unerasedLeadIdsByHash(db: Db, hashes: string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; email_hash: string }>(
    'SELECT id, email_hash FROM leads WHERE email_hash = ANY($1) AND erased_at IS NULL',
    [hashes],
  );
  return new Map(rows.map((row) => [row.email_hash, row.id]));
}

/** Whether `externalId` already names a lead with another address. */
export async function externalIdTakenByOther(db: Db, externalId: string, email: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM leads WHERE external_id = $1 AND email_hash <> $2', [externalId, addressHash(email)]);
  return Boolean(rowCount);
}

/**
 * Leads whose address contains `text` (case-insensitive), newest first; without `text`, the
 * newest leads. strpos rather than LIKE, so that `%` and `_` in the search are plain characters.
 * Erased leads have no address and never match.
 */
export async function searchLeads(db: Db, options: { text?: string; limit: number }): Promise<Lead[]> {
  const { rows } = await db.query<LeadRow>(
    `SELECT * FROM leads
     WHERE email IS NOT NULL AND ($1::text IS NULL OR strpos(lower(email), lower($1)) > 0)
     ORDER BY created_at DESC, id
     LIMIT $2`,
    [options.text ?? null, options.limit],
  );
  return rows.map(toLead);
}
