// API keys: `nk_<prefix>_<secret>`. Only a SHA-256 of the whole key is stored; the prefix is
// kept in clear so that a key can be found (and named in logs) without its secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from './pool';

export type ApiScope = 'read' | 'write';
export const API_SCOPES: readonly ApiScope[] = ['read', 'write'];

export interface ApiKeyIdentity {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiScope[];
}

const KEY_FORMAT = /^nk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

export async function createApiKey(db: Db, name: string, scopes: ApiScope[]): Promise<{ key: string; id: string; prefix: string }> {
  if (!name.trim()) throw new Error('an API key needs a name');
  const unknown = scopes.filter((scope) => !API_SCOPES.includes(scope));
  if (unknown.length || scopes.length === 0) throw new Error(`scopes must be some of ${API_SCOPES.join(', ')}; got ${scopes.join(', ') || 'none'}`);
  const prefix = randomBytes(6).toString('hex');
  const key = `nk_${prefix}_${randomBytes(32).toString('base64url')}`;
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO api_keys (name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4) RETURNING id',
    [name, prefix, hashOf(key), [...new Set(scopes)]],
  );
  return { key, id: rows[0]!.id, prefix };
}

// Coarse last-use stamp: at most one write a minute per key and process, off the request's path
// (a lost stamp only makes "last used" a minute older).
const stampedAt = new Map<string, number>();
function stampLastUse(db: Db, id: string): void {
  const now = Date.now();
  if ((stampedAt.get(id) ?? 0) > now - 60_000) return;
  stampedAt.set(id, now);
  db.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [id]).catch(() => {
    stampedAt.delete(id);
  });
}

/** The key's identity when it is well-formed, known, unrevoked and its secret matches. */
export async function verifyApiKey(db: Db, key: string): Promise<ApiKeyIdentity | undefined> {
  const match = KEY_FORMAT.exec(key);
  if (!match) return undefined;
  const { rows } = await db.query<{ id: string; name: string; key_hash: string; scopes: ApiScope[] }>(
    'SELECT id, name, key_hash, scopes FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL',
    [match[1]],
  );
  const row = rows[0];
  if (!row) return undefined;
  const given = Buffer.from(hashOf(key), 'hex');
  const stored = Buffer.from(row.key_hash, 'hex');
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined;
  stampLastUse(db, row.id);
  return { id: row.id, name: row.name, prefix: match[1]!, scopes: row.scopes };
}

export async function revokeApiKey(db: Db, prefix: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE api_keys SET revoked_at = now() WHERE prefix = $1 AND revoked_at IS NULL', [prefix]);
  return rowCount === 1;
}
