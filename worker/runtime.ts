// What a worker process runs: the Temporal worker (workflows and activities) and the outbox
// mailer that sends what the send activities queue and completes them. Used by the production
// entry point (worker/main.ts) and by `npm start`.
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Pool } from '../db/pool';
import { startMailer } from '../mail/mailer';
import { createTransport } from '../mail/transport';
import { temporalCompleter } from './completer';
import type { Config } from './config';
import type { Logger } from './logger';
import { createNurtureWorker } from './worker';

export interface WorkerRuntime {
  /** Resolves when the worker has stopped (after stop(), or when it fails). */
  done: Promise<void>;
  /** Graceful: running activities finish, claimed emails not yet started are handed back. */
  stop(): Promise<void>;
}

export async function startWorkerRuntime(options: {
  config: Config & { smtpUrl: string; databaseUrl: string };
  pool: Pool;
  connection: NativeConnection;
  client: Client;
  log: Logger;
}): Promise<WorkerRuntime> {
  const { config, log } = options;
  const worker = await createNurtureWorker({
    connection: options.connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    pool: options.pool,
    config,
  });
  const transport = createTransport(config.smtpUrl, { pooled: true });
  const mailer = startMailer({
    pool: options.pool,
    databaseUrl: config.databaseUrl,
    transport,
    completer: temporalCompleter(options.client),
    log: log.child({ component: 'mailer' }),
  });
  const done = worker.run();
  let stopping: Promise<void> | undefined;
  return {
    done,
    stop() {
      stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done.catch((error) => log.error({ err: error }, 'worker failed'));
        await mailer.stop();
        transport.close();
      })();
      return stopping;
    },
  };
}
