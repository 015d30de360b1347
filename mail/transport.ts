// Sending over SMTP with nodemailer (pooled connections by default), and what an SMTP failure
// means for the email (classifySmtpError):
//
//   what happened                                               class     the mailer then
//   4xx reply at any stage (451, 452, 421 …)                    deferred  fails the activity retryably
//   no reply: ECONNREFUSED / ECONNRESET / ETIMEDOUT, a failed   deferred  (Temporal's retry policy
//     greeting, DNS, socket or protocol trouble                             does the backoff)
//   550, 551, 553, or an enhanced status 5.1.x (bad mailbox,    bounced   suppresses the address,
//     address, domain), or an address nodemailer refused                    never retries
//     as malformed (EENVELOPE without a reply)
//   any other 5xx (552 too big, 554 policy/content, 535 …)      failed    gives up, keeps the address
//   a line break in a header (refused before sending)           failed
//   anything else without an SMTP reply                        deferred  (bounded by the retry policy)
import nodemailer, { type TransportOptions } from 'nodemailer';

/**
 * A mailbox. nodemailer writes the header from it, quoting or encoding the display name as it
 * needs (a name is never quoted by hand: `Bob "Q" Smith\` would break a hand-made `"…"`).
 */
export interface MailAddress {
  name?: string;
  address: string;
}

export interface OutgoingMessage {
  /** An address object; a plain string is what rows queued by earlier versions hold. */
  from: string | MailAddress;
  to: string | MailAddress;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  /** `<key@domain>`; sent as the Message-ID header unchanged. */
  messageId: string;
}

export interface Transport {
  send(message: OutgoingMessage): Promise<{ response: string; messageId: string }>;
  close(): void;
}

export type DeliveryClass = 'deferred' | 'bounced' | 'failed';

/** A message that would let its content write SMTP headers of its own. Never sent. */
export class HeaderInjectionError extends Error {
  override name = 'HeaderInjectionError';
}

// RFC 5322 field names: printable ASCII except the colon.
const FIELD_NAME = /^[!-9;-~]+$/;

function oneLine(where: string, value: unknown): string {
  if (typeof value !== 'string') throw new HeaderInjectionError(`${where} must be a string, got ${typeof value}`);
  if (/[\r\n]/.test(value)) throw new HeaderInjectionError(`${where} contains a line break (CR or LF): ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

function mailbox(where: string, value: unknown): string | MailAddress {
  if (typeof value === 'string') return oneLine(where, value);
  if (typeof value !== 'object' || value === null) throw new HeaderInjectionError(`${where} must be an address, got ${value === null ? 'null' : typeof value}`);
  const { name, address } = value as { name?: unknown; address?: unknown };
  if (name !== undefined && name !== null && typeof name !== 'string') throw new HeaderInjectionError(`${where} name must be a string, got ${typeof name}`);
  return { ...(name ? { name: oneLine(`${where} name`, name) } : {}), address: oneLine(`${where} address`, address) };
}

function checkedHeaders(message: OutgoingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!FIELD_NAME.test(name)) throw new HeaderInjectionError(`header name ${JSON.stringify(name)} is not a valid field name`);
    if (name.toLowerCase() === 'message-id') throw new HeaderInjectionError('header Message-ID must be given as messageId, not in headers');
    headers[name] = oneLine(`header ${name}`, value);
  }
  return headers;
}

export function createTransport(smtpUrl: string, options: { pooled?: boolean; maxConnections?: number } = {}): Transport {
  if (!/^smtps?:\/\/[^/]/i.test(smtpUrl)) throw new Error(`createTransport: expected an smtp:// or smtps:// URL, got ${JSON.stringify(smtpUrl)}`);
  const maxConnections = options.maxConnections ?? 5;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new Error(`createTransport: maxConnections must be a positive integer, got ${maxConnections}`);
  const pooled = options.pooled ?? true;
  // Transport options go with the URL in the first argument (the second one holds message defaults).
  const transporter = nodemailer.createTransport({
    url: smtpUrl,
    ...(pooled ? { pool: true, maxConnections, maxMessages: Number.MAX_SAFE_INTEGER } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as TransportOptions);
  return {
    async send(message) {
      const headers = checkedHeaders(message);
      const messageId = oneLine('messageId', message.messageId);
      if (!/^<[^<>\s]+@[^<>\s]+>$/.test(messageId)) throw new HeaderInjectionError(`messageId must look like <key@domain>, got ${JSON.stringify(messageId)}`);
      const info = await transporter.sendMail({
        from: mailbox('from', message.from),
        to: mailbox('to', message.to),
        subject: oneLine('subject', message.subject),
        html: message.html,
        text: message.text,
        headers,
        messageId,
      });
      return { response: info.response, messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}

export function classifySmtpError(error: unknown): { class: DeliveryClass; code?: number; message: string } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { responseCode?: unknown; code?: unknown; message?: unknown; response?: unknown };
  const message = String(e.response ?? e.message ?? error);
  if (error instanceof HeaderInjectionError) return { class: 'failed', message };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (code === undefined) {
    // nodemailer refuses a malformed address itself, before any reply.
    if (e.code === 'EENVELOPE') return { class: 'bounced', message };
    // ECONNECTION, ETIMEDOUT, ESOCKET, EDNS, EPROTOCOL (greeting) and the like: try again later.
    return { class: 'deferred', message };
  }
  if (code >= 400 && code < 500) return { class: 'deferred', code, message };
  if (code === 550 || code === 551 || code === 553 || /\b5\.1\.\d{1,3}\b/.test(message)) return { class: 'bounced', code, message };
  return { class: 'failed', code, message };
}
