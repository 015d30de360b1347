// Moving a running enrolment to another version of its campaign, on a marketer's explicit request
// (an enrolment otherwise keeps the version it started with). Pure: (from, to, state) → state.
//
// What the lead keeps: everything it did and everything that happened to it — events, seen ids,
// behaviour points and their rule totals, score adjustments, sends and send times (the frequency
// cap), handoff, stage, paused and exited flags, history. Behaviour points already earned are not
// re-scored; fit points are recomputed with the new version's fit rules.
//
// Where the lead goes: if the step at its current `path` in its current track exists in the new
// version and is the same kind of step, the lead stays there and any running wait keeps its
// deadline (a wait's timer, a wait_for's timeout, a wait for the send window or the cap). Otherwise
// it restarts its current stage's track at the first step (the track ends at once when that track
// is empty in the new version) and any wait is cleared. A lead at the end of its track stays there.
//
// Bookkeeping that points into the definition: visit counters (the send keys' suffixes) are all
// kept, even those of paths the new version lacks, so that a path that comes back in a later
// version never reuses the send key of an email already sent; pending triggers and trigger cooldowns are kept only where the
// new version has a trigger on the same event at the same index. When the new version has no
// handoff rules, an open handoff keeps its record but no more SLA reminders or escalations, and a
// "not ready" lead waiting to be recycled is back in nurture at once. An enrolment with window
// jitter takes its offset within the new version's `send_window.spread` (a running wait for the
// window keeps its deadline); one without jitter stays without.
//
// The state returned is not settled: the caller then gives the interpreter a `migrated` input,
// which applies the new version's stage thresholds and qualification at once (a stage change
// restarts the new stage's track as usual) and runs the current step.
import { windowOffsetMs } from './calendar';
import { LIMITS, pathString, stepAt, type EnrolmentState, type StepPath } from './interpreter';
import { fitPoints } from './scoring';
import type { Campaign, Stage } from './types';

export function migrateState(from: Campaign, to: Campaign, state: EnrolmentState, now: number): EnrolmentState {
  const s = JSON.parse(JSON.stringify(state)) as EnrolmentState;
  if (s.exited) return s; // exit is final: nothing to move
  const note = (what: string) => {
    s.history.push({ at: now, what });
    if (s.history.length > LIMITS.history) s.history.splice(0, s.history.length - LIMITS.history);
  };

  s.fit = fitPoints(to, s.lead.attributes);
  // An enrolment with window jitter takes its offset within the new version's spread.
  if (s.windowOffsetMs !== undefined) s.windowOffsetMs = windowOffsetMs(to.sendWindow, s.lead.id);

  // A position keeps its place when the new version has a step of the same kind there.
  const kept = (track: Stage, path: StepPath) => {
    const before = stepAt(from.tracks[track], path);
    const after = stepAt(to.tracks[track], path);
    return Boolean(before && after && before.kind === after.kind);
  };
  if (s.path && !kept(s.track, s.path)) {
    const gone = pathString(s.track, s.path);
    s.track = s.stage;
    s.path = to.tracks[s.stage].length ? [0] : null;
    s.waiting = undefined;
    note(`${gone} has no counterpart in the new campaign version: restarting tracks.${s.stage}`);
  }

  // A saved position (track_reentry: resume) whose step changed kind or went away starts its track from the top.
  for (const [track, saved] of Object.entries(s.trackPositions ?? {}) as [Stage, { path: StepPath | null }][]) {
    if (saved.path && !kept(track, saved.path)) delete s.trackPositions![track];
  }

  // Triggers are referred to by index; one that now means another trigger must not fire or cool down.
  const sameTrigger = (index: number) => {
    const old = from.triggers[index];
    const next = to.triggers[index];
    return old !== undefined && next !== undefined && old.on === next.on;
  };
  s.pendingTriggers = s.pendingTriggers.filter((pending) => sameTrigger(pending.index));
  for (const key of Object.keys(s.triggerFiredAt)) if (!sameTrigger(Number(key))) delete s.triggerFiredAt[key];

  // The interpreter reads the SLA and recycle rules from the campaign: without them nothing is due.
  if (s.handoff && !to.handoff) {
    if (s.handoff.status === 'not_ready') {
      s.handoff = undefined;
      note('the new campaign version has no handoff rules: back in nurture');
    } else {
      s.handoff.reminded = s.handoff.escalated = s.handoff.outcomeEscalated = true;
    }
  }
  return s;
}

