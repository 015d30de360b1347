// The API as a running HTTP server: the Fastify app on the Temporal engine, listening on a port.
// Used by the production entry point (api/main.ts) and by `npm start`.
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db/pool';
import type { Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';
import { buildApi } from './app';
import { createTemporalEngine } from './temporal-engine';

export interface ApiServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(options: {
  config: Pick<Config, 'apiPort' | 'apiHost' | 'publicUrl' | 'linkSecret' | 'taskQueue'>;
  pool: Pool;
  client: Client;
  logger?: Logger;
}): Promise<ApiServer> {
  const { config } = options;
  const engine = createTemporalEngine({ client: options.client, pool: options.pool, taskQueue: config.taskQueue });
  const app = await buildApi({
    pool: options.pool,
    engine,
    links: { baseUrl: config.publicUrl, secret: config.linkSecret },
    loggerInstance: options.logger?.child({ component: 'api' }),
  });
  try {
    await app.listen({ port: config.apiPort, host: config.apiHost });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${config.apiPort} is already in use: stop what uses it or set PORT to another port`);
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.apiPort;
  return { app, url: `http://${config.apiHost === '0.0.0.0' ? '127.0.0.1' : config.apiHost}:${port}`, close: () => app.close() };
}
