// Builds the Temporal worker that runs nurture workflows and their activities.
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Pool } from '../db/pool';
import { Links } from '../mail/links';
import { TemplateLibrary } from '../mail/renderer';
import type { Config } from '../runtime/config';
import { temporalMessenger } from './messenger';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The settings a worker reads (see runtime/config.ts). */
export type WorkerConfig = Pick<
  Config,
  'temporalNamespace' | 'taskQueue' | 'publicUrl' | 'linkSecret' | 'mailDomain' | 'webhookUrl' | 'webhookSecret' | 'operatorEmail'
>;

export interface NurtureWorkerOptions {
  connection: NativeConnection;
  /** For the activities that reach other workflows (campaign fan-outs). */
  client: Client;
  pool: Pool;
  config: WorkerConfig;
  templates?: TemplateLibrary;
  /** A prebuilt bundle (tests build it once); otherwise the workflows are bundled now. */
  workflowBundle?: WorkflowBundleWithSourceMap | { codePath: string };
  /** Any other Temporal worker options (tuning, sticky queue timeouts). */
  tuning?: Partial<Pick<WorkerOptions, 'stickyQueueScheduleToStartTimeout' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'>>;
}

export async function createNurtureWorker(options: NurtureWorkerOptions): Promise<Worker> {
  const { config } = options;
  const templates = options.templates ?? (await TemplateLibrary.load());
  const activities = createActivities({
    pool: options.pool,
    templates,
    links: new Links({ baseUrl: config.publicUrl, secret: config.linkSecret }),
    mailDomain: config.mailDomain,
    webhook: { url: config.webhookUrl, secret: config.webhookSecret },
    operator: config.operatorEmail ? { email: config.operatorEmail, name: 'Nurture operator' } : undefined,
    messenger: temporalMessenger(options.client),
  });
  return Worker.create({
    connection: options.connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    ...options.tuning,
  });
}
