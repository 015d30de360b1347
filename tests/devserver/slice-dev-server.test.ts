// The foundation's vertical slice on Temporal's official CLI dev server: a worker killed with
// SIGKILL mid-run and started again finishes every workflow, and a dev server restarted on the
// same database file keeps every open workflow.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killProcess, startTsxProcess } from '../../bench/support/child-process';
import { startDevServer } from '../../devserver/temporal';
import { fetchHistories, replayFailures } from '../support/history';
import * as activities from '../temporal/slice/activities';
import { addSignal, collector, finishSignal, stateQuery, steps } from '../temporal/slice/workflows';

const workflowsPath = fileURLToPath(new URL('../temporal/slice/workflows.ts', import.meta.url));
const workerScript = fileURLToPath(new URL('../temporal/slice/worker-process.ts', import.meta.url));

let dir: string;
let workflowBundle: WorkflowBundleWithSourceMap;
let bundleFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nurture-slice-'));
  workflowBundle = await bundleWorkflowCode({ workflowsPath });
  bundleFile = join(dir, 'workflows-bundle.js');
  await writeFile(bundleFile, workflowBundle.code);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function startWorkerProcess(address: string, taskQueue: string): Promise<ChildProcess> {
  return (await startTsxProcess(workerScript, [address, taskQueue, bundleFile], /worker ready/)).child;
}

describe('vertical slice on the CLI dev server', () => {
  it('finishes every workflow after its worker is killed with SIGKILL mid-run', async () => {
    const env = await startDevServer();
    try {
      const taskQueue = 'slice-crash';
      const first = await startWorkerProcess(env.address, taskQueue);
      const handles: WorkflowHandle<typeof steps>[] = [];
      for (let i = 0; i < 20; i++) {
        // A task held by the killed worker is retried once its timeout passes: keep it short.
        const options = { taskQueue, workflowId: `steps-${i}`, args: [8] as [number], workflowTaskTimeout: '2 seconds' };
        handles.push(await env.client.workflow.start(steps, options));
      }
      // Wait until the workflows are under way but not finished, then kill the worker.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const before = await Promise.all(handles.map((h) => h.describe()));
      expect(before.every((d) => d.status.name === 'RUNNING')).toBe(true);
      expect(before.some((d) => d.historyLength > 10)).toBe(true);
      await killProcess(first);

      const second = await startWorkerProcess(env.address, taskQueue);
      try {
        expect(await Promise.all(handles.map((h) => h.result()))).toEqual(handles.map(() => 8));
      } finally {
        await killProcess(second);
      }
      const histories = await fetchHistories(handles);
      expect(await replayFailures({ workflowBundle }, histories)).toEqual([]);
    } finally {
      await env.teardown();
    }
  });

  it('keeps every open workflow when restarted on the same database file', async () => {
    const dbFilename = join(dir, 'temporal.db');
    const taskQueue = 'slice-restart';
    const ids = ['open-1', 'open-2', 'open-3'];

    const firstServer = await startDevServer({ dbFilename });
    const firstWorker = await Worker.create({ connection: firstServer.nativeConnection, taskQueue, workflowBundle, activities });
    await firstWorker.runUntil(async () => {
      for (const id of ids) {
        const handle = await firstServer.client.workflow.start(collector, { taskQueue, workflowId: id, args: [undefined] });
        await handle.signal(addSignal, `before restart ${id}`);
        await expect.poll(() => handle.query(stateQuery)).toMatchObject({ received: [`before restart ${id}`] });
      }
    });
    await firstServer.teardown();

    const secondServer: TestWorkflowEnvironment = await startDevServer({ dbFilename });
    try {
      const secondWorker = await Worker.create({ connection: secondServer.nativeConnection, taskQueue, workflowBundle, activities });
      await secondWorker.runUntil(async () => {
        for (const id of ids) {
          const handle = secondServer.client.workflow.getHandle<typeof collector>(id);
          expect((await handle.describe()).status.name).toBe('RUNNING');
          expect(await handle.query(stateQuery)).toMatchObject({ received: [`before restart ${id}`] });
          await handle.signal(finishSignal);
          expect(await handle.result()).toEqual({ generation: 0, received: [`before restart ${id}`], total: 0 });
        }
      });
    } finally {
      await secondServer.teardown();
    }
  });
});
