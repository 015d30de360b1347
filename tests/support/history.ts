// Reading and replaying workflow histories in tests.
import type { WorkflowHandle } from '@temporalio/client';
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

/** Fetches the history of every run the handles point at (the latest run of each id). */
export async function fetchHistories(handles: WorkflowHandle[]): Promise<RecordedHistory[]> {
  return Promise.all(handles.map(async (handle) => ({ workflowId: handle.workflowId, history: await handle.fetchHistory() })));
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
