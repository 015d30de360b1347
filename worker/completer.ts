// The mailer completes the send activities that wait for it, through Temporal's client.
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { SendCompleter } from './mailer';

export function temporalCompleter(client: Client): SendCompleter {
  return {
    complete: (taskToken, outcome) => client.activity.complete(taskToken, outcome),
    fail: (taskToken, error) =>
      client.activity.fail(
        taskToken,
        error.retryable ? ApplicationFailure.retryable(error.message, 'SmtpDeferred') : ApplicationFailure.nonRetryable(error.message, 'SmtpFailed'),
      ),
  };
}
