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
