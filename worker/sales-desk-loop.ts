// Runs the sales desk (activities/sales-desk.ts) in the worker: every handoff with something due
// is worked within `everyMs` of its time, and at once when the API wakes the desk after a team
// change (a rep back from absence, a new rep) — NOTIFY on SALES_DESK_CHANNEL. Several workers may
// run it: each handoff is locked by one of them at a time.
import type { SalesDesk } from '../activities/sales-desk';
import { SALES_DESK_CHANNEL } from '../db/handoffs';
import { listen } from '../db/listener';
import type { Logger } from '../runtime/logger';

export interface SalesDeskLoop {
  /** Resolves when a round that started after this call has finished (tests settle on it). */
  runNow(): Promise<void>;
  /** Resolves when the round under way (if any) has finished. */
  stop(): Promise<void>;
}

export interface SalesDeskLoopOptions {
  desk: SalesDesk;
  databaseUrl: string;
  everyMs?: number;
  /** The desk's clock (tests on the time-skipping server give its virtual time). */
  clock?: () => Date | Promise<Date>;
  log?: Logger;
}

export function startSalesDeskLoop(options: SalesDeskLoopOptions): SalesDeskLoop {
  const { desk, log } = options;
  const clock = options.clock ?? (() => new Date());
  // Rounds run one after another; a wake-up while one is queued joins it.
  let chain = Promise.resolve();
  let queued = false;
  let stopped = false;

  const round = (): Promise<void> => {
    if (stopped || queued) return chain;
    queued = true;
    chain = chain.then(async () => {
      queued = false;
      try {
        await desk.runDue(await clock());
      } catch (error) {
        log?.warn({ err: error }, 'the sales desk could not work its handoffs; trying again');
      }
    });
    return chain;
  };

  const listener = listen({ databaseUrl: options.databaseUrl, channel: SALES_DESK_CHANNEL, wake: () => void round(), log: log ?? console });
  const timer = setInterval(() => void round(), options.everyMs ?? 15_000);
  void round();
  return {
    runNow: round,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await listener.stop();
      await chain;
    },
  };
}
