// Liveness with a database ping (public: probes carry no key), and Prometheus metrics behind a
// bearer token of their own (METRICS_TOKEN): they tell how busy the system is, how many events wait
// and the routes' traffic. Without a token configured, /metrics is off and answers 404.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ping } from '../../db/pool';
import type { ApiContext } from '../context';
import { ApiError, responses } from '../errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether the request carries `Authorization: Bearer <token>`, compared in constant time. */
export function bearerMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  // Digests of equal length, so neither the comparison nor its length check tells anything.
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null;
}

export const healthRoutes: FastifyPluginAsync<ApiContext & { metricsToken?: string }> = async (app, { pool, metrics, metricsToken }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        response: responses({
          200: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } } },
          503: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } } },
        }),
      },
    },
    async (request, reply) => {
      try {
        await ping(pool);
        return { status: 'ok', database: 'ok' };
      } catch (error) {
        request.log.error({ err: error }, 'database ping failed');
        return reply.status(503).send({ status: 'unavailable', database: 'unreachable' });
      }
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics; needs Authorization: Bearer <METRICS_TOKEN>, and answers 404 when METRICS_TOKEN is unset',
        security: [{ metricsToken: [] }],
        response: responses({ 200: { type: 'string' } }),
      },
    },
    async (request, reply) => {
      if (!metricsToken) throw new ApiError(404, 'not_found', 'metrics are not enabled on this server');
      if (!bearerMatches(request, metricsToken)) throw new ApiError(401, 'unauthorized', 'the metrics token is missing or wrong: Authorization: Bearer <METRICS_TOKEN>');
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
