// The reference journey's engine (tests/support/reference-journey.ts) on the harness: Temporal's
// time-skipping server, the real worker, mailer and SMTP sink.
import { expect, vi } from 'vitest';
import type { EmailKind } from '../../campaign';
import type { EnrolmentView } from '../../workflows/nurture';
import type { JourneyEngine } from '../support/reference-journey';
import type { Harness } from './harness';

export function harnessJourneyEngine(
  h: Harness,
  enrolment: () => { campaignId: string; leadId: string },
  /** The sender's id of each event (default: the harness's own). */
  eventId?: (type: string) => string,
): JourneyEngine {
  /** The workflow's state once it has taken every input it received. */
  const view = async () => {
    const { campaignId, leadId } = enrolment();
    const read = async () => (await h.engine.enrolmentState(`nurture:${campaignId}:${leadId}`)) as EnrolmentView;
    await vi.waitFor(async () => expect((await read()).pendingInputs).toBe(0), { timeout: 10_000, interval: 50 });
    return read();
  };
  /** The emails that went out (accepted by SMTP), in the order the workflow asked for them, once there are `count`. */
  const sent = async (kinds: EmailKind[], count: number) => {
    const read = async () =>
      (
        await h.db.pool.query<{ template: string; kind: EmailKind }>(
          `SELECT template, kind FROM email_sends WHERE lead_id = $1 AND kind = ANY($2) AND status = 'sent' ORDER BY id`,
          [enrolment().leadId, kinds],
        )
      ).rows;
    await vi.waitFor(async () => expect((await read()).length).toBeGreaterThanOrEqual(count), { timeout: 20_000, interval: 100 }).catch(() => {});
    return read();
  };
  return {
    now: () => h.now(),
    advanceTo: (at) => h.advanceTo(at),
    event: async (type, data) => void (await h.event(enrolment().leadId, type, data, eventId ? { id: eventId(type) } : {})),
    async answer(outcome, note) {
      const handoff = (await view()).handoff;
      if (!handoff?.id) throw new Error('no open handoff');
      await h.engine.salesResponse(handoff.id, outcome, note);
    },
    async state() {
      const state = await view();
      return { stage: state.stage, score: state.score, exitReason: state.exitReason, recycleAt: state.handoff?.recycleAt ?? null };
    },
    leadEmails: async (count) => (await sent(['step', 'trigger'], count)).map((row) => row.template),
    salesEmails: async (count) => (await sent(['sales_notice', 'sales_reminder', 'sales_escalation'], count)).map((row) => row.kind),
    settle: () => h.settle(),
  };
}
