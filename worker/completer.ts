// How the mailer tells workflows that an email is final, through Temporal's client: a signal to
// the enrolment's workflow, or — for rows the earlier send activity wrote — completing that
// waiting activity.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sendResultSignal } from '../workflows/nurture';
import type { SendCompleter } from './mailer';

export function temporalCompleter(client: Client): SendCompleter {
  return {
    complete: (taskToken, outcome) => client.activity.complete(taskToken, outcome),
    fail: (taskToken, error) =>
      client.activity.fail(
        taskToken,
        error.retryable ? ApplicationFailure.retryable(error.message, 'SmtpDeferred') : ApplicationFailure.nonRetryable(error.message, 'SmtpFailed'),
      ),
    async report(workflowId, report) {
      try {
        await client.workflow.getHandle(workflowId).signal(sendResultSignal, report);
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false; // the enrolment ended
        throw error;
      }
    },
  };
}
