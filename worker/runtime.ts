// What a worker process runs: the Temporal worker (workflows and activities), the outbox mailer
// that sends what the send activities queue and tells the workflows, the dispatcher that delivers
// stored events to the workflows, the launcher that carries out campaign launches, and the
// sweeper that gives every campaign fan-out its workflow, and the sales desk that assigns handoffs and
// keeps their SLA. Used by the production entry point (worker/main.ts),
// `npm start`, the end-to-end tests and the benchmarks.
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { adoptAddressKey, useAddressKey } from '../db/addresses';
import { payloadEncryption } from '../db/data-keys';
import { TemplateLibrary } from '../mail/renderer';
import { createTransport, type Transport } from '../mail/transport';
import { createSalesDesk } from '../activities/sales-desk';
import type { Logger } from '../runtime/logger';
import type { PayloadEncryption } from '../runtime/payload-codec';
import { withPayloadCodec } from '../runtime/temporal-connection';
import { temporalCompleter } from './completer';
import { startDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher';
import { startFanOutSweeper } from './fanout-sweeper';
import { startLauncher, type LauncherOptions } from './launcher';
import { startMailer, type Mailer } from './mailer';
import { startSalesDeskLoop, type SalesDeskLoop, type SalesDeskLoopOptions } from './sales-desk-loop';
import { createNurtureWorker, salesDeskDependencies, type NurtureWorkerOptions, type WorkerConfig } from './worker';

export interface WorkerRuntime {
  worker: Worker;
  /** The client the runtime talks to Temporal with: payloads encrypted with the leads' data keys. */
  client: Client;
  payloadCodec: PayloadEncryption;
  mailer: Mailer;
  dispatcher: Dispatcher;
  salesDesk: SalesDeskLoop;
  /** The mailer's pooled SMTP transport. */
  transport: Transport;
  /** Resolves when the worker has stopped (after stop(), or when it fails). */
  done: Promise<void>;
  /** Graceful: running activities and the emails in flight finish; queued ones stay for other mailers. */
  stop(): Promise<void>;
}

export interface WorkerRuntimeOptions extends Omit<NurtureWorkerOptions, 'payloadCodec'> {
  /** Any client of the server: the runtime makes its own with the payload codec on the same connection. */
  client: Client;
  /** The database (also for the mailer's LISTEN connection) and the SMTP relay. */
  config: WorkerConfig & { databaseUrl: string; smtpUrl: string };
  /** The mailer's safety-net poll (default 1 s). */
  mailerPollMs?: number;
  /** Tuning of the event dispatcher and the launcher (tests and benchmarks). */
  dispatcher?: Pick<DispatcherOptions, 'batchLeads' | 'concurrency' | 'pollMs'>;
  /** How often the sales desk looks for handoffs falling due (default 15 s; a team change wakes it at once), and its clock. */
  salesDesk?: Pick<SalesDeskLoopOptions, 'everyMs' | 'clock'>;
  /** false: this process carries out no campaign launches (others do). */
  launcher?: Pick<LauncherOptions, 'pageSize' | 'leaseMs' | 'pollMs'> | false;
  log?: Logger;
}

export async function startWorkerRuntime(options: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const { config, log } = options;
  useAddressKey(config.dataSecret);
  await adoptAddressKey(options.pool);
  const payloadCodec = payloadEncryption(options.pool, config.dataSecret);
  const client = withPayloadCodec(options.client, payloadCodec);
  const templates = options.templates ?? (await TemplateLibrary.load());
  const worker = await createNurtureWorker({ ...options, client, payloadCodec, templates });
  const salesDesk = startSalesDeskLoop({
    desk: createSalesDesk(salesDeskDependencies(config, options.pool, templates)),
    databaseUrl: config.databaseUrl,
    ...options.salesDesk,
    log: log?.child({ component: 'sales-desk' }),
  });
  const transport = createTransport(config.smtpUrl, { pooled: true });
  const mailer = startMailer({
    pool: options.pool,
    databaseUrl: config.databaseUrl,
    transport,
    completer: temporalCompleter(client),
    pollMs: options.mailerPollMs,
    log: log?.child({ component: 'mailer' }),
  });
  const dispatcher = startDispatcher({
    ...options.dispatcher,
    client,
    pool: options.pool,
    databaseUrl: config.databaseUrl,
    taskQueue: config.taskQueue,
    log: log?.child({ component: 'dispatcher' }),
  });
  const launcher = options.launcher === false ? undefined : startLauncher({ ...options.launcher, pool: options.pool, log: log?.child({ component: 'launcher' }) });
  const sweeper = startFanOutSweeper({ client, pool: options.pool, taskQueue: config.taskQueue, log: log?.child({ component: 'fan-outs' }) });
  const done = worker.run();
  let stopping: Promise<void> | undefined;
  return {
    worker,
    client,
    payloadCodec,
    mailer,
    dispatcher,
    salesDesk,
    transport,
    done,
    stop() {
      stopping ??= (async () => {
        sweeper.stop();
        await Promise.all([launcher?.stop(), dispatcher.stop(), salesDesk.stop()]);
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done.catch((error) => log?.error({ err: error }, 'worker failed'));
        await mailer.stop();
        transport.close();
      })();
      return stopping;
    },
  };
}
