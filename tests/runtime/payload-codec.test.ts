// The payload codec on a real PostgreSQL key store: what it writes is unreadable without the
// lead's key, a lead's payloads use the lead's key, an erased key makes them unreadable for good,
// and a different DATA_SECRET is refused rather than silently making new keys.
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { workflowIdFor } from '../../campaign/enrolment-id';
import { dataKeyStore, payloadEncryption, shredLeadKey } from '../../db/data-keys';
import { upsertLead } from '../../db/leads';
import { ENCRYPTED_ENCODING, ErasedPayloadError, KEY_CACHE_MS, PayloadEncryption } from '../../runtime/payload-codec';
import { TEST_CONFIG } from '../e2e/config';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)!;
const read = (payload: Payload) => defaultPayloadConverter.fromPayload(payload);
const context = (workflowId: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId });

it("encrypts a lead's payloads with the lead's key; others with the system key; decodes them back", async () => {
  const codec = payloadEncryption(db.pool, TEST_CONFIG.dataSecret);
  const { lead } = await upsertLead(db.pool, { email: 'mika@codec.example', attributes: {} });
  const secret = { email: 'mika@codec.example', name: 'Mika' };
  const [encoded] = await codec.encode([json(secret)], context(workflowIdFor('c1', lead.id)));
  expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
  expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('mika');
  expect(read((await codec.decode([encoded!]))[0]!)).toEqual(secret);

  const [system] = await codec.encode([json('fan-out')], context('fanout:c1:1'));
  const keys = await db.pool.query<{ owner: string; id: string }>('SELECT owner, id FROM data_keys ORDER BY owner');
  expect(keys.rows.map((row) => row.owner)).toEqual([`lead:${lead.id}`, 'system']);
  expect(Buffer.from(encoded!.metadata!['encryption-key-id']!).toString()).toBe(keys.rows[0]!.id);
  expect(Buffer.from(system!.metadata!['encryption-key-id']!).toString()).toBe(keys.rows[1]!.id);
  // The keys are stored wrapped: the stored bytes are not the key that encrypts.
  const stored = await db.pool.query<{ wrapped: Buffer }>('SELECT wrapped FROM data_keys');
  for (const row of stored.rows) expect(row.wrapped.length).toBe(12 + 32 + 16);

  // Another process (its own cache) reads it too; plain payloads pass through untouched.
  const other = payloadEncryption(db.pool, TEST_CONFIG.dataSecret);
  expect(read((await other.decode([encoded!]))[0]!)).toEqual(secret);
  expect(await other.decode([json('plain')])).toEqual([json('plain')]);
});

it('a tampered payload is refused, not decoded into something else', async () => {
  const codec = payloadEncryption(db.pool, TEST_CONFIG.dataSecret);
  const [encoded] = await codec.encode([json({ score: 10 })], context('nurture:c1:00000000-0000-4000-8000-000000000001'));
  const data = Buffer.from(encoded!.data!);
  data[20] = data[20]! ^ 1;
  await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow();
});

it("after the lead's key is shredded, its payloads cannot be read by any process", async () => {
  const { lead } = await upsertLead(db.pool, { email: 'shred@codec.example', attributes: {} });
  const codec = payloadEncryption(db.pool, TEST_CONFIG.dataSecret);
  const [encoded] = await codec.encode([json({ email: 'shred@codec.example' })], context(workflowIdFor('c1', lead.id)));
  await shredLeadKey(db.pool, lead.id);
  await expect(payloadEncryption(db.pool, TEST_CONFIG.dataSecret).decode([encoded!])).rejects.toBeInstanceOf(ErasedPayloadError);
  codec.forget(`lead:${lead.id}`);
  await expect(codec.decode([encoded!])).rejects.toBeInstanceOf(ErasedPayloadError);
  // A payload written for the lead afterwards gets a new key: the old payloads stay unreadable.
  const [later] = await codec.encode([json('later')], context(workflowIdFor('c1', lead.id)));
  expect(read((await codec.decode([later!]))[0]!)).toBe('later');
  await expect(codec.decode([encoded!])).rejects.toBeInstanceOf(ErasedPayloadError);
});

it('keys stored under one DATA_SECRET do not open under another: the process says so', async () => {
  const codec = payloadEncryption(db.pool, TEST_CONFIG.dataSecret);
  const [encoded] = await codec.encode([json('x')], context('fanout:c2:1'));
  const stranger = payloadEncryption(db.pool, 'another-data-secret-of-at-least-32-characters');
  await expect(stranger.decode([encoded!])).rejects.toThrow(/DATA_SECRET/);
});

it('processes creating the same lead key at once end up with one key', async () => {
  const { lead } = await upsertLead(db.pool, { email: 'race@codec.example', attributes: {} });
  const codecs = Array.from({ length: 8 }, () => payloadEncryption(db.pool, TEST_CONFIG.dataSecret));
  const encoded = await Promise.all(codecs.map((codec) => codec.encode([json('race')], context(workflowIdFor('c1', lead.id)))));
  const ids = new Set(encoded.map(([payload]) => Buffer.from(payload!.metadata!['encryption-key-id']!).toString()));
  expect(ids.size).toBe(1);
  for (const [payload] of encoded) expect(read((await codecs[0]!.decode([payload!]))[0]!)).toBe('race');
});

it("loads a key once however many payloads ask for it, and re-checks it in the background once stale", async () => {
  const { lead } = await upsertLead(db.pool, { email: 'cache@codec.example', attributes: {} });
  const writer = payloadEncryption(db.pool, TEST_CONFIG.dataSecret);
  const encoded = await Promise.all(Array.from({ length: 50 }, (_, i) => writer.encode([json(i)], context(workflowIdFor('c1', lead.id)))));
  const store = dataKeyStore(db.pool);
  let lookups = 0;
  let clock = 0;
  const reader = new PayloadEncryption({
    secret: TEST_CONFIG.dataSecret,
    keys: { ...store, byId: (id) => (lookups++, store.byId(id)) },
    ownerOf: () => 'system',
    now: () => clock,
  });
  // A replayed history: all of its payloads at once, one lookup.
  const decoded = await Promise.all(encoded.map(([payload]) => reader.decode([payload!])));
  expect(decoded.map(([payload]) => read(payload!))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(lookups).toBe(1);
  // Stale: still used at once while the database is asked again; erased meanwhile, it is dropped.
  clock += KEY_CACHE_MS;
  await shredLeadKey(db.pool, lead.id);
  expect(read((await reader.decode([encoded[0]![0]!]))[0]!)).toBe(0);
  await vi.waitFor(() => expect(lookups).toBe(2));
  await vi.waitFor(() => expect(reader.decode([encoded[0]![0]!])).rejects.toBeInstanceOf(ErasedPayloadError));
});
