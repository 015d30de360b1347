// Every email's identity derives from its idempotency key, so a retried send carries the same
// Message-ID and the same tracking links as the first attempt.
import { createHash } from 'node:crypto';

/** A short, URL-safe key naming one email (22 characters, 128 bits). */
export function messageKey(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 22);
}

export function messageIdFor(idempotencyKey: string, domain: string): string {
  return `<${messageKey(idempotencyKey)}@${domain}>`;
}

/** The key back out of a Message-ID such as `<key@domain>`, if it has that form. */
export function messageKeyOf(messageId: string): string | undefined {
  return /^<([A-Za-z0-9_-]{22})@[^>]+>$/.exec(messageId)?.[1];
}

/** Addresses are compared and hashed in one normal form: trimmed and lower-cased. */
export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** What suppressions and lead uniqueness are keyed on; survives erasure of the address. */
export function addressHash(address: string): string {
  return createHash('sha256').update(normaliseAddress(address)).digest('hex');
}
