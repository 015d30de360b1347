// Lead addresses are compared and hashed in one normal form, and keyed by the hash: it is what
// lead uniqueness and suppressions rest on, and it survives the erasure of the address itself.
import { createHash } from 'node:crypto';

/** Trimmed and lower-cased. */
export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

export function addressHash(address: string): string {
  return createHash('sha256').update(normaliseAddress(address)).digest('hex');
}
