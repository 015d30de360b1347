// The Engine the API talks to, on Temporal: one workflow per (campaign, lead), reached by id.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { CampaignStatus, LeadEvent, LeadSnapshot, SalesOutcome } from '../campaign';
import { holds } from '../campaign/conditions';
import { campaignsEnteredBy, getCampaignVersion, type CampaignVersion } from '../db/campaigns';
import { currentConsent } from '../db/consent';
import { entryHistory, openEnrolment, openEnrolments, recordEnrolmentStart, type OpenEnrolment } from '../db/enrolments';
import { createFanOut, type FanOut, type FanOutAction } from '../db/fanouts';
import { workflowIdOfHandoff } from '../db/handoffs';
import { getLead } from '../db/leads';
import type { Pool } from '../db/pool';
import { signalIfRunning } from '../runtime/temporal-connection';
import { campaignFanOut, fanOutStart } from '../workflows/campaign-fanout';
import {
  consentSignal,
  ENGINE_VERSION,
  exitSignal,
  leadEventSignal,
  migrateVersionUpdate,
  nurture,
  salesResponseUpdate,
  stateQuery,
  type NurtureInput,
} from '../workflows/nurture';
import { EngineRefusal, type Engine } from './engine';

export function workflowIdFor(campaignId: string, leadId: string): string {
  return `nurture:${campaignId}:${leadId}`;
}

/** What the interpreter knows of a lead: attributes (plus derived ones), time zone, consent. */
export async function leadSnapshot(pool: Pool, leadId: string): Promise<LeadSnapshot | undefined> {
  const lead = await getLead(pool, leadId);
  if (!lead || !lead.email) return undefined;
  return {
    id: lead.id,
    email: lead.email,
    attributes: { ...lead.attributes, email_domain: lead.email.split('@')[1] },
    timezone: lead.timezone ?? undefined,
    consent: await currentConsent(pool, lead.id),
  };
}

export function createTemporalEngine(options: { client: Client; pool: Pool; taskQueue: string }): Engine {
  const { client, pool, taskQueue } = options;

  /** The open row is written before the workflow starts, so that an event a moment later finds it. */
  const recordStart = (version: CampaignVersion, leadId: string, workflowId: string) =>
    recordEnrolmentStart(pool, { workflowId, campaignId: version.campaignId, campaignVersion: version.version, leadId });

  /**
   * Signals an open enrolment. Its workflow may not have started yet (its row is written first):
   * then this event starts it, with the version the row names; one that has closed meanwhile is
   * no longer interested.
   */
  async function signalEnrolment(row: OpenEnrolment, event: LeadEvent) {
    const handle = client.workflow.getHandle(row.workflowId);
    if (await signalIfRunning(handle, leadEventSignal, event)) return;
    try {
      await handle.describe();
      return; // it exists, so it has closed
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const [version, lead] = await Promise.all([getCampaignVersion(pool, row.campaignId, row.campaignVersion), leadSnapshot(pool, row.leadId)]);
    if (!version || !lead) return;
    await client.workflow.signalWithStart(nurture, {
      workflowId: row.workflowId,
      taskQueue,
      args: [startInput(version, lead)],
      signal: leadEventSignal,
      signalArgs: [event],
    });
  }

  async function mayEnter(version: CampaignVersion, leadId: string, now: number): Promise<boolean> {
    const history = await entryHistory(pool, version.campaignId, leadId);
    if (history.open) return false;
    if (!history.lastEndedAt) return true;
    const entry = version.definition.entry;
    if (entry.reentry === 'always') return true;
    if (entry.reentry === 'after') return history.lastEndedAt.getTime() + (entry.reentryAfterMs ?? 0) <= now;
    return false;
  }

  function startInput(version: CampaignVersion, lead: LeadSnapshot): NurtureInput {
    return { campaign: version.definition, campaignVersion: version.version, lead, engineVersion: ENGINE_VERSION };
  }

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
    async deliverEvent(leadId: string, event: LeadEvent) {
      const open = await openEnrolments(pool, { leadId });
      await Promise.all(open.map((row) => signalEnrolment(row, event)));
      const running = open.map((row) => row.workflowId);

      const candidates = await campaignsEnteredBy(pool, event.type);
      if (candidates.length === 0) return;
      const lead = await leadSnapshot(pool, leadId);
      if (!lead) return;
      for (const version of candidates) {
        const workflowId = workflowIdFor(version.campaignId, leadId);
        if (running.includes(workflowId)) continue;
        const where = version.definition.entry.where;
        if (where && !holds(where, { event, lead: lead.attributes }, { now: event.at, events: [] })) continue;
        // Measured from the entering event's time, the clock the enrolment's end was recorded on.
        if (!(await mayEnter(version, leadId, event.at))) continue;
        await recordStart(version, leadId, workflowId);
        // Signal-with-start: enrols and delivers the entering event in one call, and a
        // concurrent duplicate only adds a (deduplicated) signal to the same workflow.
        await client.workflow.signalWithStart(nurture, {
          workflowId,
          taskQueue,
          args: [startInput(version, lead)],
          signal: leadEventSignal,
          signalArgs: [event],
        });
      }
    },

    async enrol(campaignId: string, leadId: string) {
      const version = await getCampaignVersion(pool, campaignId);
      if (!version) throw new EngineRefusal('not_found', `campaign ${campaignId} does not exist`);
      const lead = await leadSnapshot(pool, leadId);
      if (!lead) throw new EngineRefusal('not_found', `lead ${leadId} does not exist or was erased`);
      const workflowId = workflowIdFor(campaignId, leadId);
      await recordStart(version, leadId, workflowId);
      try {
        await client.workflow.start(nurture, { workflowId, taskQueue, args: [startInput(version, lead)] });
        return { workflowId, alreadyEnrolled: false };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, alreadyEnrolled: true };
        throw error;
      }
    },

    async exitEnrolment(workflowId: string, reason: string) {
      await signalIfRunning(client.workflow.getHandle(workflowId), exitSignal, { reason });
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

    async salesResponse(handoffId: string, outcome: SalesOutcome, note?: string) {
      const workflowId = await workflowIdOfHandoff(pool, handoffId);
      if (!workflowId) throw new EngineRefusal('not_found', `handoff ${handoffId} does not exist`);
      try {
        await client.workflow.getHandle(workflowId).executeUpdate(salesResponseUpdate, { args: [{ handoffId, outcome, note }] });
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
