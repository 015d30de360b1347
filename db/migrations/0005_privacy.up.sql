-- Privacy: per-lead data keys for Temporal payloads, keyed address hashes, complete erasure.

-- The payload codec's data keys (runtime/payload-codec.ts): one per lead ('lead:<id>') plus the
-- 'system' key, random, wrapped under a key derived from DATA_SECRET. Erasing a lead deletes its
-- key, which makes every Temporal history of the lead unreadable (crypto-shredding).
CREATE TABLE data_keys (
  id         uuid PRIMARY KEY,
  owner      text NOT NULL UNIQUE,
  wrapped    bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Address hashes are HMACs keyed from DATA_SECRET (they were plain SHA-256, which anyone can
-- recompute by trying addresses). The fingerprint of the key in use guards against a changed
-- DATA_SECRET, under which no stored hash would match and suppressed addresses would be mailed.
-- The processes re-key the stored hashes on their first start after this migration
-- (db/addresses.ts), since only they know the key.
CREATE TABLE address_hash_key (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  fingerprint text NOT NULL,
  adopted_at  timestamptz NOT NULL DEFAULT now()
);

-- Suppressions whose address nobody knows any more (erased before re-keying) keep their SHA-256,
-- checked against the address of a lead about to be mailed.
CREATE TABLE legacy_suppressions (
  sha256     text PRIMARY KEY,
  reason     text NOT NULL,
  created_at timestamptz NOT NULL
);
