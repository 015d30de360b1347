// How campaign-wide changes reach enrolments on Temporal (activities/fanout.ts drives it).
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { EnrolmentMessenger } from '../activities/fanout';
import { signalIfRunning } from '../runtime/temporal-connection';
import { campaignStatusSignal, migrateVersionUpdate } from '../workflows/nurture';

export function temporalMessenger(client: Client): EnrolmentMessenger {
  return {
    // Not started yet (it reads the status when it starts) or ended: nothing to tell.
    setStatus: (workflowId, change) => signalIfRunning(client.workflow.getHandle(workflowId), campaignStatusSignal, change),
    async migrate(workflowId, target) {
      try {
        await client.workflow.getHandle(workflowId).executeUpdate(migrateVersionUpdate, { args: [target] });
        return true;
      } catch (error) {
        // Ended, or already on (or moving to) that version.
        if (error instanceof WorkflowNotFoundError || error instanceof WorkflowUpdateFailedError) return false;
        throw error;
      }
    },
  };
}
