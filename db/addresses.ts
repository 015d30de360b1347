// Lead addresses are compared and hashed in one normal form, and keyed by the hash: it is what
// lead uniqueness and suppressions rest on, and it survives the erasure of the address itself.
// The hash is an HMAC keyed from DATA_SECRET, so that a copy of the database alone does not
// tell whether an address is in it. Each process sets the key once at start (useAddressKey).
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { inTransaction, type Pool } from './pool';

let addressKey: Buffer | undefined;

/** Trimmed and lower-cased. */
export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** Sets the key of address hashes for this process, from DATA_SECRET. */
export function useAddressKey(dataSecret: string): void {
  addressKey = Buffer.from(hkdfSync('sha256', dataSecret, 'nurture', 'address hash', 32));
}

function keyedHmac(text: string) {
  if (!addressKey) throw new Error('no address key: call useAddressKey(DATA_SECRET) when the process starts');
  return createHmac('sha256', addressKey).update(text);
}

export function addressHash(address: string): string {
  return keyedHmac(normaliseAddress(address)).digest('hex');
}

/** A keyed hash of a client-chosen id of an erased lead: still unique, no longer readable. */
export function erasedIdHash(value: string): string {
  return keyedHmac(`erased id:${value}`).digest('base64url');
}

/** The unkeyed hash stored before migration 0005 (kept for suppressions nobody can re-key). */
export function legacyAddressHash(address: string): string {
  return createHash('sha256').update(normaliseAddress(address)).digest('hex');
}

/**
 * Makes the stored hashes those of this process's key: the first time, re-keys every hash whose
 * address is still known and keeps the others' suppressions as legacy SHA-256; afterwards only
 * checks that the key is the one the hashes were made with (a changed DATA_SECRET would silently
 * un-suppress every address, so it is refused).
 */
export async function adoptAddressKey(pool: Pool): Promise<void> {
  const fingerprint = addressHash('fingerprint of the address key');
  await inTransaction(pool, async (tx) => {
    await tx.query('LOCK TABLE address_hash_key IN EXCLUSIVE MODE');
    const { rows } = await tx.query<{ fingerprint: string }>('SELECT fingerprint FROM address_hash_key');
    if (rows[0]) {
      if (rows[0].fingerprint !== fingerprint) {
        throw new Error('DATA_SECRET is not the one the stored addresses were hashed with: suppressions would no longer match; start with the original DATA_SECRET');
      }
      return;
    }
    const leads = await tx.query<{ id: string; email: string; email_hash: string }>('SELECT id, email, email_hash FROM leads WHERE email IS NOT NULL');
    const known = leads.rows.filter((row) => row.email_hash === legacyAddressHash(row.email));
    if (known.length > 0) {
      const pairs = { old: known.map((row) => row.email_hash), new: known.map((row) => addressHash(row.email)) };
      await tx.query(
        `UPDATE suppressions s SET email_hash = p.new FROM unnest($1::text[], $2::text[]) AS p(old, new) WHERE s.email_hash = p.old`,
        [pairs.old, pairs.new],
      );
      await tx.query(`UPDATE leads l SET email_hash = p.new FROM unnest($1::text[], $2::text[]) AS p(old, new) WHERE l.email_hash = p.old`, [pairs.old, pairs.new]);
    }
    // Suppressions of addresses no lead holds any more: keep them as what they are, SHA-256.
    await tx.query(
      `WITH moved AS (
         DELETE FROM suppressions s
         WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.email_hash = s.email_hash AND l.email IS NOT NULL)
         RETURNING email_hash, reason, created_at)
       INSERT INTO legacy_suppressions (sha256, reason, created_at) SELECT email_hash, reason, created_at FROM moved
       ON CONFLICT DO NOTHING`,
    );
    // Erased leads keep a hash nobody can recompute: mark them so no new address ever matches.
    await tx.query(`UPDATE leads SET email_hash = 'legacy:' || email_hash WHERE email IS NULL AND email_hash NOT LIKE 'legacy:%'`);
    await tx.query('INSERT INTO address_hash_key (fingerprint) VALUES ($1)', [fingerprint]);
  });
}
