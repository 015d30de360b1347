// Handing a qualified lead to sales: choose an owner, record the handoff, and keep its timeline.
// Every step is idempotent on the handoff id, so a retried activity changes nothing twice. A
// handoff nobody can take (no such pool, no active rep) is recorded unassigned, with whom to
// alert; it never fails the enrolment.
import type { AssignmentRule, Person, SalesOutcome } from '../campaign';
import { recentHumanEvents } from '../db/events';
import { addHandoffEvent, addHandoffEventOnce, insertHandoff, recordSalesAnswer, storedAssignment } from '../db/handoffs';
import { getLead } from '../db/leads';
import { inTransaction, type Db, type Pool } from '../db/pool';
import { activeReps, poolManager, takeTurn } from '../db/sales-team';

export interface OpenHandoffRequest {
  handoffId: string;
  enrolmentId: number;
  leadId: string;
  campaignId: string;
  score: number;
  reasons: string[];
  breakdown: unknown[];
  firstContactDue: number;
  outcomeDue?: number;
  assign: AssignmentRule;
  /** The workflow's clock. */
  at: number;
}

export interface OpenedHandoff {
  handoffId: string;
  /** Null: nobody could be assigned (`unassignedReason`), and `alertTo` is told instead. */
  owner: (Person & { id: string }) | null;
  /** The pool's manager; null when the pool does not exist. */
  manager: Person | null;
  unassignedReason?: string;
  /** Who hears of an unassigned handoff: the pool's manager, else the operator; null when neither is known. */
  alertTo?: Person | null;
  /** The lead was erased before the handoff: nothing was recorded. */
  leadErased?: boolean;
  pool: string;
  territory: string;
  lead: { email: string | null; attributes: Record<string, unknown> };
  recentActivity: { at: string; type: string; data: Record<string, unknown> }[];
}

export function createHandoffActivities(deps: { pool: Pool; operator?: Person }) {
  return {
    /** Assigns an owner (or records why none) and records the handoff; asking again returns the same answer. */
    async openHandoff(request: OpenHandoffRequest): Promise<OpenedHandoff> {
      return inTransaction(deps.pool, async (tx) => {
        const pool = request.assign.pool;
        const found = await getLead(tx, request.leadId);
        if (!found || !found.email) return { handoffId: request.handoffId, owner: null, manager: null, leadErased: true, pool, territory: '', lead: { email: null, attributes: {} }, recentActivity: [] };
        const lead = { email: found.email, attributes: found.attributes };
        const manager = (await poolManager(tx, pool)) ?? null;
        const alertTo = manager ?? deps.operator ?? null;
        const territory = territoryOf(lead.attributes, request.assign);

        const existing = await storedAssignment(tx, request.handoffId);
        if (existing) {
          const { unassignedReason, ...stored } = existing;
          return { handoffId: request.handoffId, ...stored, ...(unassignedReason && { unassignedReason, alertTo }), manager, territory, lead };
        }

        const recentActivity = await recentHumanEvents(tx, request.leadId, new Date(request.at), 10);
        const owner = manager ? await nextOwner(tx, pool, territory) : undefined;
        const unassignedReason = !manager ? `sales pool "${pool}" does not exist` : !owner ? `sales pool "${pool}" has no active rep` : undefined;
        const at = new Date(request.at);
        await insertHandoff(tx, {
          id: request.handoffId,
          enrolmentId: request.enrolmentId,
          leadId: request.leadId,
          campaignId: request.campaignId,
          ownerId: owner?.id ?? null,
          unassignedReason,
          pool,
          score: request.score,
          reasons: request.reasons,
          breakdown: request.breakdown,
          recentActivity,
          firstContactDue: new Date(request.firstContactDue),
          outcomeDue: request.outcomeDue ? new Date(request.outcomeDue) : null,
          createdAt: at,
        });
        if (owner) await addHandoffEvent(tx, request.handoffId, 'assigned', { owner: owner.email, territory }, at);
        else await addHandoffEvent(tx, request.handoffId, 'unassigned', { reason: unassignedReason, alerted: alertTo?.email ?? null }, at);
        const assignment = owner ? {} : { unassignedReason, alertTo };
        return { handoffId: request.handoffId, owner: owner ?? null, manager, ...assignment, pool, territory, lead, recentActivity };
      });
    },

    /** Appends to the handoff's timeline (notice sent, reminder, escalation…), once per kind and time. */
    async recordHandoffEvent(input: { handoffId: string; kind: string; detail?: Record<string, unknown>; at: number }): Promise<void> {
      await addHandoffEventOnce(deps.pool, input.handoffId, input.kind, input.detail ?? {}, new Date(input.at));
    },

    /** The rep's answer, as the workflow accepted it. */
    async recordSalesResponse(input: { handoffId: string; outcome: SalesOutcome; note?: string; at: number }): Promise<void> {
      await inTransaction(deps.pool, async (tx) => {
        const at = new Date(input.at);
        if (await recordSalesAnswer(tx, { ...input, at })) await addHandoffEvent(tx, input.handoffId, input.outcome, { note: input.note ?? null }, at);
      });
    },
  };
}

function territoryOf(attributes: Record<string, unknown>, rule: AssignmentRule): string {
  if (rule.strategy !== 'territory' || !rule.territoryBy) return '';
  let value: unknown = attributes;
  for (const part of rule.territoryBy.replace(/^lead\./, '').split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value).toLowerCase() : '';
}

/** The next rep in turn: reps of the lead's territory are preferred; with none, the whole pool shares. */
async function nextOwner(tx: Db, pool: string, territory: string): Promise<(Person & { id: string }) | undefined> {
  let cursor = territory;
  let candidates = territory ? await activeReps(tx, pool, territory) : [];
  if (candidates.length === 0) {
    cursor = '';
    candidates = await activeReps(tx, pool, '');
  }
  if (candidates.length === 0) return undefined;
  return candidates[(await takeTurn(tx, pool, cursor)) % candidates.length]!;
}
