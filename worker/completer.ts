// How the mailer tells workflows that an email is final, through Temporal's client: a signal to
// the enrolment's workflow, or — for rows the earlier send activity wrote — completing that
// waiting activity.
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { signalIfRunning } from '../runtime/temporal-connection';
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
    report: (workflowId, report) => signalIfRunning(client.workflow.getHandle(workflowId), sendResultSignal, report),
  };
}
