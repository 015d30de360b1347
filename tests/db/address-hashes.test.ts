// Address hashes are keyed (HMAC from DATA_SECRET). A database from before keying is re-keyed on
// the first start: hashes of known addresses become HMACs with their suppressions; suppressions
// nobody can re-key stay, as SHA-256, and still stop an address that comes back. A later start
// with another DATA_SECRET is refused instead of silently un-suppressing everyone.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addressHash, adoptAddressKey, legacyAddressHash, useAddressKey } from '../../db/addresses';
import { recordConsent } from '../../db/consent';
import { marketingIneligibility } from '../../db/eligibility';
import { upsertLead } from '../../db/leads';
import { suppressionOf } from '../../db/suppressions';
import { TEST_CONFIG } from '../e2e/config';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  useAddressKey(TEST_CONFIG.dataSecret);
  await db?.drop();
});

it('is an HMAC: the SHA-256 of the address (what anyone can compute) is not stored', () => {
  const sha256 = createHash('sha256').update('kana@example.com').digest('hex');
  expect(legacyAddressHash(' Kana@Example.com ')).toBe(sha256);
  expect(addressHash(' Kana@Example.com ')).not.toBe(sha256);
  expect(addressHash('kana@example.com')).toBe(addressHash(' KANA@example.com'));
});

it('re-keys a database hashed with SHA-256, keeps unre-keyable suppressions, and refuses another key afterwards', async () => {
  const pool = db.pool;
  // As migration 0004 left them: SHA-256 everywhere.
  const insertLead = (email: string | null, hash: string) =>
    pool.query<{ id: string }>(`INSERT INTO leads (email, email_hash, attributes, erased_at) VALUES ($1, $2, '{}', $3) RETURNING id`, [email, hash, email ? null : new Date()]);
  const kept = (await insertLead('kept@example.com', legacyAddressHash('kept@example.com'))).rows[0]!.id;
  await insertLead('bounced@example.com', legacyAddressHash('bounced@example.com'));
  await insertLead(null, legacyAddressHash('erased@example.com'));
  await pool.query(`INSERT INTO suppressions (email_hash, reason) VALUES ($1, 'hard_bounce'), ($2, 'erased'), ($3, 'unsubscribed')`, [
    legacyAddressHash('bounced@example.com'),
    legacyAddressHash('erased@example.com'),
    legacyAddressHash('never-a-lead@example.com'),
  ]);

  await adoptAddressKey(pool);
  const leads = await pool.query<{ email: string | null; email_hash: string }>('SELECT email, email_hash FROM leads ORDER BY email');
  expect(leads.rows).toEqual([
    { email: 'bounced@example.com', email_hash: addressHash('bounced@example.com') },
    { email: 'kept@example.com', email_hash: addressHash('kept@example.com') },
    { email: null, email_hash: `legacy:${legacyAddressHash('erased@example.com')}` },
  ]);
  expect((await suppressionOf(pool, 'bounced@example.com'))?.reason).toBe('hard_bounce');
  const legacy = await pool.query('SELECT sha256, reason FROM legacy_suppressions ORDER BY reason');
  expect(legacy.rows).toEqual([
    { sha256: legacyAddressHash('erased@example.com'), reason: 'erased' },
    { sha256: legacyAddressHash('never-a-lead@example.com'), reason: 'unsubscribed' },
  ]);

  // Someone erased earlier comes back under the same address: a new lead, still never mailed.
  const { lead } = await upsertLead(pool, { email: 'Erased@example.com', attributes: {} });
  await recordConsent(pool, { leadId: lead.id, purpose: 'marketing_email', granted: true, source: 'form' });
  expect(await marketingIneligibility(pool, lead.id, 'marketing_email', undefined, new Date())).toBe('suppressed');
  expect((await suppressionOf(pool, 'never-a-lead@example.com'))?.reason).toBe('unsubscribed');
  await recordConsent(pool, { leadId: kept, purpose: 'marketing_email', granted: true, source: 'form' });
  expect(await marketingIneligibility(pool, kept, 'marketing_email', undefined, new Date())).toBeUndefined();

  // The same key again: nothing to do. Another key: refused, naming DATA_SECRET.
  await adoptAddressKey(pool);
  useAddressKey('another-data-secret-of-at-least-32-characters');
  await expect(adoptAddressKey(pool)).rejects.toThrow(/DATA_SECRET is not the one the stored addresses were hashed with/);
  useAddressKey(TEST_CONFIG.dataSecret);
});
