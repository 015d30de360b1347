// The foundation's vertical slice on Temporal's official time-skipping test server: real worker,
// real client, no mocks. Every history produced here is replayed at the end. With
// TEMPORAL_ADDRESS set it runs against that server instead, where days become seconds because a
// real cluster cannot skip time.
import { fileURLToPath } from 'node:url';
import {
  WorkflowContinuedAsNewError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalForTests } from '../../devserver/temporal';
import { eventTypes, fetchHistories, replayFailures } from '../support/history';
import * as activities from './slice/activities';
import {
  addSignal,
  bumpUpdate,
  cancellable,
  child,
  collector,
  finishSignal,
  parent,
  rejecter,
  retrier,
  sleeper,
  stateQuery,
} from './slice/workflows';

const workflowsPath = fileURLToPath(new URL('./slice/workflows.ts', import.meta.url));
const DAY = 24 * 60 * 60 * 1000;
/** `days` of virtual time on the test server; as many seconds on a real cluster. */
const days = (n: number) => (env.supportsTimeSkipping ? n * DAY : n * 1000);
const taskQueue = 'slice-time-skipping';

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
let worker: Worker;
let running: Promise<void>;
const produced: WorkflowHandle[] = [];

beforeAll(async () => {
  [env, workflowBundle] = await Promise.all([temporalForTests('time-skipping'), bundleWorkflowCode({ workflowsPath })]);
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
  running = worker.run();
  // The first calls to a freshly started JVM server pay for its warm-up (about 1 s here); a
  // trivial workflow absorbs that so the timings below measure the engine, not the JIT.
  await env.client.workflow.execute(child, { taskQueue, workflowId: 'warm-up', args: ['warm-up'] });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function start<T extends Workflow>(workflow: T, workflowId: string, args: Parameters<T>): Promise<WorkflowHandle<T>> {
  const handle = await env.client.workflow.start(workflow, { taskQueue, workflowId, args } as unknown as WorkflowStartOptions<T>);
  produced.push(handle);
  return handle;
}

describe('vertical slice on the time-skipping test server', () => {
  it('sleeps 30 days of workflow time in under 2 s of wall time', async () => {
    const serverTimeBefore = await env.currentTimeMs();
    const wallStart = performance.now();
    const handle = await start(sleeper, 'sleeper-30d', [days(30)]);
    const { startedAt, wokeAt } = await handle.result();
    const wallMs = performance.now() - wallStart;

    expect(wokeAt - startedAt).toBeGreaterThanOrEqual(days(30));
    expect((await env.currentTimeMs()) - serverTimeBefore).toBeGreaterThanOrEqual(days(30));
    if (env.supportsTimeSkipping) expect(wallMs).toBeLessThan(2_000);
    expect(eventTypes(await handle.fetchHistory())).toEqual(
      expect.arrayContaining(['TIMER_STARTED', 'TIMER_FIRED', 'WORKFLOW_EXECUTION_COMPLETED']),
    );
  });

  it('takes signals, answers a query and an update, and continues as new with its state', async () => {
    const handle = await start(collector, 'collector', [undefined]);
    await handle.signal(addSignal, 'a');
    expect(await handle.executeUpdate(bumpUpdate, { args: [5] })).toBe(5);
    await expect(handle.executeUpdate(bumpUpdate, { args: [-1] })).rejects.toThrow(WorkflowUpdateFailedError);
    expect(await handle.query(stateQuery)).toEqual({ generation: 0, received: ['a'], total: 5 });

    const firstRunId = (await handle.describe()).runId;
    await handle.signal(addSignal, 'b');
    await handle.signal(addSignal, 'c'); // third item: the run continues as new
    const firstRun = env.client.workflow.getHandle('collector', firstRunId, { followRuns: false });
    await expect(firstRun.result()).rejects.toThrow(WorkflowContinuedAsNewError);
    const firstHistory = eventTypes(await firstRun.fetchHistory());
    expect(firstHistory).toEqual(expect.arrayContaining(['WORKFLOW_EXECUTION_SIGNALED', 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED']));
    expect(firstHistory.at(-1)).toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    produced.push(firstRun);

    const latest = env.client.workflow.getHandle('collector');
    expect((await latest.describe()).runId).not.toBe(firstRunId);
    expect(await latest.query(stateQuery)).toEqual({ generation: 1, received: ['a', 'b', 'c'], total: 5 });
    await latest.signal(finishSignal);
    expect(await handle.result()).toEqual({ generation: 1, received: ['a', 'b', 'c'], total: 5 });
  });

  it('retries an activity that fails twice, then succeeds on the third attempt', async () => {
    const handle = await start(retrier, 'retrier', []);
    expect(await handle.result()).toEqual({ attempt: 3 });
    const history = await handle.fetchHistory();
    const started = history.events?.find((e) => e.activityTaskStartedEventAttributes);
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(3);
    expect(eventTypes(history)).toEqual(expect.arrayContaining(['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_COMPLETED']));
  });

  it('starts a child workflow and returns its result', async () => {
    const handle = await start(parent, 'parent', ['nurture']);
    expect(await handle.result()).toBe('hello nurture from parent-child');
    expect(eventTypes(await handle.fetchHistory())).toEqual(
      expect.arrayContaining([
        'START_CHILD_WORKFLOW_EXECUTION_INITIATED',
        'CHILD_WORKFLOW_EXECUTION_STARTED',
        'CHILD_WORKFLOW_EXECUTION_COMPLETED',
      ]),
    );
    produced.push(env.client.workflow.getHandle('parent-child'));
  });

  it('is cancelled while sleeping, runs its cleanup, and ends as cancelled', async () => {
    const handle = await start(cancellable, 'cancellable', []);
    await env.sleep(days(1)); // let it reach its year-long sleep
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(activities.cleanedUp).toContain('cancellable');
    const types = eventTypes(await handle.fetchHistory());
    expect(types).toEqual(expect.arrayContaining(['WORKFLOW_EXECUTION_CANCEL_REQUESTED', 'TIMER_CANCELED', 'ACTIVITY_TASK_COMPLETED']));
    expect(types.at(-1)).toBe('WORKFLOW_EXECUTION_CANCELED');
  });

  it('does not retry a non-retryable activity failure and fails the workflow with it', async () => {
    const handle = await start(rejecter, 'rejecter', []);
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (error as WorkflowFailedError).cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect(activityFailure?.cause).toBeInstanceOf(ApplicationFailure);
    expect((activityFailure?.cause as ApplicationFailure).nonRetryable).toBe(true);
    const started = (await handle.fetchHistory()).events?.find((e) => e.activityTaskStartedEventAttributes);
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(1);
  });

  it('replays every history produced above without a determinism error', async () => {
    expect(produced.length).toBeGreaterThanOrEqual(7);
    const histories = await fetchHistories(produced);
    expect(await replayFailures({ workflowBundle }, histories)).toEqual([]);
  });
});
