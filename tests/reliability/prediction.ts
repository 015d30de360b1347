// What the campaign core says a lead must receive, computed by the pure interpreter alone: the
// reference the reliability tests hold the real engine to.
import { initialState, stepInPlace, type Campaign, type LeadSnapshot } from '../../campaign';
import { messageIdFor } from '../../mail/identity';

/**
 * The Message-IDs of every email (marketing and sales notices) the enrolment must produce.
 * `keyBase` prefixes the enrolment's idempotency keys: `enrolment-<id>` since engine version 2
 * (the workflow id before it). Since engine version 3 the sales desk sends the notice, keyed by
 * the handoff id (`enrolment-<id>-handoff-<n>`) and the number of reassignments before it (0).
 */
export function predictedMessageIds(campaign: Campaign, lead: LeadSnapshot, keyBase: string, start: number, domain: string): string[] {
  const state = initialState(campaign, lead, start, { salesDesk: true, trackReentry: true });
  const keys: string[] = [];
  let now = start;
  const collect = (commands: ReturnType<typeof stepInPlace>) => {
    for (const c of commands) {
      if (c.type === 'send') keys.push(`${keyBase}:${c.sendKey}`);
      if (c.type === 'handoff') keys.push(`${keyBase}-${c.handoffKey}:notice:0`);
    }
  };
  collect(stepInPlace(campaign, state, { type: 'start' }, now));
  for (let i = 0; i < 1000 && state.nextWake !== undefined && !state.exited; i++) {
    now = Math.max(now, state.nextWake);
    collect(stepInPlace(campaign, state, { type: 'wake' }, now));
  }
  return keys.map((key) => messageIdFor(key, domain)).sort();
}
