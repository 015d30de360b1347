// Where a stored event goes: to every open enrolment of its lead (a signal; signal-with-start when
// the row was written but its workflow has not started), and into the active campaigns its type
// enters (entry.where and the re-entry rule decided here, with campaign versions cached). A
// launch event enrols its lead into the one campaign it names. The dispatcher calls it for each
// lead's events in order; every call is safe to repeat (workflows deduplicate events by id).
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LeadEvent, LeadSnapshot } from '../campaign';
import { holds } from '../campaign/conditions';
import { activeCampaignVersions, campaignsGeneration, getCampaignVersion, type CampaignVersion } from '../db/campaigns';
import { entryHistory, openEnrolments, recordEnrolmentStart, type OpenEnrolment } from '../db/enrolments';
import type { StoredEvent } from '../db/events';
import { launchOf, type LaunchNotEntered } from '../db/launches';
import { leadSnapshot } from '../db/leads';
import type { Pool } from '../db/pool';
import { signalIfRunning } from '../runtime/temporal-connection';
import { enrolmentInput, leadEventSignal, nurture, workflowIdFor, type NurtureInput } from '../workflows/nurture';

/** What one lead's delivery knows, loaded once for all its events in a batch. */
export interface LeadRoute {
  leadId: string;
  open: OpenEnrolment[];
  /** Loaded when an entry needs it; null once known to be erased. */
  snapshot?: LeadSnapshot | null;
}

/**
 * The active campaigns' current versions, reloaded only when a campaign changed (the generation
 * is one cheap query per batch), so that an event right after an activation enters it.
 */
class CampaignCache {
  private generation: string | undefined;
  private byEntryEvent = new Map<string, CampaignVersion[]>();
  private byId = new Map<string, CampaignVersion>();

  async refresh(pool: Pool): Promise<void> {
    const generation = await campaignsGeneration(pool);
    if (generation === this.generation) return;
    const versions = await activeCampaignVersions(pool);
    this.byEntryEvent = new Map();
    this.byId = new Map(versions.map((version) => [version.campaignId, version]));
    for (const version of versions) {
      const on = version.definition.entry.on;
      this.byEntryEvent.set(on, [...(this.byEntryEvent.get(on) ?? []), version]);
    }
    this.generation = generation;
  }

  enteredBy(eventType: string): CampaignVersion[] {
    return this.byEntryEvent.get(eventType) ?? [];
  }

  active(campaignId: string): CampaignVersion | undefined {
    return this.byId.get(campaignId);
  }
}

export interface LaunchOutcome {
  launchId: number;
  outcome: 'enrolled' | LaunchNotEntered;
}

export interface EventRouter {
  /** Refreshes the campaign cache (one cheap query when nothing changed): before each claim of leads. */
  refresh(): Promise<void>;
  /** What a lead's delivery starts from. */
  routeFor(leadId: string): Promise<LeadRoute>;
  /**
   * Delivers one event; throws when Temporal (or the database) could not be reached. A launch
   * event answers what became of its lead.
   */
  deliver(route: LeadRoute, event: StoredEvent): Promise<LaunchOutcome | undefined>;
}

export function createEventRouter(options: { client: Client; pool: Pool; taskQueue: string }): EventRouter {
  const { client, pool, taskQueue } = options;
  const campaigns = new CampaignCache();

  const snapshotOf = async (route: LeadRoute) => {
    if (route.snapshot === undefined) route.snapshot = (await leadSnapshot(pool, route.leadId)) ?? null;
    return route.snapshot ?? undefined;
  };

  /**
   * Signals an open enrolment. Its workflow may not have started yet (its row is written first):
   * then this event starts it, with the version the row names; one that has closed meanwhile is
   * no longer interested.
   */
  async function signalEnrolment(route: LeadRoute, row: OpenEnrolment, event: LeadEvent) {
    const handle = client.workflow.getHandle(row.workflowId);
    if (await signalIfRunning(handle, leadEventSignal, event)) return;
    try {
      await handle.describe();
      return; // it exists, so it has closed
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    const [version, lead] = await Promise.all([getCampaignVersion(pool, row.campaignId, row.campaignVersion), snapshotOf(route)]);
    if (!version || !lead) return;
    await client.workflow.signalWithStart(nurture, {
      workflowId: row.workflowId,
      taskQueue,
      args: [enrolmentInput(version.definition, version.version, lead)],
      signal: leadEventSignal,
      signalArgs: [event],
    });
  }

  /** The re-entry rule, measured from the entering event's time (the clock enrolment ends are recorded on). */
  async function mayEnter(version: CampaignVersion, leadId: string, at: number): Promise<boolean> {
    const history = await entryHistory(pool, version.campaignId, leadId);
    if (history.open) return false;
    if (!history.lastEndedAt) return true;
    const entry = version.definition.entry;
    if (entry.reentry === 'always') return true;
    if (entry.reentry === 'after') return history.lastEndedAt.getTime() + (entry.reentryAfterMs ?? 0) <= at;
    return false;
  }

  /**
   * Enrols the lead; `event` (the entering one) is delivered with the start. The open row is
   * written first, so that an event a moment later finds the enrolment.
   */
  async function enter(route: LeadRoute, version: CampaignVersion, lead: LeadSnapshot, event: LeadEvent | undefined) {
    const row: OpenEnrolment = { workflowId: workflowIdFor(version.campaignId, route.leadId), campaignId: version.campaignId, campaignVersion: version.version, leadId: route.leadId };
    await recordEnrolmentStart(pool, row);
    const start = { workflowId: row.workflowId, taskQueue, args: [enrolmentInput(version.definition, version.version, lead, event)] as [NurtureInput] };
    if (event) {
      // Signal-with-start: a concurrent duplicate only adds a (deduplicated) signal to the same workflow.
      await client.workflow.signalWithStart(nurture, { ...start, signal: leadEventSignal, signalArgs: [event] });
    } else {
      await client.workflow.start(nurture, start).catch((error: unknown) => {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      });
    }
    route.open.push(row);
  }

  /** A launch's entry: into the campaign it names, on the re-entry rule (the segment took the place of entry.where). */
  async function enterLaunched(route: LeadRoute, campaignId: string, at: number): Promise<'enrolled' | LaunchNotEntered> {
    const version = campaigns.active(campaignId);
    if (!version) return 'campaign_not_active';
    if (route.open.some((row) => row.campaignId === campaignId)) return 'already_enrolled';
    const lead = await snapshotOf(route);
    if (!lead) return 'erased';
    if (!(await mayEnter(version, route.leadId, at))) return 'reentry';
    await enter(route, version, lead, undefined);
    return 'enrolled';
  }

  return {
    refresh: () => campaigns.refresh(pool),

    async routeFor(leadId) {
      return { leadId, open: await openEnrolments(pool, { leadId }) };
    },

    async deliver(route, stored) {
      const launch = launchOf(stored);
      if (launch) return { launchId: launch.launchId, outcome: await enterLaunched(route, launch.campaignId, stored.occurredAt.getTime()) };
      const event: LeadEvent = { id: stored.externalId, type: stored.type, at: stored.occurredAt.getTime(), data: stored.data, machine: stored.machine };
      const reached = [...route.open];
      await Promise.all(reached.map((row) => signalEnrolment(route, row, event)));

      for (const version of campaigns.enteredBy(event.type)) {
        if (reached.some((row) => row.campaignId === version.campaignId)) continue;
        const lead = await snapshotOf(route);
        if (!lead) return undefined;
        const where = version.definition.entry.where;
        if (where && !holds(where, { event, lead: lead.attributes }, { now: event.at, events: [] })) continue;
        if (!(await mayEnter(version, route.leadId, event.at))) continue;
        await enter(route, version, lead, event);
      }
      return undefined;
    },
  };
}
