// Handing a qualified lead to sales: choose an owner, record the handoff, and keep its timeline.
// Every step is idempotent on the handoff id, so a retried activity changes nothing twice. A
// handoff nobody can take (no such pool, no active rep) is recorded unassigned, with whom to
// alert; it never fails the enrolment.
import type { AssignmentRule, Person, SalesOutcome } from '../campaign';
import { recentHumanEvents } from '../db/events';
import { leadValue } from '../campaign/sales-routing';
import { addHandoffEvent, addHandoffEventOnce, insertHandoff, lockDeskHandoff, recordSalesAnswer, storedAssignment, type DeskSettings, type NewHandoff } from '../db/handoffs';
import { getLead } from '../db/leads';
import { inTransaction, type Db, type Pool } from '../db/pool';
import { activeReps, poolManager, takeTurn } from '../db/sales-team';
import { createSalesDesk, type SalesDeskDependencies } from './sales-desk';

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
  /** Enrolments since engine version 3: the sales desk routes the handoff, tells its owner and keeps its SLA. */
  desk?: DeskSettings;
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
  /** The deadline as stored: on the sales calendar for handoffs the desk keeps (absent before it). */
  firstContactDue?: number;
  pool: string;
  territory: string;
  lead: { email: string | null; attributes: Record<string, unknown> };
  recentActivity: { at: string; type: string; data: Record<string, unknown> }[];
}

export function createHandoffActivities(deps: SalesDeskDependencies) {
  const desk = createSalesDesk(deps);
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
        if (request.desk) {
          // Opened once: a retried attempt finds the handoff and answers as the first one did.
          if (!existing) {
            const recentActivity = await recentHumanEvents(tx, request.leadId, new Date(request.at), 10);
            await insertHandoff(tx, {
              ...newHandoff(request, recentActivity, null),
              pool: request.desk.route.pool,
              desk: request.desk,
            });
            const opened = await lockDeskHandoff(tx, request.handoffId);
            const outcome = await desk.open(tx, opened!, new Date(request.at));
            const stored = (await storedAssignment(tx, request.handoffId))!;
            return { handoffId: request.handoffId, ...outcome, pool: stored.pool, territory: request.desk.route.match.territory ?? '', lead, recentActivity: stored.recentActivity, firstContactDue: stored.firstContactDue };
          }
          const { unassignedReason, ...stored } = existing;
          return { handoffId: request.handoffId, ...stored, ...(unassignedReason && { unassignedReason, alertTo }), manager, territory: request.desk.route.match.territory ?? '', lead };
        }
        if (existing) {
          const { unassignedReason, ...stored } = existing;
          return { handoffId: request.handoffId, ...stored, ...(unassignedReason && { unassignedReason, alertTo }), manager, territory, lead };
        }

        const recentActivity = await recentHumanEvents(tx, request.leadId, new Date(request.at), 10);
        const owner = manager ? await nextOwner(tx, pool, territory) : undefined;
        const unassignedReason = !manager ? `sales pool "${pool}" does not exist` : !owner ? `sales pool "${pool}" has no active rep` : undefined;
        const at = new Date(request.at);
        await insertHandoff(tx, { ...newHandoff(request, recentActivity, owner?.id ?? null), unassignedReason });
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
        if (await recordSalesAnswer(tx, { ...input, at })) {
          await addHandoffEvent(tx, input.handoffId, input.outcome, { note: input.note ?? null }, at);
          await desk.answered(tx, input.handoffId, input.outcome, at);
        }
      });
    },
  };
}

function newHandoff(request: OpenHandoffRequest, recentActivity: unknown[], ownerId: string | null): NewHandoff {
  return {
    id: request.handoffId,
    enrolmentId: request.enrolmentId,
    leadId: request.leadId,
    campaignId: request.campaignId,
    ownerId,
    pool: request.assign.pool,
    score: request.score,
    reasons: request.reasons,
    breakdown: request.breakdown,
    recentActivity,
    firstContactDue: new Date(request.firstContactDue),
    outcomeDue: request.outcomeDue ? new Date(request.outcomeDue) : null,
    createdAt: new Date(request.at),
  };
}

function territoryOf(attributes: Record<string, unknown>, rule: AssignmentRule): string {
  if (rule.strategy !== 'territory' || !rule.territoryBy) return '';
  return leadValue(attributes, rule.territoryBy) ?? '';
}

/**
 * Enrolments before the sales desk: the next rep in turn, preferring reps of the lead's territory,
 * with no regard to availability (their workflows keep the SLA on the send window).
 */
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
