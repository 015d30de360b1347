// The handoff webhook for Slack or a CRM. The receiver verifies
//   X-Nurture-Signature: v1=<hex HMAC-SHA256 of `${X-Nurture-Timestamp}.${raw body}`>
// and rejects old timestamps; X-Nurture-Delivery is stable across retries so it can deduplicate.
import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';

export interface WebhookSettings {
  url?: string;
  secret: string;
  timeoutMs?: number;
}

export function signWebhook(body: string, timestamp: number, secret: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhookActivity(settings: WebhookSettings) {
  return async function postWebhook(input: { deliveryId: string; event: string; payload: unknown }): Promise<'delivered' | 'not_configured'> {
    if (!settings.url) return 'not_configured';
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
          'x-nurture-signature': signWebhook(body, timestamp, settings.secret),
        },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
        // A redirect would re-post signed personal data to wherever it points.
        redirect: 'manual',
      });
    } catch (error) {
      // The URL stays out of the message: it may carry a token, and messages reach histories and logs.
      throw new Error(`webhook unreachable: ${(error as Error).message}`);
    }
    if (response.ok) return 'delivered';
    // A redirect (not followed) or a client error other than timeout or throttling will not fix itself by retrying.
    const permanent = response.status < 500 && response.status !== 408 && response.status !== 429;
    const message = `webhook answered ${response.status}`;
    throw permanent ? ApplicationFailure.nonRetryable(message, 'WebhookRejected') : new Error(message);
  };
}
