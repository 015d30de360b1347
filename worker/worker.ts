// Builds the Temporal worker that runs nurture workflows and their activities.
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { SalesDeskDependencies } from '../activities/sales-desk';
import type { Pool } from '../db/pool';
import { Links } from '../mail/links';
import { TemplateLibrary } from '../mail/renderer';
import type { Config } from '../runtime/config';
import { FAILURE_CONVERTER_PATH } from '../runtime/payload-codec';
import { nurtureDataConverter } from '../runtime/temporal-connection';
import { temporalMessenger } from './messenger';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** What to bundle the workflows with (tests and benchmarks bundle them once, ahead of their workers). */
export const WORKFLOW_BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH };

/** The settings a worker reads (see runtime/config.ts). */
export type WorkerConfig = Pick<
  Config,
  'temporalNamespace' | 'taskQueue' | 'publicUrl' | 'linkSecret' | 'mailDomain' | 'webhookUrl' | 'webhookSecret' | 'previousWebhookSecret' | 'operatorEmail' | 'dataSecret'
>;

export interface NurtureWorkerOptions {
  connection: NativeConnection;
  /** For the activities that reach other workflows (campaign fan-outs); payloads through `payloadCodec`. */
  client: Client;
  /** Encrypts what the worker gives Temporal (see runtime/payload-codec.ts). */
  payloadCodec: PayloadCodec;
  pool: Pool;
  config: WorkerConfig;
  templates?: TemplateLibrary;
  /** A prebuilt bundle (tests build it once); otherwise the workflows are bundled now. */
  workflowBundle?: WorkflowBundleWithSourceMap | { codePath: string };
  /** Any other Temporal worker options (tuning, sticky queue timeouts). */
  tuning?: Partial<Pick<WorkerOptions, 'stickyQueueScheduleToStartTimeout' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'>>;
}

/** What the sales mail (the activities' and the sales desk's) is made with. */
export function salesDeskDependencies(config: WorkerConfig, pool: Pool, templates: TemplateLibrary): SalesDeskDependencies {
  return {
    pool,
    templates,
    links: new Links({ baseUrl: config.publicUrl, secret: config.linkSecret }),
    mailDomain: config.mailDomain,
    operator: config.operatorEmail ? { email: config.operatorEmail, name: 'Nurture operator' } : undefined,
  };
}

export async function createNurtureWorker(options: NurtureWorkerOptions): Promise<Worker> {
  const { config } = options;
  const templates = options.templates ?? (await TemplateLibrary.load());
  const activities = createActivities({
    ...salesDeskDependencies(config, options.pool, templates),
    webhook: { url: config.webhookUrl, secret: config.webhookSecret, previousSecret: config.previousWebhookSecret },
    messenger: temporalMessenger(options.client),
  });
  return Worker.create({
    connection: options.connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    dataConverter: nurtureDataConverter(options.payloadCodec),
    activities,
    ...options.tuning,
  });
}
