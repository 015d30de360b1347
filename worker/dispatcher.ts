// The dispatcher: delivers the events the API stored to the workflows (through the event router),
// each lead's in arrival order. It keeps up to `concurrency` leads in flight: it claims leads whose
// oldest undelivered event is due (a per-lead lock on a connection of its own, so several
// dispatchers in several processes never deliver one lead at the same time), delivers each one's
// events one after another, marks what arrived, releases the lead and claims more — a slow lead
// holds up nobody else. A failed delivery (Temporal away) waits with backoff, and the lead's later
// events wait behind it. Stored events wake it by LISTEN/NOTIFY, so an idle system delivers within
// milliseconds; a poll is the safety net.
import type { Client } from '@temporalio/client';
import { claimLeads, deferDelivery, EVENTS_CHANNEL, markDelivered, releaseLead, undeliveredEvents, type StoredEvent } from '../db/events';
import { recordLaunchOutcomes, type LaunchNotEntered } from '../db/launches';
import { listen } from '../db/listener';
import { inTransaction, type Pool, type PoolClient } from '../db/pool';
import type { Logger } from '../runtime/logger';
import { createEventRouter, type LaunchOutcome } from './event-router';

export interface Dispatcher {
  /** Resolves once no due event is left undelivered (events waiting out a backoff excepted). */
  drain(): Promise<void>;
  /** Finishes the round in flight and stops. */
  stop(): Promise<void>;
}

export interface DispatcherOptions {
  client: Client;
  pool: Pool;
  databaseUrl: string;
  taskQueue: string;
  log?: Logger;
  /** Leads claimed at most at once (default 200). */
  batchLeads?: number;
  /** Leads in flight at once, each delivering its events one after another (default 64). */
  concurrency?: number;
  /** The safety-net poll (default 1 s). */
  pollMs?: number;
}

/** Wait before the next attempt after `attempts` failed ones: 1 s doubling to 30 s. */
export const retryDelayMs = (attempts: number) => Math.min(1000 * 2 ** Math.max(0, attempts - 1), 30_000);

export function startDispatcher(options: DispatcherOptions): Dispatcher {
  const { pool, log } = options;
  const batchLeads = options.batchLeads ?? 200;
  const concurrency = options.concurrency ?? 64;
  const pollMs = options.pollMs ?? 1000;
  const router = createEventRouter(options);

  let stopped = false;
  let woken = false;
  let wake: () => void = () => {};
  const nudge = () => {
    woken = true;
    wake();
  };
  const listener = listen({ databaseUrl: options.databaseUrl, channel: EVENTS_CHANNEL, wake: nudge, log: log ?? console });

  // The session whose advisory locks claim leads: kept across claims, replaced when it breaks.
  // Its queries (claims, and releases as leads finish) take turns: a connection runs one at a time.
  interface LockSession {
    client: PoolClient;
    broken: boolean;
    turn: Promise<unknown>;
  }
  let session: LockSession | undefined;
  async function lockSession(): Promise<LockSession> {
    if (session && !session.broken) return session;
    session?.client.release(true);
    const client = await pool.connect();
    const fresh: LockSession = { client, broken: false, turn: Promise.resolve() };
    client.on('error', () => void (fresh.broken = true));
    session = fresh;
    return fresh;
  }
  function onSession<T>(locks: LockSession, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const result = locks.turn.then(() => work(locks.client));
    locks.turn = result.catch(() => {});
    return result;
  }
  const release = (locks: LockSession, leadId: string) => onSession(locks, (client) => releaseLead(client, leadId)).catch(() => void (locks.broken = true));

  /** Delivers one lead's events in order; stops at the first failure, which waits for its retry. */
  async function deliverLead(leadId: string, events: StoredEvent[], delivered: number[], outcomes: LaunchOutcome[]) {
    const route = await router.routeFor(leadId);
    for (const event of events) {
      try {
        const outcome = await router.deliver(route, event);
        delivered.push(event.id);
        if (outcome) outcomes.push(outcome);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await deferDelivery(pool, event.id, retryDelayMs(event.attempts + 1), message);
        log?.warn({ err: error, leadId, eventId: event.externalId, attempts: event.attempts + 1 }, 'could not deliver an event; retrying later');
        return;
      }
    }
  }

  /** A claimed lead: its events delivered in order, what arrived marked, then released. */
  async function finishLead(locks: LockSession, leadId: string, events: StoredEvent[]) {
    const delivered: number[] = [];
    const outcomes: LaunchOutcome[] = [];
    try {
      await deliverLead(leadId, events, delivered, outcomes);
      await inTransaction(pool, async (tx) => {
        await markDelivered(tx, delivered);
        await recordLaunchOutcomes(tx, tally(outcomes));
      });
    } catch (error) {
      // Unmarked deliveries are made again later; the workflows ignore an event id they have.
      log?.warn({ err: error, leadId }, 'delivering a lead failed');
    } finally {
      await release(locks, leadId);
    }
  }

  const inFlight = new Map<string, Promise<void>>();
  /** Claims leads for the room left and sets them going; returns how many it claimed. */
  async function claimMore(): Promise<number> {
    const room = Math.min(concurrency - inFlight.size, batchLeads);
    if (room <= 0) return 0;
    const locks = await lockSession();
    await router.refresh();
    const leads = await onSession(locks, (client) => claimLeads(client, room, [...inFlight.keys()]));
    if (leads.length === 0) return 0;
    const perLead = new Map<string, StoredEvent[]>(leads.map((id) => [id, []]));
    try {
      for (const event of await undeliveredEvents(pool, leads)) perLead.get(event.leadId)?.push(event);
    } catch (error) {
      await Promise.all(leads.map((leadId) => release(locks, leadId)));
      throw error;
    }
    for (const [leadId, events] of perLead) {
      inFlight.set(
        leadId,
        finishLead(locks, leadId, events).finally(() => {
          inFlight.delete(leadId);
          nudge();
        }),
      );
    }
    return leads.length;
  }

  // drain() callers, each waiting for a claim that started after it asked, found nothing due
  // and left nothing in flight.
  let claims = 0;
  let idle: { after: number; resolve: () => void }[] = [];
  const settle = (all: boolean) => {
    const ready = idle.filter((waiter) => all || waiter.after < claims);
    idle = idle.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve();
  };
  async function run() {
    let failures = 0;
    while (!stopped) {
      woken = false;
      claims++;
      let claimed = 0;
      try {
        claimed = await claimMore();
        failures = 0;
      } catch (error) {
        failures++;
        if (session) session.broken = true;
        log?.warn({ err: error }, 'the dispatcher could not claim leads; retrying');
        await sleep(retryDelayMs(failures));
        continue;
      }
      if (claimed > 0 && inFlight.size < concurrency) continue; // more may be due
      if (claimed === 0 && inFlight.size === 0) settle(false);
      // Woken by a notification, a lead finishing, or the poll.
      if (!woken) await sleep(pollMs);
    }
    await Promise.all(inFlight.values());
    settle(true);
  }
  function sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = () => {};
        resolve();
      }
      wake = done;
    });
  }
  const running = run();

  return {
    drain() {
      if (stopped) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idle.push({ after: claims, resolve });
        nudge();
      });
    },
    async stop() {
      stopped = true;
      wake();
      await running;
      await listener.stop();
      session?.client.release(session.broken);
      session = undefined;
    },
  };
}

function tally(outcomes: LaunchOutcome[]) {
  const byLaunch = new Map<number, { enrolled: number; notEntered: Partial<Record<LaunchNotEntered, number>> }>();
  for (const { launchId, outcome } of outcomes) {
    const entry = byLaunch.get(launchId) ?? { enrolled: 0, notEntered: {} };
    if (outcome === 'enrolled') entry.enrolled++;
    else entry.notEntered[outcome] = (entry.notEntered[outcome] ?? 0) + 1;
    byLaunch.set(launchId, entry);
  }
  return byLaunch;
}
