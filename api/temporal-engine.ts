// The Engine the API talks to, on Temporal: one workflow per (campaign, lead), reached by id.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { LeadEvent, LeadSnapshot } from '../campaign';
import { holds } from '../campaign/conditions';
import { campaignsEnteredBy, getCampaignVersion, type CampaignVersion } from '../db/campaigns';
import { currentConsent } from '../db/consent';
import { getLead } from '../db/leads';
import type { Pool } from '../db/pool';
import {
  consentSignal,
  exitSignal,
  leadEventSignal,
  migrateVersionUpdate,
  nurture,
  pauseSignal,
  resumeSignal,
  salesResponseUpdate,
  stateQuery,
  type NurtureInput,
} from '../workflows/nurture';
import type { Engine, SalesOutcome } from './engine';

export function workflowIdFor(campaignId: string, leadId: string): string {
  return `nurture:${campaignId}:${leadId}`;
}

/** A request the engine refuses for a reason the caller should hear (HTTP 404 / 409). */
export class EngineRefusal extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
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

/** An enrolment's row while it is open (written before its workflow starts: see recordStart). */
interface OpenEnrolment {
  workflow_id: string;
  campaign_id: string;
  campaign_version: number;
  lead_id: string;
}

export function createTemporalEngine(options: { client: Client; pool: Pool; taskQueue: string }): Engine {
  const { client, pool, taskQueue } = options;

  const openEnrolments = async (where: 'lead_id' | 'campaign_id', value: string) =>
    (
      await pool.query<OpenEnrolment>(
        `SELECT workflow_id, campaign_id, campaign_version, lead_id FROM enrolments WHERE ${where} = $1 AND ended_at IS NULL`,
        [value],
      )
    ).rows;

  /**
   * Writes the open enrolment's row before its workflow starts (the workflow's own
   * recordEnrolment finds it), so that an event arriving a moment later, before the workflow
   * has run its first activity, finds the enrolment and reaches it.
   */
  const recordStart = (version: CampaignVersion, leadId: string, workflowId: string) =>
    pool.query(
      `INSERT INTO enrolments (workflow_id, campaign_id, campaign_version, lead_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (workflow_id) WHERE ended_at IS NULL DO NOTHING`,
      [workflowId, version.campaignId, version.version, leadId],
    );

  /**
   * Signals an open enrolment. Its workflow may not have started yet (its row is written first):
   * then this event starts it, with the version the row names; one that has closed meanwhile is
   * no longer interested.
   */
  async function signalEnrolment(row: OpenEnrolment, event: LeadEvent) {
    const handle = client.workflow.getHandle(row.workflow_id);
    try {
      await handle.signal(leadEventSignal, event);
      return;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    try {
      await handle.describe();
      return; // it exists, so it has closed
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const [version, lead] = await Promise.all([getCampaignVersion(pool, row.campaign_id, row.campaign_version), leadSnapshot(pool, row.lead_id)]);
    if (!version || !lead) return;
    await client.workflow.signalWithStart(nurture, {
      workflowId: row.workflow_id,
      taskQueue,
      args: [startInput(version, lead)],
      signal: leadEventSignal,
      signalArgs: [event],
    });
  }

  /** Signals a workflow; one that has finished meanwhile is no longer interested. */
  const tolerant = async (work: Promise<unknown>) => {
    try {
      await work;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  };

  async function mayEnter(version: CampaignVersion, leadId: string, now: number): Promise<boolean> {
    const { rows } = await pool.query<{ open: boolean; last_end: Date | null }>(
      `SELECT bool_or(ended_at IS NULL) AS open, max(ended_at) AS last_end, count(*)::int AS n
       FROM enrolments WHERE campaign_id = $1 AND lead_id = $2`,
      [version.campaignId, leadId],
    );
    const history = rows[0];
    if (!history?.last_end && !history?.open) return true;
    if (history.open) return false;
    const entry = version.definition.entry;
    if (entry.reentry === 'always') return true;
    if (entry.reentry === 'after') return history.last_end!.getTime() + (entry.reentryAfterMs ?? 0) <= now;
    return false;
  }

  function startInput(version: CampaignVersion, lead: LeadSnapshot): NurtureInput {
    return { campaign: version.definition, campaignVersion: version.version, lead };
  }

  return {
    async deliverEvent(leadId: string, event: LeadEvent) {
      const open = await openEnrolments('lead_id', leadId);
      await Promise.all(open.map((row) => signalEnrolment(row, event)));
      const running = open.map((row) => row.workflow_id);

      const candidates = await campaignsEnteredBy(pool, event.type);
      if (candidates.length === 0) return;
      const lead = await leadSnapshot(pool, leadId);
      if (!lead) return;
      for (const version of candidates) {
        const workflowId = workflowIdFor(version.campaignId, leadId);
        if (running.includes(workflowId)) continue;
        const where = version.definition.entry.where;
        if (where && !holds(where, { event, lead: lead.attributes }, { now: event.at, events: [] })) continue;
        if (!(await mayEnter(version, leadId, Date.now()))) continue;
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
      await tolerant(client.workflow.getHandle(workflowId).signal(exitSignal, { reason }));
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
      const running = await openEnrolments('lead_id', leadId);
      await Promise.all(running.map((row) => tolerant(client.workflow.getHandle(row.workflow_id).signal(consentSignal, { purpose, granted }))));
    },

    async salesResponse(handoffId: string, outcome: SalesOutcome, note?: string) {
      const { rows } = await pool.query<{ workflow_id: string }>(
        'SELECT e.workflow_id FROM handoffs h JOIN enrolments e ON e.id = h.enrolment_id WHERE h.id = $1',
        [handoffId],
      );
      if (!rows[0]) throw new EngineRefusal('not_found', `handoff ${handoffId} does not exist`);
      try {
        await client.workflow.getHandle(rows[0].workflow_id).executeUpdate(salesResponseUpdate, { args: [{ handoffId, outcome, note }] });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) throw new EngineRefusal('conflict', error.cause?.message ?? error.message);
        if (error instanceof WorkflowNotFoundError) throw new EngineRefusal('conflict', `the enrolment of handoff ${handoffId} has ended`);
        throw error;
      }
    },

    async campaignStatusChanged(campaignId: string, status: 'active' | 'paused' | 'archived') {
      const running = await openEnrolments('campaign_id', campaignId);
      await Promise.all(
        running.map((row) => {
          const handle = client.workflow.getHandle(row.workflow_id);
          if (status === 'paused') return tolerant(handle.signal(pauseSignal));
          if (status === 'active') return tolerant(handle.signal(resumeSignal));
          return tolerant(handle.signal(exitSignal, { reason: 'campaign archived' }));
        }),
      );
    },

    async migrateEnrolment(workflowId: string, version?: number) {
      const { rows } = await pool.query<{ campaign_id: string }>('SELECT campaign_id FROM enrolments WHERE workflow_id = $1 AND ended_at IS NULL', [workflowId]);
      if (!rows[0]) throw new EngineRefusal('not_found', `enrolment ${workflowId} does not exist or has ended`);
      const target = await getCampaignVersion(pool, rows[0].campaign_id, version);
      if (!target) throw new EngineRefusal('not_found', `campaign ${rows[0].campaign_id} has no version ${version ?? '(current)'}`);
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
