import { addressHash, normaliseAddress } from '../mail/identity';
import type { Db } from './pool';

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
  const { rows } = await db.query<LeadRow & { created: boolean }>(
    `INSERT INTO leads (email, email_hash, attributes, timezone, external_id)
     VALUES ($1, $2, jsonb_strip_nulls($3::jsonb), $4, $5)
     ON CONFLICT (email_hash) DO UPDATE SET
       email = EXCLUDED.email,
       attributes = jsonb_strip_nulls(leads.attributes || $3::jsonb),
       timezone = COALESCE($4, leads.timezone),
       external_id = COALESCE($5, leads.external_id),
       updated_at = now(),
       erased_at = NULL
     RETURNING *, (xmax = 0) AS created`,
    [normaliseAddress(input.email), addressHash(input.email), JSON.stringify(input.attributes ?? {}), input.timezone ?? null, input.externalId ?? null],
  );
  const row = rows[0]!;
  return { lead: toLead(row), created: row.created };
}

export async function getLead(db: Db, id: string): Promise<Lead | undefined> {
  const { rows } = await db.query<LeadRow>('SELECT * FROM leads WHERE id = $1', [id]);
  return rows[0] && toLead(rows[0]);
}

export async function findLeadByEmail(db: Db, email: string): Promise<Lead | undefined> {
  const { rows } = await db.query<LeadRow>('SELECT * FROM leads WHERE email_hash = $1', [addressHash(email)]);
  return rows[0] && toLead(rows[0]);
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
