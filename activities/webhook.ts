// The handoff webhook for Slack or a CRM. The receiver verifies
//   X-Nurture-Signature: v1=<hex HMAC-SHA256 of `${X-Nurture-Timestamp}.${raw body}`>
// and rejects old timestamps; X-Nurture-Delivery is stable across retries so it can deduplicate.
// During a rotation of WEBHOOK_SECRET the header carries two signatures, "v1=<new>, v1=<old>"
// (the old one from WEBHOOK_SECRET_PREVIOUS): a receiver accepts any v1 that matches, so it can
// switch to the new secret whenever it likes.
import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';

export interface WebhookSettings {
  url?: string;
  secret: string;
  /** The secret being rotated out: deliveries are signed with it too. */
  previousSecret?: string;
  timeoutMs?: number;
}

export function signWebhook(body: string, timestamp: number, secret: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhookActivity(settings: WebhookSettings) {
  return async function postWebhook(input: { deliveryId: string; event: string; payload: unknown }): Promise<'delivered' | 'not_configured'> {
    if (!settings.url) return 'not_configured';
    // Messages name the receiver's host only: WEBHOOK_URL may carry a token in its path, query or
    // credentials, and messages reach Temporal histories and logs.
    const target = webhookTarget(settings.url);
    const body = JSON.stringify({ event: input.event, delivery: input.deliveryId, data: input.payload });
    const timestamp = Math.floor(Date.now() / 1000);
    let response: Response;
    try {
      response = await fetch(settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-nurture-event': input.event,
          'x-nurture-delivery': input.deliveryId,
          'x-nurture-timestamp': String(timestamp),
          'x-nurture-signature': [settings.secret, settings.previousSecret]
            .filter((secret): secret is string => Boolean(secret))
            .map((secret) => signWebhook(body, timestamp, secret))
            .join(', '),
        },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
        // A redirect would re-post signed personal data to wherever it points.
        redirect: 'manual',
      });
    } catch (error) {
      // Not error.message: fetch's own messages quote the whole URL for some failures.
      throw new Error(`webhook at ${target} unreachable: ${failureReason(error, settings.timeoutMs ?? 10_000)}`);
    }
    if (response.ok) return 'delivered';
    // A redirect (not followed) or a client error other than timeout or throttling will not fix itself by retrying.
    const permanent = response.status < 500 && response.status !== 408 && response.status !== 429;
    const message =
      response.status >= 300 && response.status < 400
        ? `webhook at ${target} answered ${response.status}, a redirect, which is not followed: set WEBHOOK_URL to where it points`
        : `webhook at ${target} answered ${response.status}`;
    throw permanent ? ApplicationFailure.nonRetryable(message, 'WebhookRejected') : new Error(message);
  };
}

/** The receiver's host (and port) for messages; a URL fetch would refuse fails for good, naming nothing of it. */
function webhookTarget(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ApplicationFailure.nonRetryable('WEBHOOK_URL is not a valid URL', 'WebhookMisconfigured');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw ApplicationFailure.nonRetryable(`WEBHOOK_URL must be an http(s) URL, not ${parsed.protocol}`, 'WebhookMisconfigured');
  }
  if (parsed.username || parsed.password) {
    throw ApplicationFailure.nonRetryable(`WEBHOOK_URL for ${parsed.host} must not include credentials (user:password@): fetch refuses them`, 'WebhookMisconfigured');
  }
  return parsed.host;
}

/** Why a request failed, from error names and codes only (their messages may quote the URL). */
function failureReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: unknown; cause?: { code?: unknown; name?: unknown } } | undefined;
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const code = e?.cause?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  return 'the request failed';
}
