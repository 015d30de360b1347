// The payload codec's data keys (see runtime/payload-codec.ts), kept wrapped: one per lead and
// the system key. Deleting a lead's key is the crypto-shredding step of its erasure.
import { leadOfWorkflowId } from '../campaign/enrolment-id';
import { PayloadEncryption, SYSTEM_KEY_OWNER, type DataKeyStore } from '../runtime/payload-codec';
import type { Db } from './pool';

/** The payload codec of a process: data keys in this database, wrapped under DATA_SECRET. */
export function payloadEncryption(db: Db, dataSecret: string): PayloadEncryption {
  return new PayloadEncryption({
    secret: dataSecret,
    keys: dataKeyStore(db),
    ownerOf: (workflowId) => {
      const leadId = leadOfWorkflowId(workflowId);
      return leadId ? leadKeyOwner(leadId) : SYSTEM_KEY_OWNER;
    },
  });
}

export function dataKeyStore(db: Db): DataKeyStore {
  const ofOwner = async (owner: string) => {
    const { rows } = await db.query<{ id: string; wrapped: Buffer }>('SELECT id, wrapped FROM data_keys WHERE owner = $1', [owner]);
    return rows[0];
  };
  return {
    ofOwner,
    async create(owner, id, wrapped) {
      const added = await db.query<{ id: string; wrapped: Buffer }>(
        'INSERT INTO data_keys (id, owner, wrapped) VALUES ($1, $2, $3) ON CONFLICT (owner) DO NOTHING RETURNING id, wrapped',
        [id, owner, wrapped],
      );
      // Otherwise another process created it first (committed after this statement began: read it anew).
      return added.rows[0] ?? (await ofOwner(owner))!;
    },
    async byId(id) {
      // Not a uuid: no key of ours (a payload from elsewhere), like an erased one.
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const { rows } = await db.query<{ owner: string; wrapped: Buffer }>('SELECT owner, wrapped FROM data_keys WHERE id = $1', [id]);
      return rows[0];
    },
  };
}

/** The key owner of a lead's payloads. */
export function leadKeyOwner(leadId: string): string {
  return `lead:${leadId}`;
}

/** Deletes the lead's data key: what Temporal keeps of the lead can no longer be read. */
export async function shredLeadKey(db: Db, leadId: string): Promise<void> {
  await db.query('DELETE FROM data_keys WHERE owner = $1', [leadKeyOwner(leadId)]);
}
