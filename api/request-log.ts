// What the API's request logs may say about a request. URLs carry personal data: search queries
// (`GET /v1/leads?q=aiko@globex.example`) and signed link tokens whose payload holds message keys,
// lead ids and click targets (`/t/c/<token>`, `/u/<token>`, `/h/<token>`, `/t/o/<token>.gif`). A
// logged URL keeps its route and its query's parameter names only: query values, token segments,
// and any other segment that looks like an address or a token are replaced by placeholders.
// Headers are not logged; LOG_REDACTION (runtime/logger.ts) blanks credentials and `email` fields
// should anything log them.
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import { LOG_REDACTION } from '../runtime/logger';

/** Routes whose path after the prefix is a secret: a signed link token, or the read key of the Web UI's codec endpoint. */
const TOKEN_PREFIXES = ['/t/o/', '/t/c/', '/u/', '/h/', '/codec/k/'];
/** A query parameter name worth keeping (anything else is dropped with its value). */
const PARAMETER_NAME = /^[A-Za-z0-9_.[\]-]{1,40}$/;
/** Longer than any id the API uses (UUIDs, campaign ids, workflow ids stay): a token or a payload. */
const LONG_SEGMENT = 120;

export const TOKEN_PLACEHOLDER = ':token';
export const VALUE_PLACEHOLDER = ':redacted';

/** The URL as a log may show it: path with tokens replaced, query parameter names without values. */
export function loggableUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const cut = url.search(/[?#]/);
  const path = cut === -1 ? url : url.slice(0, cut);
  const query = cut === -1 ? '' : url.slice(cut + 1).replace(/#.*$/, '');
  const prefix = TOKEN_PREFIXES.find((candidate) => path.startsWith(candidate) && path.length > candidate.length);
  const safePath = prefix
    ? `${prefix}${TOKEN_PLACEHOLDER}`
    : path
        .split('/')
        .map((segment) => (segment.length > LONG_SEGMENT || /@|%40/i.test(segment) ? VALUE_PLACEHOLDER : segment))
        .join('/');
  if (cut === -1) return safePath;
  const names = query
    .split('&')
    .filter(Boolean)
    .map((pair) => pair.split('=')[0]!)
    .map((name) => (PARAMETER_NAME.test(name) ? `${name}=${VALUE_PLACEHOLDER}` : VALUE_PLACEHOLDER));
  return `${safePath}?${names.join('&')}`;
}

/** Fastify's request serializer (method, url, host, remote address), with the URL made loggable. */
export function serializeRequest(request: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}): Record<string, unknown> {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export const requestLogSerializers = { req: serializeRequest };

/**
 * The `logger` / `loggerInstance` options for Fastify with the API's serializers and redaction:
 * settings get them merged in, an instance is wrapped in a child that has them.
 */
export function apiLogging(options: { logger?: FastifyServerOptions['logger']; loggerInstance?: FastifyBaseLogger }): {
  logger: FastifyServerOptions['logger'];
  loggerInstance?: FastifyBaseLogger;
} {
  // Both at once: Fastify refuses them with its own error.
  if (options.loggerInstance && options.logger) return { logger: options.logger, loggerInstance: options.loggerInstance };
  if (options.loggerInstance) {
    return { logger: false, loggerInstance: options.loggerInstance.child({}, { serializers: requestLogSerializers, redact: LOG_REDACTION }) };
  }
  const settings = options.logger;
  if (!settings) return { logger: false };
  const own = settings === true ? {} : settings;
  return {
    logger: {
      ...own,
      serializers: { ...own.serializers, ...requestLogSerializers },
      redact: own.redact ?? LOG_REDACTION,
    },
  };
}
