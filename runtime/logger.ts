// Structured logs (pino, JSON lines) for every Nurture process.
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Never written to a log: credentials in headers (a request or response logged whole) and email
 * addresses in fields named `email`, up to three levels deep (`{ email }`, `{ lead: { email } }`,
 * `{ data: { lead: { email } } }`). Paths of pino's `redact`.
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'email',
  '*.email',
  '*.*.email',
];
export const LOG_REDACTION = { paths: REDACTED_LOG_PATHS, censor: '[redacted]' };

/** A process's logger: JSON lines on stdout (or `destination`, for tests), with LOG_REDACTION. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino({ name, level, redact: LOG_REDACTION }, destination);
}
