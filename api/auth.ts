// Bearer API keys with scopes: reading needs `read`, anything that changes state needs `write`.
// A route that only reads whatever its method (validating a campaign takes a body but stores
// nothing) says so with `config: { scope: 'read' }`; a route may also ask for `write` although
// it stores nothing (a simulation: seconds of CPU).
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { verifyApiKey, type ApiKeyIdentity, type ApiScope } from '../db/api-keys';
import type { Pool } from '../db/pool';
import { ApiError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyIdentity;
  }
  interface FastifyContextConfig {
    scope?: ApiScope;
  }
}

export const scopeFor = (method: string): ApiScope => (method === 'GET' || method === 'HEAD' ? 'read' : 'write');

/** How long a verified key is trusted without asking the database again (a revocation takes this long to bite). */
export const API_KEY_CACHE_MS = 10_000;
const CACHE_LIMIT = 1000;

/**
 * Verified keys, cached for API_KEY_CACHE_MS so that a request costs no extra round trip; only
 * keys that verified are kept (a flood of wrong keys cannot fill it), by their SHA-256.
 */
function cachedVerifier(pool: Pool, cacheMs: number) {
  const cache = new Map<string, { identity: ApiKeyIdentity; until: number }>();
  return async (key: string): Promise<ApiKeyIdentity | undefined> => {
    const id = createHash('sha256').update(key).digest('base64url');
    const now = Date.now();
    const hit = cache.get(id);
    if (hit && hit.until > now) return hit.identity;
    cache.delete(id);
    const identity = await verifyApiKey(pool, key);
    if (identity) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(id, { identity, until: now + cacheMs });
    }
    return identity;
  };
}

/** The key of `Authorization: Bearer <key>`. */
export function bearerKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return (typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null)?.[1];
}

/**
 * Checks the request's key (by default its bearer token); run before the body is read, so
 * anonymous uploads are refused unread.
 */
export function requireApiKey(pool: Pool, cacheMs = API_KEY_CACHE_MS, keyOf: (request: FastifyRequest) => string | undefined = bearerKey) {
  const verify = cachedVerifier(pool, cacheMs);
  return async (request: FastifyRequest): Promise<void> => {
    const key = keyOf(request);
    if (!key) throw new ApiError(401, 'unauthorized', 'an API key is required: Authorization: Bearer nk_…');
    const identity = await verify(key);
    if (!identity) throw new ApiError(401, 'unauthorized', 'the API key is invalid or revoked');
    const needed = request.routeOptions.config.scope ?? scopeFor(request.method);
    if (!identity.scopes.includes(needed)) {
      throw new ApiError(403, 'forbidden', `this API key lacks the '${needed}' scope needed for ${request.method} requests`);
    }
    request.apiKey = identity;
  };
}
