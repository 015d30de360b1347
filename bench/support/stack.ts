// The whole engine for a benchmark, on real parts: Temporal's CLI dev server (real time), embedded
// PostgreSQL, the SMTP sink, and the worker runtime production runs (worker, mailer, dispatcher,
// launcher). Everything started is stopped in reverse order by `stop()`, also after a failed start.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { Campaign } from '../../campaign';
import { saveCampaignVersion, setCampaignStatus } from '../../db/campaigns';
import { migrate } from '../../db/migrate';
import { createPool, type Pool } from '../../db/pool';
import { startEmbeddedPostgres } from '../../devserver/postgres';
import { startSmtpSink, type SmtpSink } from '../../devserver/smtp-sink';
import { startDevServer } from '../../devserver/temporal';
import { StopList } from '../../runtime/stop-list';
import { quietTemporalLogs } from '../../runtime/temporal-logs';
import { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from '../../worker/runtime';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../worker/worker';

export const BENCH_CONFIG = {
  temporalNamespace: 'default',
  publicUrl: 'http://nurture.bench',
  linkSecret: 'bench-link-secret-of-at-least-32-characters',
  mailDomain: 'nurture.bench',
  webhookUrl: undefined,
  webhookSecret: 'bench-webhook-secret-of-at-least-32-characters',
  dataSecret: 'bench-data-secret-of-at-least-32-characters',
};

export interface BenchStack {
  env: TestWorkflowEnvironment;
  pool: Pool;
  databaseUrl: string;
  sink: SmtpSink;
  runtime: WorkerRuntime;
  taskQueue: string;
  /** Saves the campaign and makes it active. */
  activate(campaign: Campaign): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchStack(name: string, options: Pick<WorkerRuntimeOptions, 'dispatcher' | 'launcher'> & { sinkKeep?: number } = {}): Promise<BenchStack> {
  quietTemporalLogs();
  const stops = new StopList(10_000, (message) => console.error(`  clean-up: ${message}`));
  try {
    // CPU-bound first, before any server runs.
    const bundle = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
    const dir = await mkdtemp(join(tmpdir(), `nurture-bench-${name}-`));
    stops.add('temporary directory', () => rm(dir, { recursive: true, force: true }));
    const env = await startDevServer();
    stops.add('Temporal dev server', () => env.teardown());
    const database = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false });
    stops.add('embedded PostgreSQL', () => database.stop());
    const sink = await startSmtpSink({ keep: options.sinkKeep ?? 20_000 });
    stops.add('SMTP sink', () => sink.close());
    const databaseUrl = await database.createDatabase(name.replaceAll('-', '_'));
    await migrate(databaseUrl);
    const pool = createPool(databaseUrl);
    stops.add('database pool', () => pool.end());
    const taskQueue = `bench-${name}-${process.pid}`;
    const runtime = await startWorkerRuntime({
      connection: env.nativeConnection,
      client: env.client,
      pool,
      config: { ...BENCH_CONFIG, taskQueue, databaseUrl, smtpUrl: sink.url },
      workflowBundle: bundle,
      mailerPollMs: 200,
      dispatcher: options.dispatcher,
      launcher: options.launcher,
    });
    stops.add('worker runtime', () => runtime.stop());
    return {
      env,
      pool,
      databaseUrl,
      sink,
      runtime,
      taskQueue,
      async activate(campaign) {
        await saveCampaignVersion(pool, campaign);
        await setCampaignStatus(pool, campaign.id, 'active');
      },
      stop: () => stops.stopAll(),
    };
  } catch (error) {
    await stops.stopAll();
    throw error;
  }
}

/** Polls `check` every 50 ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
