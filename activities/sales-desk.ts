// The sales desk: assigns handoffs (availability-aware weighted round robin, campaign and pool
// routing rules), keeps their SLA on the sales team's calendar (reminder, escalation to what
// `escalate_to` names, reassignment) and queues every sales email in the same transaction as the
// decision it tells, so nothing is told twice or lost. The openHandoff activity opens a handoff
// here; the workers' desk loop (worker/sales-desk-loop.ts) works the rest as it falls due, and at
// once after a team change.
import type { Person, SalesOutcome } from '../campaign';
import { publicHolidayDates } from '../campaign/holidays';
import { chooseOwner, refineByPoolRules, unavailability, type RoutingDecision } from '../campaign/sales-routing';
import { deskActions, firstContactSla, nextDeskDue, slaDeadline, type DeskAction, type WorkingHours } from '../campaign/sales-sla';
import {
  addHandoffEvent,
  claimDeskHandoffs,
  deskSettingsOf,
  handoffOwner,
  updateDeskHandoff,
  type DeskChange,
  type DeskHandoff,
  type RoutingLogEntry,
} from '../db/handoffs';
import { getLead } from '../db/leads';
import { inTransaction, type Db, type Pool } from '../db/pool';
import { getSalesRep, lockPoolForRouting, poolManager, recordTurn, repPresence, routingReps, workingHoursOf } from '../db/sales-team';
import { queueSalesMail, type SendDependencies, type SendEmailRequest } from './send';

export interface SalesDeskDependencies extends SendDependencies {
  /** Told of handoffs nobody can take when their pool has no manager (OPERATOR_EMAIL). */
  operator?: Person;
}

/** What opening or working a handoff decided, for the workflow's view and the webhook. */
export interface DeskOutcome {
  owner: (Person & { id: string }) | null;
  manager: Person | null;
  unassignedReason?: string;
  alertTo?: Person | null;
}

const BATCH = 100;

export function createSalesDesk(deps: SalesDeskDependencies) {
  /** The calendar the handoff's SLA runs on: the owner's own hours where set, else the pool's, with its holidays. */
  async function hoursOf(tx: Db, pool: string, ownerId: string | null): Promise<WorkingHours> {
    const hours = await workingHoursOf(tx, pool, ownerId);
    if (!hours) return { timezone: 'UTC', days: [1, 2, 3, 4, 5], start: 9 * 60, end: 18 * 60, holidayDates: [] };
    const country = hours.holidays ? publicHolidayDates(hours.holidays) : [];
    return { timezone: hours.timezone, days: hours.days, start: hours.start, end: hours.end, holidayDates: [...country, ...hours.holidayDates] };
  }

  async function mail(tx: Db, h: DeskHandoff, request: Pick<SendEmailRequest, 'idempotencyKey' | 'kind' | 'template' | 'subject' | 'to' | 'data' | 'handoff'>, now: Date) {
    await queueSalesMail(tx, { ...request, requestedAt: now.getTime(), from: h.desk.from, campaign: h.desk.campaign, enrolmentId: h.enrolmentId, leadId: h.leadId }, deps);
  }

  const noticeData = (h: DeskHandoff, owner: Person | null) => ({
    reasons: h.reasons,
    score: Math.round(h.score),
    breakdown: h.breakdown,
    recent_activity: h.recentActivity,
    owner,
  });

  /**
   * Routes the handoff (into `pool` when given, e.g. an escalation to another pool) and records
   * the result: an owner with a fresh SLA and a notice, or a wait with the manager told once.
   */
  async function assign(tx: Db, h: DeskHandoff, now: Date, how: { outcome: 'assigned' | 'reassigned'; why: string; exclude?: string[]; pool?: string; keepOwnerIfNobody?: boolean }): Promise<DeskOutcome> {
    const pool = how.pool ?? h.pool;
    const locked = await lockPoolForRouting(tx, pool);
    const manager = (await poolManager(tx, pool)) ?? null;
    const alertTo = manager ?? deps.operator ?? null;
    const lead = await getLead(tx, h.leadId);
    const baseRoute = pool === h.desk.route.pool ? h.desk.route : { pool, match: {}, rule: `escalated to pool ${pool}` };
    const route = locked ? refineByPoolRules(baseRoute, locked.routing, { lead: lead?.attributes ?? {}, score: h.score }) : baseRoute;
    const decision: RoutingDecision = locked
      ? chooseOwner(await routingReps(tx, pool, now), route, locked.pass, how.exclude)
      : { skipped: [], group: 'nobody' };
    const log = (entry: Omit<RoutingLogEntry, 'at' | 'pool' | 'rule' | 'group' | 'skipped'>): RoutingLogEntry[] => [
      ...h.routingLog,
      { at: now.toISOString(), pool, rule: route.rule, group: decision.group, skipped: decision.skipped, ...entry },
    ];

    if (!decision.owner) {
      const reason = !locked ? `sales pool "${pool}" does not exist` : decision.skipped.length ? `nobody in sales pool "${pool}" is available` : `sales pool "${pool}" has no reps`;
      if (how.keepOwnerIfNobody && h.ownerId) {
        const owner = await getSalesRep(tx, h.ownerId);
        await updateDeskHandoff(tx, h.id, { routingLog: log({ outcome: 'kept', owner: owner?.email ?? null, why: `${how.why}; ${reason}, so the owner keeps it` }), deskDue: null });
        return { owner: null, manager };
      }
      const last = h.routingLog[h.routingLog.length - 1];
      const alreadyWaiting = h.ownerId === null && last?.outcome === 'waiting' && last.why === reason && last.pool === pool;
      if (!alreadyWaiting) {
        await updateDeskHandoff(tx, h.id, { ownerId: null, pool, assignedAt: null, unassignedReason: reason, routingLog: log({ outcome: 'waiting', owner: null, why: reason }), deskDue: null });
        await addHandoffEvent(tx, h.id, 'unassigned', { reason, alerted: alertTo?.email ?? null }, now);
        if (alertTo) {
          await mail(tx, h, {
            idempotencyKey: `${h.id}:alert:${h.routingLog.length}`,
            kind: 'sales_alert',
            template: 'sales-alert',
            subject: 'Unassigned lead: {{lead.first_name}} {{lead.last_name}} ({{lead.company.name}}) — score {{score}}',
            to: alertTo,
            data: { ...noticeData(h, null), reason, pool },
            handoff: { id: h.id, deadline: h.firstContactDue.getTime(), timezone: (await hoursOf(tx, pool, null)).timezone },
          }, now);
          await addHandoffEvent(tx, h.id, 'alert_sent', { to: alertTo.email }, now);
        }
      }
      return { owner: null, manager, unassignedReason: reason, alertTo };
    }

    const owner = decision.owner;
    await recordTurn(tx, { pool, poolPass: decision.poolPass!, repId: owner.id, repPass: decision.ownerPass!, at: now });
    const hours = await hoursOf(tx, pool, owner.id);
    const due = slaDeadline(firstContactSla(h.desk.sla), hours, now.getTime());
    const remindAt = due - h.desk.sla.remindBeforeMs > now.getTime() ? new Date(due - h.desk.sla.remindBeforeMs) : null;
    const reassignments = h.reassignments + (how.outcome === 'reassigned' ? 1 : 0);
    const change: DeskChange = {
      ownerId: owner.id,
      pool,
      assignedAt: now,
      unassignedReason: null,
      firstContactDue: new Date(due),
      remindAt,
      remindedAt: null,
      escalatedAt: null,
      reassignments,
      routingLog: log({ outcome: how.outcome, owner: owner.email, why: how.why }),
      deskDue: null,
    };
    change.deskDue = dueOf({ ...h, ...change, ownerId: owner.id } as DeskHandoff, null);
    await updateDeskHandoff(tx, h.id, change);
    await addHandoffEvent(tx, h.id, how.outcome, { owner: owner.email, why: how.why }, now);
    const person = { id: owner.id, name: owner.name, email: owner.email };
    await mail(tx, h, {
      // One notice per routing decision: a lead that waited, or was reassigned, tells its new owner too.
      idempotencyKey: `${h.id}:notice:${h.routingLog.length}`,
      kind: 'sales_notice',
      template: h.desk.template,
      subject: `${how.outcome === 'reassigned' ? 'Reassigned to you: ' : 'New '}{{lead.role}} lead: {{lead.first_name}} {{lead.last_name}} ({{lead.company.name}}) — score {{score}}`,
      to: person,
      data: noticeData(h, person),
      handoff: { id: h.id, deadline: due, timezone: hours.timezone, rep: owner.id },
    }, now);
    await addHandoffEvent(tx, h.id, 'notice_sent', { to: owner.email }, now);
    return { owner: person, manager };
  }

  function dueOf(h: DeskHandoff, ownerUnavailable: string | null): Date | null {
    const next = nextDeskDue(viewOf(h, ownerUnavailable));
    return next === null ? null : new Date(next);
  }

  function viewOf(h: DeskHandoff, ownerUnavailable: string | null) {
    return {
      status: h.status,
      ownerId: h.ownerId,
      ownerUnavailable,
      firstContactDue: h.firstContactDue.getTime(),
      remindAt: h.remindAt?.getTime() ?? null,
      remindedAt: h.remindedAt?.getTime() ?? null,
      escalatedAt: h.escalatedAt?.getTime() ?? null,
      outcomeDue: h.outcomeDue?.getTime() ?? null,
      outcomeEscalatedAt: h.outcomeEscalatedAt?.getTime() ?? null,
      reassign: h.desk.sla.reassign ?? { missedFirstContact: false, ownerAway: false },
    };
  }

  /** Who an escalation reaches: the pool's manager, a named address, or another pool (its manager; the lead moves there). */
  async function escalationTarget(tx: Db, h: DeskHandoff): Promise<{ to: Person | null; movePool?: string }> {
    const target = h.desk.sla.escalateTo;
    if (target.startsWith('pool:')) {
      const pool = target.slice('pool:'.length);
      const manager = await poolManager(tx, pool);
      if (manager) return { to: manager, movePool: pool };
    } else if (target !== 'manager') {
      return { to: { name: target, email: target } };
    }
    return { to: (await poolManager(tx, h.pool)) ?? deps.operator ?? null };
  }

  async function ownerOf(tx: Db, h: DeskHandoff): Promise<(Person & { id: string }) | null> {
    const rep = h.ownerId ? await getSalesRep(tx, h.ownerId) : undefined;
    return rep ? { id: rep.id, name: rep.name, email: rep.email } : null;
  }

  const previousOwners = (h: DeskHandoff) => [...new Set([h.ownerId, ...h.routingLog.filter((e) => e.outcome !== 'waiting' && e.outcome !== 'kept').map((e) => e.owner)])].filter((o): o is string => Boolean(o));

  /** Carries out what is due on one locked handoff. */
  async function work(tx: Db, h: DeskHandoff, now: Date): Promise<void> {
    // Capacity does not take a lead from its owner: only being inactive or away does.
    const unavailable = h.ownerId ? (unavailability({ ...(await repPresence(tx, h.ownerId, now)), capacity: null, open: 0 }) ?? null) : null;
    const actions: DeskAction[] = deskActions(viewOf(h, unavailable), now.getTime());
    let current = h;
    for (const action of actions) {
      switch (action) {
        case 'assign':
          await assign(tx, current, now, { outcome: 'assigned', why: current.routingLog.length ? 'a rep became available' : 'next in turn' });
          return;
        case 'reassign_owner_away': {
          const ids = await repIds(tx, previousOwners(current));
          await assign(tx, current, now, { outcome: 'reassigned', why: `the owner is ${unavailable}`, exclude: ids });
          return;
        }
        case 'remind': {
          const owner = await ownerOf(tx, current);
          if (owner) {
            await mail(tx, current, {
              idempotencyKey: `${current.id}:reminder:${current.firstContactDue.getTime()}`,
              kind: 'sales_reminder',
              template: 'sales-reminder',
              subject: 'Reminder: contact {{lead.first_name}} {{lead.last_name}} before the deadline',
              to: owner,
              data: { owner, manager: (await poolManager(tx, current.pool)) ?? null },
              handoff: { id: current.id, deadline: current.firstContactDue.getTime(), timezone: (await hoursOf(tx, current.pool, owner.id)).timezone, rep: owner.id },
            }, now);
            await addHandoffEvent(tx, current.id, 'sales_reminder', { to: owner.email, due: current.firstContactDue.getTime() }, now);
          }
          current = { ...current, remindedAt: now };
          await updateDeskHandoff(tx, current.id, { remindedAt: now, deskDue: dueOf(current, unavailable) });
          break;
        }
        case 'escalate_first_contact':
        case 'escalate_outcome': {
          const outcome = action === 'escalate_outcome';
          const due = outcome ? current.outcomeDue! : current.firstContactDue;
          const target = await escalationTarget(tx, current);
          const owner = await ownerOf(tx, current);
          if (target.to) {
            await mail(tx, current, {
              idempotencyKey: `${current.id}:${outcome ? 'outcome-escalation' : 'escalation'}:${due.getTime()}`,
              kind: 'sales_escalation',
              template: 'sales-escalation',
              subject: outcome
                ? 'Escalation: no outcome recorded for {{lead.first_name}} {{lead.last_name}} in time'
                : 'Escalation: {{lead.first_name}} {{lead.last_name}} was not contacted in time',
              to: target.to,
              data: { owner, manager: target.to },
              handoff: { id: current.id, deadline: due.getTime(), timezone: (await hoursOf(tx, current.pool, current.ownerId)).timezone },
            }, now);
          }
          await addHandoffEvent(tx, current.id, outcome ? 'outcome_escalation' : 'sales_escalation', { to: target.to?.email ?? null, due: due.getTime() }, now);
          current = outcome ? { ...current, outcomeEscalatedAt: now } : { ...current, escalatedAt: now, remindedAt: current.remindedAt ?? now };
          await updateDeskHandoff(tx, current.id, {
            ...(outcome ? { outcomeEscalatedAt: now } : { escalatedAt: now, remindedAt: current.remindedAt }),
            deskDue: dueOf(current, unavailable),
          });
          if (target.movePool && !outcome) {
            await assign(tx, current, now, { outcome: 'reassigned', why: `escalated to pool ${target.movePool}`, pool: target.movePool, exclude: await repIds(tx, previousOwners(current)), keepOwnerIfNobody: true });
            return;
          }
          break;
        }
        case 'reassign_missed':
          await assign(tx, current, now, {
            outcome: 'reassigned',
            why: 'first contact was missed',
            exclude: await repIds(tx, previousOwners(current)),
            keepOwnerIfNobody: true,
          });
          return;
      }
    }
  }

  async function repIds(tx: Db, idsOrEmails: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const value of idsOrEmails) {
      const rep = await getSalesRep(tx, value);
      if (rep) ids.push(rep.id);
    }
    return ids;
  }

  return {
    /** Routes a new handoff (already inserted, unassigned) and tells its owner or the manager, in the caller's transaction. */
    async open(tx: Db, h: DeskHandoff, now: Date): Promise<DeskOutcome> {
      return assign(tx, h, now, { outcome: 'assigned', why: 'next in turn' });
    },

    /**
     * Works every handoff with something due at `now` (of one pool, when given), a batch per
     * transaction; returns how many it looked at.
     */
    async runDue(now: Date, pool?: string): Promise<number> {
      const worked: string[] = [];
      for (;;) {
        const batch = await inTransaction(deps.pool, async (tx) => {
          // Pools are locked in name order, so two desks working the same pools never deadlock.
          const handoffs = (await claimDeskHandoffs(tx, now, BATCH, { pool, skip: worked })).sort((a, b) => (a.pool < b.pool ? -1 : a.pool > b.pool ? 1 : 0));
          const waitingPools = new Set<string>();
          let changed = 0;
          for (const h of handoffs) {
            // Once a pool had nobody for one waiting handoff this round, its later ones wait too.
            if (h.ownerId === null && waitingPools.has(h.pool)) {
              worked.push(h.id);
              continue;
            }
            await work(tx, h, now);
            if (h.ownerId === null && (await handoffOwner(tx, h.id)) === null) waitingPools.add(h.pool);
            worked.push(h.id);
          }
          return { claimed: handoffs.length };
        });
        if (batch.claimed < BATCH) return worked.length;
      }
    },

    /** After the workflow took a rep's answer: the outcome deadline (accepted) or nothing more to keep (closed). */
    async answered(tx: Db, handoffId: string, outcome: SalesOutcome, at: Date): Promise<void> {
      const desk = await deskSettingsOf(tx, handoffId);
      if (!desk) return;
      const outcomeDue = outcome === 'accepted' && desk.sla.outcomeMs !== undefined ? new Date(at.getTime() + desk.sla.outcomeMs) : null;
      await updateDeskHandoff(tx, handoffId, { outcomeDue, deskDue: outcomeDue });
    },
  };
}

export type SalesDesk = ReturnType<typeof createSalesDesk>;
