// Starts Temporal's official servers through the SDK's own launcher (`@temporalio/testing`),
// pointing it at the scripts in devserver/bin that find or obtain the real executables.
// With TEMPORAL_ADDRESS set, `temporalForTests` connects to that server instead (a real cluster
// or Temporal Cloud; TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_* are honoured).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalSettingsFromEnv } from '../runtime/temporal-connection';

export const TEMPORAL_CLI = fileURLToPath(new URL('./bin/temporal', import.meta.url));
export const TEMPORAL_TEST_SERVER = fileURLToPath(new URL('./bin/temporal-test-server', import.meta.url));
const OBTAIN = fileURLToPath(new URL('./bin/obtain', import.meta.url));

/** True when the environment names an existing Temporal server to use instead of starting one. */
export function usesExternalTemporal(): boolean {
  return Boolean(process.env.TEMPORAL_ADDRESS);
}

/**
 * Makes sure both official servers are on disk (the first time this builds the CLI with Go and
 * resolves the test server from Maven Central, which takes minutes), so that later starts are
 * quick. Throws with the obtain script's explanation when nothing works.
 */
export async function obtainServers(): Promise<void> {
  if (usesExternalTemporal()) return;
  try {
    await promisify(execFile)(OBTAIN, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`Could not obtain Temporal's official servers:\n${stderr}`);
  }
}

export async function connectToExternal(): Promise<TestWorkflowEnvironment> {
  const { namespace, connection } = temporalSettingsFromEnv();
  const { address, ...connectionOptions } = connection;
  return TestWorkflowEnvironment.createFromExistingServer({ address, namespace, connectionOptions });
}

/**
 * One partition per task queue, as suits a single-process server: with the default four, a task
 * that cannot be forwarded at once (the forwarder's 10 per second) waits in a partition's backlog
 * until one of the worker's few pollers happens to poll that partition, which under a burst held
 * some activities for tens of seconds. Partitions spread load across a cluster's matching hosts.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
];

export interface DevServerOptions {
  /** SQLite file that keeps workflows across restarts; in memory when absent. */
  dbFilename?: string;
  port?: number;
  /** Serve Temporal's Web UI on this port. */
  uiPort?: number;
  /** More `temporal server start-dev` arguments, e.g. ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60']. */
  extraArgs?: string[];
}

/**
 * The SDK's launcher gives a server 5 s to answer, which a JVM starting on two busy cores can
 * miss: such a start is tried again (the launcher has killed the late one), up to three times.
 */
async function startWithRetries(start: () => Promise<TestWorkflowEnvironment>): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt === 3 || !/did not start within/.test((error as Error).message)) throw error;
    }
  }
}

/** Temporal's CLI dev server (the real server on SQLite), for end-to-end runs and `npm start`. */
export async function startDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  return startWithRetries(() => TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      dbFilename: options.dbFilename,
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      log: { format: 'json', level: 'error' },
      extraArgs: [...DEV_SERVER_DYNAMIC_CONFIG, ...(options.extraArgs ?? [])],
    },
  }));
}

/** Temporal's time-skipping test server, for workflow tests that wait days in virtual time. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return startWithRetries(() => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEMPORAL_TEST_SERVER } } }));
}

/**
 * The server a test runs against: the server named by TEMPORAL_ADDRESS when set (no time
 * skipping there: check `env.supportsTimeSkipping`), otherwise the requested local one.
 */
export async function temporalForTests(kind: 'time-skipping' | 'dev'): Promise<TestWorkflowEnvironment> {
  if (usesExternalTemporal()) return connectToExternal();
  return kind === 'time-skipping' ? startTimeSkippingServer() : startDevServer();
}
