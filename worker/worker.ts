// Builds the Temporal worker that runs nurture workflows and their activities.
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Pool } from '../db/pool';
import { Links } from '../mail/links';
import { TemplateLibrary } from '../mail/renderer';
import type { Config } from './config';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface NurtureWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  pool: Pool;
  config: Pick<Config, 'publicUrl' | 'linkSecret' | 'mailDomain' | 'webhookUrl' | 'webhookSecret'>;
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
  });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    ...options.tuning,
  });
}
