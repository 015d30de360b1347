// What a workflow is doing, for a test's failure message: its pending activities (attempts and
// last failure), its pending workflow task and its latest history events with their times.
import type { Client } from '@temporalio/client';

export async function diagnoseWorkflow(client: Client, workflowId: string, lastEvents = 12): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
  const lines = [`workflow ${workflowId}: ${description.status.name}, history length ${description.historyLength}`];
  for (const activity of description.raw.pendingActivities ?? []) {
    lines.push(
      `  pending activity ${activity.activityType?.name} attempt ${activity.attempt} state ${activity.state}` +
        ` scheduled ${seconds(activity.scheduledTime)} started ${seconds(activity.lastStartedTime)}` +
        (activity.lastFailure?.message ? ` last failure: ${activity.lastFailure.message}` : ''),
    );
  }
  const task = description.raw.pendingWorkflowTask;
  if (task) lines.push(`  pending workflow task state ${task.state} attempt ${task.attempt} scheduled ${seconds(task.scheduledTime)}`);
  for (const event of (history.events ?? []).slice(-lastEvents)) {
    const attributes = Object.keys(event).find((key) => key.endsWith('Attributes') && (event as Record<string, unknown>)[key]);
    const detail = event.activityTaskScheduledEventAttributes?.activityType?.name ?? event.workflowExecutionSignaledEventAttributes?.signalName ?? '';
    lines.push(`  #${event.eventId} ${seconds(event.eventTime)} ${attributes?.replace(/EventAttributes$/, '')} ${detail}`);
  }
  lines.push(`  now ${new Date().toISOString()}`);
  return lines.join('\n');
}

function seconds(time: { seconds?: unknown; nanos?: number | null } | null | undefined): string {
  if (!time?.seconds) return '-';
  return new Date(Number(time.seconds) * 1000 + Math.floor((time.nanos ?? 0) / 1e6)).toISOString().slice(11, 23);
}
