// Liveness with a database ping, and Prometheus metrics. Both public: probes carry no key.
import type { FastifyPluginAsync } from 'fastify';
import { ping } from '../../db/pool';
import type { ApiContext } from '../context';
import { responses } from '../errors';

export const healthRoutes: FastifyPluginAsync<ApiContext> = async (app, { pool, metrics }) => {
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

  app.get('/metrics', { schema: { tags: ['health'], response: { 200: { type: 'string' } } } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
