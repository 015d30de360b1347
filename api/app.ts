// The HTTP API: one encapsulated plugin per area, a JSON schema on every route, OpenAPI at
// /openapi.json and a docs page at /docs, API keys on /v1, JSON errors, rate and body limits,
// and the marketer dashboard at /dashboard (a static page that reads /v1 with the user's key).
// No CORS plugin: browsers on other origins get nothing.
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Pool } from '../db/pool';
import type { LinkSettings } from '../mail/links';
import type { PayloadEncryption } from '../runtime/payload-codec';
import { requireApiKey } from './auth';
import { checkBody } from './body-check';
import type { ApiContext } from './context';
import type { Engine } from './engine';
import { ApiError, errorSchema, installErrorHandling } from './errors';
import { createMetrics } from './metrics';
import { apiLogging } from './request-log';
import { campaignRoutes } from './routes/campaigns';
import { codecRoutes } from './routes/codec';
import { consentRoutes } from './routes/consent';
import { dashboardRoutes } from './routes/dashboard';
import { eventRoutes } from './routes/events';
import { handoffLinkRoutes, handoffRoutes } from './routes/handoffs';
import { repPageRoutes } from './routes/rep-page';
import { salesTeamRoutes } from './routes/sales-team';
import { healthRoutes } from './routes/health';
import { launchRoutes } from './routes/launches';
import { leadRoutes } from './routes/leads';
import { simulationRoutes } from './routes/simulate';
import { statsRoutes } from './routes/stats';
import { trackingRoutes } from './routes/tracking';
import { unsubscribeRoutes } from './routes/unsubscribe';

export interface ApiOptions {
  pool: Pool;
  engine: Engine;
  links: LinkSettings;
  /** Logger settings for Fastify to build its own pino logger (false: no logs). */
  logger?: FastifyServerOptions['logger'];
  /** An existing pino logger to log through; Fastify 5 takes it only as `loggerInstance`. */
  loggerInstance?: FastifyBaseLogger;
  /**
   * The proxies whose X-Forwarded-* headers are believed (IPs/CIDRs, as a list or comma-separated),
   * so that `request.ip` — the rate limit's key, consent and tracking evidence — is the client's
   * (default false: the socket's address). Config `trustProxy` (TRUST_PROXY).
   */
  trustProxy?: false | string | string[];
  /** The bearer token GET /metrics requires; unset: /metrics answers 404. Config `metricsToken` (METRICS_TOKEN). */
  metricsToken?: string;
  rateLimit?: { max: number; timeWindow: string } | false;
  /** The process's payload codec: serves Temporal's remote codec protocol at /codec (for the CLI and the Web UI). */
  payloadCodec?: PayloadEncryption;
  /** Origins whose pages (the Temporal Web UI) may call /codec from a browser. */
  codecCorsOrigins?: string[];
  /** Largest JSON body in bytes (default 1 MB); the CSV import has its own 50 MB limit. */
  bodyLimit?: number;
  /** How long a verified API key is trusted before the database is asked again (default API_KEY_CACHE_MS). */
  apiKeyCacheMs?: number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_RATE_LIMIT = { max: 1200, timeWindow: '1 minute' };

export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Settings or an instance, never both (Fastify refuses that).
    // Request logs show URLs without query values or link tokens, and no credentials (request-log.ts).
    ...apiLogging(options),
    trustProxy: options.trustProxy ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Bodies are validated as sent: "12" is not a number and unknown fields are refused, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allowUnionTypes: true } },
    // Signed link tokens travel as path parameters and are longer than the default 100 characters.
    routerOptions: { maxParamLength: 8192 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  const context: ApiContext = { pool: options.pool, engine: options.engine, links: options.links, metrics: createMetrics(options.pool), payloadCodec: options.payloadCodec };

  // Bodies are JSON (plus the YAML, CSV and form bodies the routes that take them declare).
  app.removeContentTypeParser('text/plain');
  app.addSchema(errorSchema);
  installErrorHandling(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Nurture API', version: '1', description: 'Campaigns, leads, consent, events, handoffs, stats, tracking.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'nk_<prefix>_<secret>' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (GET /metrics only)' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const limit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  if (limit) {
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.timeWindow,
      // Per client address: the limit runs before the key is checked, so keying on a presented
      // key would let a client mint fresh buckets with made-up keys.
      keyGenerator: (request) => request.ip,
      errorResponseBuilder: (_request, context) =>
        new ApiError(429, 'rate_limited', `rate limit exceeded: ${context.max} requests per ${context.after}; retry later`),
    });
  }

  app.addHook('onResponse', async (request, reply) => {
    context.metrics.requestDuration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });
  app.addHook('preValidation', checkBody);

  // Public: opened from emails and probes, authenticated by signed tokens or not at all.
  await app.register(healthRoutes, { ...context, metricsToken: options.metricsToken });
  await app.register(trackingRoutes, context);
  await app.register(unsubscribeRoutes, context);
  await app.register(handoffLinkRoutes, context);
  await app.register(repPageRoutes, context);
  // The dashboard's files carry no data: the page fetches /v1 with the key its user gives it.
  await app.register(dashboardRoutes, context);
  if (options.payloadCodec) {
    await app.register(codecRoutes, { ...context, corsOrigins: options.codecCorsOrigins ?? [], apiKeyCacheMs: options.apiKeyCacheMs, prefix: '/codec' });
  }

  await app.register(async (v1) => {
    // preParsing: after the rate limit (a route-level onRequest hook), before the body is read.
    const authenticate = requireApiKey(options.pool, options.apiKeyCacheMs);
    v1.addHook('preParsing', async (request, _reply, payload) => {
      await authenticate(request);
      return payload;
    });
    v1.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ apiKey: [] }] };
    });
    await v1.register(leadRoutes, context);
    await v1.register(consentRoutes, context);
    await v1.register(eventRoutes, context);
    await v1.register(handoffRoutes, context);
    await v1.register(salesTeamRoutes, context);
    await v1.register(campaignRoutes, context);
    await v1.register(launchRoutes, context);
    await v1.register(statsRoutes, context);
    await v1.register(simulationRoutes, context);
  }, { prefix: '/v1' });

  app.get('/openapi.json', { schema: { hide: true, response: { 200: { type: 'object', additionalProperties: true } } } }, async () => app.swagger());

  return app;
}

