// The API as a running HTTP server: the Fastify app on the Temporal engine, listening on a port.
// Used by the production entry point (api/main.ts) and by `npm start`.
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { adoptAddressKey, useAddressKey } from '../db/addresses';
import { payloadEncryption } from '../db/data-keys';
import type { Pool } from '../db/pool';
import type { Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';
import { withPayloadCodec } from '../runtime/temporal-connection';
import { buildApi } from './app';
import { createTemporalEngine } from './temporal-engine';

export interface ApiServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(options: {
  config: Pick<Config, 'apiPort' | 'apiHost' | 'publicUrl' | 'linkSecret' | 'previousLinkSecrets' | 'dataSecret' | 'codecCorsOrigins' | 'taskQueue' | 'trustProxy' | 'metricsToken'>;
  pool: Pool;
  client: Client;
  logger?: Logger;
}): Promise<ApiServer> {
  const { config } = options;
  useAddressKey(config.dataSecret);
  await adoptAddressKey(options.pool);
  const payloadCodec = payloadEncryption(options.pool, config.dataSecret);
  const client = withPayloadCodec(options.client, payloadCodec);
  const engine = createTemporalEngine({ client, pool: options.pool, taskQueue: config.taskQueue });
  const app = await buildApi({
    pool: options.pool,
    engine,
    payloadCodec,
    codecCorsOrigins: config.codecCorsOrigins,
    links: { baseUrl: config.publicUrl, secret: config.linkSecret, previousSecrets: config.previousLinkSecrets },
    loggerInstance: options.logger?.child({ component: 'api' }),
    trustProxy: config.trustProxy,
    metricsToken: config.metricsToken,
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
