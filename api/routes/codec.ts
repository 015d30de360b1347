// Temporal's remote codec protocol (POST <endpoint>/encode and /decode, bodies of
// `{ payloads: [{ metadata: { name: base64 }, data: base64 }] }`), so that operators can read
// Nurture's encrypted payloads with `temporal workflow show --codec-endpoint <api>/codec
// --codec-auth 'Bearer <key>'` or in the Web UI. Behind an API key (read scope: what a read key
// may see through the API anyway). Payloads of an erased lead decode to the string "[erased]".
// Browsers (the Web UI) may call it from the origins CODEC_CORS_ORIGINS lists. The Web UI sends
// no key of its own, so it is given an endpoint with a read key in its path,
// /codec/k/<key> (`npm start` configures its dev server so); request logs hide that segment.
import type { Payload } from '@temporalio/common';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ErasedPayloadError } from '../../runtime/payload-codec';
import { bearerKey, requireApiKey } from '../auth';
import type { ApiContext } from '../context';
import { responses } from '../errors';

interface WirePayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_PAYLOADS = 1000;
const wirePayloads = {
  type: 'object',
  required: ['payloads'],
  properties: {
    payloads: {
      type: 'array',
      maxItems: MAX_PAYLOADS,
      items: {
        type: 'object',
        properties: { metadata: { type: 'object', additionalProperties: { type: 'string' } }, data: { type: 'string' } },
      },
    },
  },
} as const;

const fromWire = (payload: WirePayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64')])),
  data: Buffer.from(payload.data ?? '', 'base64'),
});

const toWire = (payload: Payload): WirePayload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value ?? []).toString('base64')])),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

const ERASED: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"[erased]"') };

export interface CodecRouteOptions {
  /** Origins allowed to call from a browser (the Temporal Web UI's), e.g. http://localhost:8233. */
  corsOrigins: string[];
  apiKeyCacheMs?: number;
}

export const codecRoutes: FastifyPluginAsync<ApiContext & CodecRouteOptions> = async (app, { pool, payloadCodec: codec, corsOrigins, apiKeyCacheMs }) => {
  if (!codec) throw new Error('codecRoutes: the API has no payload codec');
  const keyInPath = (request: FastifyRequest) => (request.params as { key?: string }).key;
  const authenticate = requireApiKey(pool, apiKeyCacheMs, (request) => keyInPath(request) ?? bearerKey(request));
  const allowCors = (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !corsOrigins.includes(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'origin');
    reply.header('access-control-allow-credentials', 'true');
  };
  app.addHook('onRequest', async (request, reply) => {
    allowCors(request, reply);
    if (request.method !== 'OPTIONS') await authenticate(request);
  });

  // The browser's preflight: no key (browsers send none), nothing but the CORS answer.
  app.options('/*', { schema: { hide: true } }, async (request, reply) => {
    reply.header('access-control-allow-methods', 'POST');
    reply.header('access-control-allow-headers', 'authorization, content-type, x-namespace');
    reply.header('access-control-max-age', '600');
    return reply.status(204).send();
  });

  const route = (action: 'encode' | 'decode', prefix: string) =>
    app.post<{ Body: { payloads: WirePayload[] } }>(
      `${prefix}/${action}`,
      {
        config: { scope: 'read' },
        schema: {
          tags: ['codec'],
          summary: `Temporal remote codec: ${action} payloads (${action === 'decode' ? "an erased lead's decode to \"[erased]\"" : 'with the system key'})`,
          security: [{ apiKey: [] }],
          ...(prefix ? { params: { type: 'object', properties: { key: { type: 'string', maxLength: 200 } } } } : {}),
          body: wirePayloads,
          response: responses({ 200: wirePayloads }),
        },
      },
      async (request) => {
        const payloads = request.body.payloads.map(fromWire);
        if (action === 'encode') return { payloads: (await codec.encode(payloads)).map(toWire) };
        const decoded = await Promise.all(
          payloads.map(async (payload) => {
            try {
              return (await codec.decode([payload]))[0]!;
            } catch (error) {
              if (error instanceof ErasedPayloadError) return ERASED;
              throw error;
            }
          }),
        );
        return { payloads: decoded.map(toWire) };
      },
    );
  for (const prefix of ['', '/k/:key']) {
    route('encode', prefix);
    route('decode', prefix);
  }
};
