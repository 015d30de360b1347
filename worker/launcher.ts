// Carries out campaign launches (db/launches.ts): takes a running launch on a lease, scans its
// candidates page by page, and queues an entry event for each lead that matches the segment, has
// the campaign's consent and is not suppressed; the dispatcher enrols them. Each page is one
// transaction with the cursor, so a launcher killed anywhere is followed by another (or itself,
// restarted) from the next page, and no lead is queued twice. `per_minute` paces the queueing.
import { holds } from '../campaign/conditions';
import { getCampaignVersion } from '../db/campaigns';
import { claimLaunch, finishLaunch, launchCandidates, recordLaunchPage, type Launch, type LaunchCandidate, type LaunchSkip } from '../db/launches';
import type { Pool } from '../db/pool';
import type { Logger } from '../runtime/logger';

export interface Launcher {
  stop(): Promise<void>;
}

export interface LauncherOptions {
  pool: Pool;
  log?: Logger;
  /** Candidates per page (default 500). */
  pageSize?: number;
  /** How long a claimed launch stays this launcher's without a page done (default 60 s). */
  leaseMs?: number;
  /** How often it looks for launches to run (default 1 s). */
  pollMs?: number;
}

/** Why a candidate is left out, or undefined when it is queued. */
export function skipReason(launch: Pick<Launch, 'segment'>, consentPurpose: string, candidate: LaunchCandidate, now: number): LaunchSkip | undefined {
  if (launch.segment !== null) {
    const lead = { ...candidate.attributes, email_domain: candidate.email.split('@')[1] };
    if (!holds(launch.segment, { lead, consent: candidate.consent }, { now, events: candidate.events })) return 'not_matching';
  }
  if (candidate.suppressed) return 'suppressed';
  if (candidate.consent[consentPurpose] !== true) return 'no_consent';
  return undefined;
}

export function startLauncher(options: LauncherOptions): Launcher {
  const { pool, log } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  let stopped = false;
  let wake = () => {};
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function carryOut(launch: Launch) {
    const version = await getCampaignVersion(pool, launch.campaignId);
    if (!version) return;
    const purpose = version.definition.consent;
    // A paced launch takes pages of about a second's worth, then waits that second.
    const pageSize = launch.perMinute ? Math.max(1, Math.ceil(launch.perMinute / 60)) : (options.pageSize ?? 500);
    while (!stopped) {
      const candidates = await launchCandidates(pool, launch, pageSize);
      if (candidates.length === 0) {
        await finishLaunch(pool, launch.id);
        return;
      }
      const now = Date.now();
      const queue: string[] = [];
      const skipped: Partial<Record<LaunchSkip, number>> = {};
      for (const candidate of candidates) {
        const reason = skipReason(launch, purpose, candidate, now);
        if (reason) skipped[reason] = (skipped[reason] ?? 0) + 1;
        else queue.push(candidate.id);
      }
      const cursor = candidates.at(-1)!.id;
      const last = candidates.length < pageSize;
      const recorded = await recordLaunchPage(pool, launch, { cursor, scanned: candidates.length, queue, skipped, last, at: new Date(now), leaseMs });
      if (!recorded || last) return; // cancelled, taken over, or done
      launch.cursor = cursor;
      if (launch.perMinute) await sleep((queue.length / launch.perMinute) * 60_000);
    }
  }

  async function run() {
    while (!stopped) {
      try {
        const launch = await claimLaunch(pool, leaseMs);
        if (launch) {
          log?.info({ launch: launch.id, campaign: launch.campaignId }, 'running a campaign launch');
          await carryOut(launch);
          continue;
        }
      } catch (error) {
        log?.warn({ err: error }, 'a campaign launch failed; retrying');
      }
      await sleep(options.pollMs ?? 1000);
    }
  }
  const running = run();

  return {
    async stop() {
      stopped = true;
      wake();
      await running;
    },
  };
}
