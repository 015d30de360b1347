// The Engine the API talks to, on Temporal: one workflow per (campaign, lead), reached by id.
// Events do not pass here: the API stores them and the workers' dispatcher delivers them.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { CampaignStatus, SalesOutcome } from '../campaign';
import { getCampaignVersion } from '../db/campaigns';
import { openEnrolment, openEnrolments, recordEnrolmentStart } from '../db/enrolments';
import { createFanOut, type FanOut, type FanOutAction } from '../db/fanouts';
import { workflowIdOfHandoff } from '../db/handoffs';
import { leadSnapshot } from '../db/leads';
import type { Pool } from '../db/pool';
import { signalIfRunning } from '../runtime/temporal-connection';
import { campaignFanOut, fanOutStart } from '../workflows/campaign-fanout';
import {
  consentSignal,
  enrolmentInput,
  exitSignal,
  migrateVersionUpdate,
  nurture,
  salesResponseUpdate,
  stateQuery,
  workflowIdFor,
} from '../workflows/nurture';
import { EngineRefusal, type Engine } from './engine';

export function createTemporalEngine(options: { client: Client; pool: Pool; taskQueue: string }): Engine {
  const { client, pool, taskQueue } = options;

  /**
   * Records the fan-out and starts the workflow that carries it; the request does not wait for it.
   * When Temporal cannot be reached now, the workers' sweeper (worker/fanout-sweeper.ts) starts it
   * within a minute or two: the change is recorded, and the send path already enforces it.
   */
  async function startFanOut(request: Parameters<typeof createFanOut>[1]): Promise<FanOut> {
    const fanOut = await createFanOut(pool, request);
    try {
      await client.workflow.start(campaignFanOut, fanOutStart(fanOut.id, taskQueue));
    } catch {
      // Left to the sweeper (see above).
    }
    return fanOut;
  }

  return {
    async enrol(campaignId: string, leadId: string) {
      const version = await getCampaignVersion(pool, campaignId);
      if (!version) throw new EngineRefusal('not_found', `campaign ${campaignId} does not exist`);
      const lead = await leadSnapshot(pool, leadId);
      if (!lead) throw new EngineRefusal('not_found', `lead ${leadId} does not exist or was erased`);
      const workflowId = workflowIdFor(campaignId, leadId);
      // The open row is written before the workflow starts, so that an event a moment later finds it.
      await recordEnrolmentStart(pool, { workflowId, campaignId, campaignVersion: version.version, leadId });
      try {
        await client.workflow.start(nurture, { workflowId, taskQueue, args: [enrolmentInput(version.definition, version.version, lead)] });
        return { workflowId, alreadyEnrolled: false };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, alreadyEnrolled: true };
        throw error;
      }
    },

    async exitEnrolment(workflowId: string, reason: string) {
      await signalIfRunning(client.workflow.getHandle(workflowId), exitSignal, { reason });
    },

    async terminateEnrolment(workflowId: string, reason: string) {
      try {
        await client.workflow.getHandle(workflowId).terminate(reason);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    },

    async enrolmentState(workflowId: string) {
      try {
        return await client.workflow.getHandle(workflowId).query(stateQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }
    },

    async consentChanged(leadId: string, purpose: string, granted: boolean) {
      const running = await openEnrolments(pool, { leadId });
      await Promise.all(running.map((row) => signalIfRunning(client.workflow.getHandle(row.workflowId), consentSignal, { purpose, granted })));
    },

    async salesResponse(handoffId: string, outcome: SalesOutcome, note?: string, recycleAt?: Date) {
      const workflowId = await workflowIdOfHandoff(pool, handoffId);
      if (!workflowId) throw new EngineRefusal('not_found', `handoff ${handoffId} does not exist`);
      try {
        await client.workflow.getHandle(workflowId).executeUpdate(salesResponseUpdate, { args: [{ handoffId, outcome, note, ...(recycleAt && { recycleAt: recycleAt.getTime() }) }] });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) throw new EngineRefusal('conflict', error.cause?.message ?? error.message);
        if (error instanceof WorkflowNotFoundError) throw new EngineRefusal('conflict', `the enrolment of handoff ${handoffId} has ended`);
        throw error;
      }
    },

    async campaignStatusChanged(campaignId, status, statusSeq) {
      const action: FanOutAction = status === 'paused' ? 'pause' : status === 'active' ? 'resume' : 'archive';
      return startFanOut({ campaignId, action, statusSeq });
    },

    async migrateCampaign(campaignId, toVersion, fromVersion) {
      return startFanOut({ campaignId, action: 'migrate', toVersion, fromVersion });
    },

    async migrateEnrolment(workflowId: string, version?: number) {
      const enrolment = await openEnrolment(pool, workflowId);
      if (!enrolment) throw new EngineRefusal('not_found', `enrolment ${workflowId} does not exist or has ended`);
      const target = await getCampaignVersion(pool, enrolment.campaignId, version);
      if (!target) throw new EngineRefusal('not_found', `campaign ${enrolment.campaignId} has no version ${version ?? '(current)'}`);
      try {
        return await client.workflow
          .getHandle(workflowId)
          .executeUpdate(migrateVersionUpdate, { args: [{ campaign: target.definition, campaignVersion: target.version }] });
      } catch (error) {
        // The validator's refusal (other campaign, same version, ended) reaches us as a failed update.
        if (error instanceof WorkflowUpdateFailedError) throw new EngineRefusal('conflict', error.cause?.message ?? error.message);
        if (error instanceof WorkflowNotFoundError) throw new EngineRefusal('not_found', `enrolment ${workflowId} has ended`);
        throw error;
      }
    },
  };
}
