// Bearer API keys with scopes: reading needs `read`, anything that changes state needs `write`.
// A route that only reads whatever its method (a simulation takes a body but stores nothing)
// says so with `config: { scope: 'read' }`.
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

/** Checks the request's key; run before the body is read, so anonymous uploads are refused unread. */
export function requireApiKey(pool: Pool) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new ApiError(401, 'unauthorized', 'an API key is required: Authorization: Bearer nk_…');
    const identity = await verifyApiKey(pool, match[1]!);
    if (!identity) throw new ApiError(401, 'unauthorized', 'the API key is invalid or revoked');
    const needed = request.routeOptions.config.scope ?? scopeFor(request.method);
    if (!identity.scopes.includes(needed)) {
      throw new ApiError(403, 'forbidden', `this API key lacks the '${needed}' scope needed for ${request.method} requests`);
    }
    request.apiKey = identity;
  };
}
