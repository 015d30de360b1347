// Sending over SMTP with nodemailer (pooled connections by default), and what an SMTP failure
// means for the email:
//   4xx reply, connection refused/reset/timed out  → deferred: retry later
//   5xx about the recipient (550, 551, 553, 5.1.x), malformed address → bounced: suppress, never retry
//   any other 5xx                                   → failed: give up, keep the address
import nodemailer from 'nodemailer';

export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  messageId: string;
}

export interface Transport {
  send(message: OutgoingMessage): Promise<{ response: string; messageId: string }>;
  close(): void;
}

export type DeliveryClass = 'deferred' | 'bounced' | 'failed';

export class HeaderInjectionError extends Error {}

function oneLine(field: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new HeaderInjectionError(`${field} contains a line break`);
  return value;
}

export function createTransport(smtpUrl: string, options: { pooled?: boolean; maxConnections?: number } = {}): Transport {
  const pooled = options.pooled ?? true;
  const transporter = nodemailer.createTransport(smtpUrl, {
    ...(pooled && { pool: true, maxConnections: options.maxConnections ?? 5, maxMessages: Infinity }),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as object);
  return {
    async send(message) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers)) headers[oneLine(`header ${name}`, name)] = oneLine(`header ${name}`, value);
      const info = await transporter.sendMail({
        from: oneLine('from', message.from),
        to: oneLine('to', message.to),
        subject: oneLine('subject', message.subject),
        html: message.html,
        text: message.text,
        headers,
        messageId: oneLine('messageId', message.messageId),
      });
      return { response: info.response, messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}

export function classifySmtpError(error: unknown): { class: DeliveryClass; code?: number; message: string } {
  const e = error as { responseCode?: number; code?: string; message?: string; response?: string };
  const message = e?.response ?? e?.message ?? String(error);
  const code = e?.responseCode;
  if (error instanceof HeaderInjectionError) return { class: 'failed', message };
  if (e?.code === 'EENVELOPE' && !code) return { class: 'bounced', message };
  if (code === undefined) return { class: 'deferred', message }; // network trouble: try again later
  if (code >= 400 && code < 500) return { class: 'deferred', code, message };
  if ([550, 551, 553].includes(code) || /\b5\.1\.\d\b/.test(message)) return { class: 'bounced', code, message };
  return { class: 'failed', code, message };
}
