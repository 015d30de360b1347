// Campaigns and their immutable versions. Saving the same content again returns the version
// that already has it, so re-deploying a file is harmless.
import { campaignHash, type Campaign, type CampaignStatus } from '../campaign';
import { inTransaction, type Db, type Pool } from './pool';

/** A campaign's row as the API shows it. */
export interface CampaignRow {
  id: string;
  name: string;
  status: CampaignStatus;
  current_version: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface CampaignVersion {
  campaignId: string;
  version: number;
  contentHash: string;
  definition: Campaign;
  /** The text it was written in (YAML or JSON), when it was submitted as text. */
  source?: string;
  createdAt: Date;
}

/** `hash` is campaignHash(campaign) when the caller has it already (the API computes it off the event loop). */
export async function saveCampaignVersion(pool: Pool, campaign: Campaign, source?: string, hash = campaignHash(campaign)): Promise<{ version: number; created: boolean }> {
  return inTransaction(pool, async (tx) => {
    await tx.query(
      `INSERT INTO campaigns (id, name) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()`,
      [campaign.id, campaign.name],
    );
    // Lock the campaign so concurrent saves number their versions one after another.
    await tx.query('SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE', [campaign.id]);
    const existing = await tx.query<{ version: number }>(
      'SELECT version FROM campaign_versions WHERE campaign_id = $1 AND content_hash = $2',
      [campaign.id, hash],
    );
    if (existing.rows[0]) return { version: existing.rows[0].version, created: false };
    const { rows } = await tx.query<{ version: number }>(
      `INSERT INTO campaign_versions (campaign_id, version, content_hash, definition, source)
       SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4 FROM campaign_versions WHERE campaign_id = $1
       RETURNING version`,
      [campaign.id, hash, JSON.stringify(campaign), source ?? null],
    );
    const version = rows[0]!.version;
    await tx.query('UPDATE campaigns SET current_version = $2, updated_at = now() WHERE id = $1', [campaign.id, version]);
    return { version, created: true };
  });
}

export async function getCampaignVersion(db: Db, campaignId: string, version?: number): Promise<CampaignVersion | undefined> {
  const { rows } = await db.query(
    `SELECT v.* FROM campaign_versions v JOIN campaigns c ON c.id = v.campaign_id
     WHERE v.campaign_id = $1 AND v.version = COALESCE($2, c.current_version)`,
    [campaignId, version ?? null],
  );
  return rows[0] && toVersion(rows[0]);
}

/** Sets the status; returns the change's number (see campaign_fanouts), or undefined when there is no such campaign. */
export async function setCampaignStatus(db: Db, campaignId: string, status: CampaignStatus): Promise<number | undefined> {
  const { rows } = await db.query<{ status_seq: number }>(
    'UPDATE campaigns SET status = $2, status_seq = status_seq + 1, updated_at = now() WHERE id = $1 RETURNING status_seq',
    [campaignId, status],
  );
  return rows[0]?.status_seq;
}

/** A campaign's status and the number of its latest change (undefined when it does not exist). */
export async function campaignStatus(db: Db, campaignId: string): Promise<{ status: CampaignStatus; statusSeq: number } | undefined> {
  const { rows } = await db.query<{ status: CampaignStatus; status_seq: number }>('SELECT status, status_seq FROM campaigns WHERE id = $1', [campaignId]);
  return rows[0] && { status: rows[0].status, statusSeq: rows[0].status_seq };
}

const SELECT_CAMPAIGN = 'SELECT id, name, status, current_version, created_at, updated_at FROM campaigns';

export async function getCampaign(db: Db, campaignId: string): Promise<CampaignRow | undefined> {
  const { rows } = await db.query<CampaignRow>(`${SELECT_CAMPAIGN} WHERE id = $1`, [campaignId]);
  return rows[0];
}

export async function listCampaigns(db: Db): Promise<CampaignRow[]> {
  const { rows } = await db.query<CampaignRow>(`${SELECT_CAMPAIGN} ORDER BY created_at, id`);
  return rows;
}

/** Every version of the campaign, oldest first (without the definitions). */
export async function listCampaignVersions(db: Db, campaignId: string): Promise<{ version: number; content_hash: string; created_at: Date }[]> {
  const { rows } = await db.query('SELECT version, content_hash, created_at FROM campaign_versions WHERE campaign_id = $1 ORDER BY version', [campaignId]);
  return rows;
}

/** Active campaigns at their current version (those events can enter and launches enrol into). */
export async function activeCampaignVersions(db: Db): Promise<CampaignVersion[]> {
  const { rows } = await db.query(
    `SELECT v.* FROM campaigns c JOIN campaign_versions v ON v.campaign_id = c.id AND v.version = c.current_version
     WHERE c.status = 'active'`,
  );
  return rows.map(toVersion);
}

/** Changes whenever a campaign is added, changes status or gets a version: what a cache of them checks. */
export async function campaignsGeneration(db: Db): Promise<string> {
  // Status changes and new versions only ever raise status_seq and current_version.
  const { rows } = await db.query<{ generation: string }>(
    `SELECT count(*) || ':' || coalesce(sum(status_seq), 0) || ':' || coalesce(sum(current_version), 0) AS generation FROM campaigns`,
  );
  return rows[0]!.generation;
}

function toVersion(row: Record<string, any>): CampaignVersion {
  return { campaignId: row.campaign_id, version: row.version, contentHash: row.content_hash, definition: row.definition, ...(row.source !== null && { source: row.source }), createdAt: row.created_at };
}
