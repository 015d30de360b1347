// Reading and replaying workflow histories in tests.
import type { WorkflowHandle } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';

type History = temporal.api.history.v1.IHistory;

/** Event type names of a history, e.g. ['WORKFLOW_EXECUTION_STARTED', 'WORKFLOW_TASK_SCHEDULED', …]. */
export function eventTypes(history: History): string[] {
  return (history.events ?? []).map((event) =>
    String(temporal.api.enums.v1.EventType[event.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''),
  );
}

export interface RecordedHistory {
  workflowId: string;
  history: History;
}

/**
 * Fetches the history of every run the handles point at (the latest run of each id), its
 * payloads decoded with `codec` when one is given (as recorded histories are kept: readable, so
 * that replaying them needs no key).
 */
export async function fetchHistories(handles: WorkflowHandle[], codec?: PayloadCodec): Promise<RecordedHistory[]> {
  return Promise.all(
    handles.map(async (handle) => {
      const history = await handle.fetchHistory();
      return { workflowId: handle.workflowId, history: codec ? await decodePayloads(history, codec) : history };
    }),
  );
}

const isPayload = (value: unknown): value is Payload =>
  typeof value === 'object' && value !== null && 'metadata' in value && 'data' in value && (value as Payload).data instanceof Uint8Array;

/** A copy of `value` (a history, an event…) with every payload in it decoded by `codec`. */
export async function decodePayloads<T>(value: T, codec: PayloadCodec): Promise<T> {
  if (isPayload(value)) return (await codec.decode([value]))[0] as T;
  if (Array.isArray(value)) return (await Promise.all(value.map((item) => decodePayloads(item, codec)))) as T;
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || (value as object).constructor?.name === 'Long') return value;
  const entries = await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await decodePayloads(item, codec)] as const));
  return Object.assign(Object.create(Object.getPrototypeOf(value)), Object.fromEntries(entries)) as T;
}

/**
 * Replays histories against the given workflow code and returns the failures as
 * "<workflowId>: <message>" lines (empty when every history replays cleanly).
 */
export async function replayFailures(options: ReplayWorkerOptions, histories: Iterable<RecordedHistory>): Promise<string[]> {
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(options, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return failures;
}
