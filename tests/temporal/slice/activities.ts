import { ApplicationFailure, Context } from '@temporalio/activity';

/** Fails on the first `failures` attempts, then reports which attempt succeeded. */
export async function flaky(label: string, failures = 2): Promise<{ attempt: number }> {
  const { attempt } = Context.current().info;
  if (attempt <= failures) throw new Error(`${label}: planned failure on attempt ${attempt}`);
  return { attempt };
}

export const cleanedUp: string[] = [];

export async function cleanup(workflowId: string): Promise<void> {
  cleanedUp.push(workflowId);
}

export async function rejectForGood(): Promise<void> {
  throw ApplicationFailure.nonRetryable('permanent failure: retrying cannot help', 'Permanent');
}
