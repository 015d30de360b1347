// A toy workflow that exercises every Temporal feature the nurture workflow relies on, so that
// the foundation is proven on the real engine before the product is built on it.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from './activities';

const { flaky, cleanup, rejectForGood } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

export interface SliceState {
  generation: number;
  received: string[];
  total: number;
}

export const addSignal = defineSignal<[string]>('add');
export const finishSignal = defineSignal('finish');
export const stateQuery = defineQuery<SliceState>('state');
export const bumpUpdate = defineUpdate<number, [number]>('bump');

/** Sleeps for `ms` of workflow time and reports when it woke up. */
export async function sleeper(ms: number): Promise<{ startedAt: number; wokeAt: number }> {
  const startedAt = Date.now();
  await sleep(ms);
  return { startedAt, wokeAt: Date.now() };
}

/** Collects signals and updates until told to finish; answers a state query meanwhile. */
export async function collector(state: SliceState = { generation: 0, received: [], total: 0 }): Promise<SliceState> {
  let finished = false;
  setHandler(addSignal, (item) => {
    state.received.push(item);
  });
  setHandler(finishSignal, () => {
    finished = true;
  });
  setHandler(stateQuery, () => state);
  setHandler(
    bumpUpdate,
    (by) => {
      state.total += by;
      return state.total;
    },
    {
      validator: (by) => {
        if (!Number.isInteger(by) || by <= 0) throw new Error(`bump must be a positive integer, got ${by}`);
      },
    },
  );
  await condition(() => finished || state.received.length >= 3);
  // Continue as new once, carrying the state, to prove it survives the new run.
  if (!finished && state.generation === 0) {
    return continueAsNew<typeof collector>({ ...state, generation: 1 });
  }
  await condition(() => finished);
  return state;
}

/** Runs an activity that fails twice before succeeding. */
export async function retrier(): Promise<{ attempt: number }> {
  return flaky('retrier');
}

/** Runs an activity that fails with a non-retryable error. */
export async function rejecter(): Promise<void> {
  await rejectForGood();
}

export async function child(name: string): Promise<string> {
  return `hello ${name} from ${workflowInfo().workflowId}`;
}

export async function parent(name: string): Promise<string> {
  return executeChild(child, { args: [name], workflowId: `${workflowInfo().workflowId}-child` });
}

/** Waits a long time; when cancelled, runs a cleanup activity that cancellation cannot interrupt. */
export async function cancellable(): Promise<void> {
  try {
    await sleep('365 days');
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => cleanup(workflowInfo().workflowId));
    }
    throw error;
  }
}

// Short timeouts so that work lost with a killed worker is retried within seconds.
const quick = proxyActivities<typeof activities>({ startToCloseTimeout: '2 seconds' });

/** A few activity steps with real waits between them, for the worker-crash test. */
export async function steps(count: number): Promise<number> {
  let done = 0;
  for (let i = 0; i < count; i++) {
    await quick.flaky(`${workflowInfo().workflowId}:${i}`, 0);
    await sleep('200 ms');
    done++;
  }
  if (done !== count) throw ApplicationFailure.nonRetryable('lost a step');
  return done;
}
