// Encryption of every payload Nurture gives Temporal (workflow inputs, signals, activity
// arguments and results, queries, failures' messages): AES-256-GCM with a data key per lead, so
// that Temporal's histories hold no readable personal data and erasing a lead's key makes all of
// its histories unreadable at once (crypto-shredding). Payloads of no lead (campaign fan-outs, the
// codec endpoint's encodes) use the 'system' key.
//
// Data keys are random, kept in PostgreSQL wrapped (AES-256-GCM) under a key derived from
// DATA_SECRET; a process re-checks its copy of a key in the background once it is a minute old,
// so an erased key stops decrypting everywhere within a minute and one lookup.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import proto from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
// A CommonJS package: Node's ESM loader sees only its default export.
const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_CACHE_MS = 60_000;
/** The owner of payloads that belong to no lead. */
export const SYSTEM_KEY_OWNER = 'system';

/** Where data keys are kept: wrapped, by id and by owner ('lead:<id>' or 'system'). */
export interface DataKeyStore {
  ofOwner(owner: string): Promise<{ id: string; wrapped: Buffer } | undefined>;
  /** Stores the key unless the owner has one already; returns the owner's key either way. */
  create(owner: string, id: string, wrapped: Buffer): Promise<{ id: string; wrapped: Buffer }>;
  byId(id: string): Promise<{ owner: string; wrapped: Buffer } | undefined>;
}

/** Raised when a payload's key was erased: what it held is gone for good. */
export class ErasedPayloadError extends Error {
  constructor(readonly keyId: string) {
    super(`payload key ${keyId} does not exist (erased, or never one of ours): the payload cannot be read`);
    this.name = 'ErasedPayloadError';
  }
}

/**
 * The module Temporal loads for failures (worker, workflow bundle and clients): their message and
 * stack trace travel inside an encoded (so encrypted) payload, not as plain text.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

export interface PayloadEncryptionOptions {
  /** DATA_SECRET. */
  secret: string;
  keys: DataKeyStore;
  /** Which key a workflow's payloads use: 'lead:<id>' for a lead's enrolment, 'system' otherwise. */
  ownerOf(workflowId: string): string;
  now?: () => number;
}

interface DataKey {
  id: string;
  owner: string;
  key: Buffer;
}

/**
 * A key as cached: loaded once however many payloads ask for it at the same time (a replayed
 * history decodes all of its payloads at once), and re-checked in the background once older than
 * KEY_CACHE_MS, so that the database is on the path of a workflow task only for a key's first use.
 */
interface CacheEntry {
  key: Promise<DataKey>;
  /** Known once loaded. */
  owner?: string;
  at: number;
  checking?: boolean;
}

export class PayloadEncryption implements PayloadCodec {
  private readonly wrappingKey: Buffer;
  private readonly byOwner = new Map<string, CacheEntry>();
  private readonly byId = new Map<string, CacheEntry>();
  private readonly now: () => number;

  constructor(private readonly options: PayloadEncryptionOptions) {
    this.wrappingKey = Buffer.from(hkdfSync('sha256', options.secret, 'nurture', 'payload data key wrapping', 32));
    this.now = options.now ?? Date.now;
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    const owner = context?.workflowId ? this.options.ownerOf(context.workflowId) : SYSTEM_KEY_OWNER;
    const { id, key } = await this.cached(this.byOwner, owner, () => this.loadOwnerKey(owner), async (current) => (await this.options.keys.ofOwner(owner))?.id === current.id);
    return payloads.map((payload) => {
      const data = seal(key, PayloadMessage.encode(payload).finish(), id);
      return { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID]: Buffer.from(id) }, data };
    });
  }

  /** Payloads not encrypted (written before encryption, or by others) pass unchanged. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
        const id = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
        const { key } = await this.cached(this.byId, id, () => this.loadKey(id), async () => (await this.options.keys.byId(id)) !== undefined);
        const data = Buffer.from(payload.data ?? []);
        if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`encrypted payload of key ${id} is truncated`);
        return PayloadMessage.decode(open(key, data, id)) as Payload;
      }),
    );
  }

  /** Forgets cached keys (after an erasure in this process: the key must stop working here at once). */
  forget(owner: string): void {
    this.byOwner.delete(owner);
    // Keys still loading are dropped too: they load again when next asked for.
    for (const [id, entry] of this.byId) if (entry.owner === undefined || entry.owner === owner) this.byId.delete(id);
  }

  /**
   * The cached key of `name`, loaded if need be. A stale one is still used while `stillValid`
   * asks the database in the background: a key erased meanwhile is then dropped (its next use
   * fails), a database that cannot be reached leaves it in use until it can.
   */
  private cached(map: Map<string, CacheEntry>, name: string, load: () => Promise<DataKey>, stillValid: (key: DataKey) => Promise<boolean>): Promise<DataKey> {
    const entry = map.get(name);
    if (!entry) {
      const added: CacheEntry = { key: load(), at: this.now() };
      map.set(name, added);
      added.key.then(
        (key) => (added.owner = key.owner),
        () => map.get(name) === added && map.delete(name),
      );
      return added.key;
    }
    if (!entry.checking && this.now() - entry.at >= KEY_CACHE_MS) {
      entry.checking = true;
      void entry.key
        .then(stillValid)
        .then(
          (valid) => {
            if (!valid) map.get(name) === entry && map.delete(name);
            else entry.at = this.now();
          },
          () => {},
        )
        .finally(() => (entry.checking = false));
    }
    return entry.key;
  }

  private async loadOwnerKey(owner: string): Promise<DataKey> {
    let stored = await this.options.keys.ofOwner(owner);
    if (!stored) {
      const id = randomUUID();
      stored = await this.options.keys.create(owner, id, this.wrap(randomBytes(32), id));
    }
    return { id: stored.id, owner, key: this.unwrap(stored.wrapped, stored.id) };
  }

  private async loadKey(id: string): Promise<DataKey> {
    const stored = await this.options.keys.byId(id);
    if (!stored) throw new ErasedPayloadError(id);
    return { id, owner: stored.owner, key: this.unwrap(stored.wrapped, id) };
  }

  private wrap(key: Buffer, id: string): Buffer {
    return seal(this.wrappingKey, key, id);
  }

  private unwrap(wrapped: Buffer, id: string): Buffer {
    try {
      return open(this.wrappingKey, wrapped, id);
    } catch {
      throw new Error(`data key ${id} does not open with this DATA_SECRET: was DATA_SECRET changed?`);
    }
  }
}

/** AES-256-GCM of `plain` under `key`, bound to `id` (additional data): IV, ciphertext, tag. */
function seal(key: Buffer, plain: Uint8Array, id: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(id));
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** What `seal` sealed; throws when the key, the id or a byte differs. */
function open(key: Buffer, sealed: Buffer, id: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(id));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}
