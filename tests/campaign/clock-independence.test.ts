// The reference journey on the pure interpreter in virtual time, from many start instants:
// every hour of a week, and the days around 年末年始 (the New Year holidays) and Golden Week.
// The journey moves its own clock (tests/support/reference-journey.ts), so each start must give
// the same outcome — the proof that the end-to-end journey on Temporal, which runs the same
// script, passes whatever the hour and the date the suite starts at.
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  describeState,
  initialState,
  stepInPlace,
  type Campaign,
  type EmailKind,
  type EnrolmentState,
  type Input,
  type LeadSnapshot,
  type SalesOutcome,
} from '../../campaign';
import { holds } from '../../campaign/conditions';
import { HOUR, loadCampaign } from '../support/campaigns';
import { JOURNEY_LEAD, JOURNEY_OUTCOME, referenceJourney, type JourneyEngine, type JourneyState } from '../support/reference-journey';

/** The journey's engine: the interpreter fed as the workflow feeds it, with time that moves only when told. */
class InterpreterEngine implements JourneyEngine {
  private enrolment: EnrolmentState | undefined;
  private readonly sent: { kind: EmailKind; template: string }[] = [];
  private events = 0;

  constructor(
    private readonly campaign: Campaign,
    private readonly lead: LeadSnapshot,
    private clock: number,
  ) {}

  async now() {
    return this.clock;
  }

  async advanceTo(at: number) {
    // Every wake-up on the way happens at its time, as the workflow's timers fire.
    while (this.enrolment && !this.enrolment.exited && this.enrolment.nextWake !== undefined && this.enrolment.nextWake <= at) {
      this.clock = Math.max(this.clock, this.enrolment.nextWake);
      this.feed({ type: 'wake' });
    }
    this.clock = Math.max(this.clock, at);
  }

  async event(type: string, data: Record<string, unknown> = {}) {
    const event = { id: `event-${++this.events}`, type, at: this.clock, data, machine: false };
    if (!this.enrolment) {
      // The engine enrols on the entry event when its condition holds, and delivers it.
      const entry = this.campaign.entry;
      if (type !== entry.on || (entry.where && !holds(entry.where, { event, lead: this.lead.attributes }, { now: this.clock, events: [] }))) return;
      this.enrolment = initialState(this.campaign, this.lead, this.clock);
      this.feed({ type: 'start' });
    }
    this.feed({ type: 'event', event });
  }

  async answer(outcome: SalesOutcome) {
    const handoff = this.enrolment?.handoff;
    if (!handoff) throw new Error('no handoff to answer');
    this.feed({ type: 'sales_response', handoffKey: handoff.key, outcome });
  }

  async state(): Promise<JourneyState> {
    const view = describeState(this.campaign, this.enrolment!, this.clock);
    return { stage: view.stage, score: view.score, exitReason: view.exitReason, recycleAt: view.handoff?.recycleAt ?? null };
  }

  async leadEmails() {
    return this.sent.filter((email) => email.kind === 'step' || email.kind === 'trigger').map((email) => email.template);
  }

  async salesEmails() {
    return this.sent.filter((email) => email.kind !== 'step' && email.kind !== 'trigger').map((email) => email.kind);
  }

  async settle() {}

  /** One input, then the send results it causes, as the workflow takes them: before anything else. */
  private feed(first: Input) {
    const inbox: Input[] = [first];
    while (inbox.length) {
      const feedback: Input[] = [];
      for (const command of stepInPlace(this.campaign, this.enrolment!, inbox.shift()!, this.clock)) {
        if (command.type === 'send') {
          this.sent.push({ kind: command.kind, template: command.template });
          feedback.push({ type: 'send_result', sendKey: command.sendKey, status: 'sent' });
        } else if (command.type === 'handoff') this.sent.push({ kind: 'sales_notice', template: command.config.notify.template });
        else if (command.type === 'sales_reminder' || command.type === 'sales_escalation') this.sent.push({ kind: command.type, template: command.type });
      }
      inbox.unshift(...feedback);
    }
  }
}

const campaign = loadCampaign('saas-whitepaper-nurture');
const lead: LeadSnapshot = {
  id: '00000000-0000-4000-8000-000000000001',
  email: JOURNEY_LEAD.email,
  attributes: { ...JOURNEY_LEAD.attributes, email_domain: 'globex.example' },
  timezone: JOURNEY_LEAD.timezone,
  consent: { marketing_email: true },
};

async function walk(start: number) {
  const engine = new InterpreterEngine(campaign, lead, start);
  const journey = referenceJourney(campaign, engine);
  const startedAt = await journey.start();
  return {
    startedAt,
    download: await journey.download(),
    engage: await journey.engage(),
    viewPricing: await journey.viewPricing(),
    notReady: await journey.notReady(),
    qualifyAgain: await journey.qualifyAgain(),
    acceptAndConvert: await journey.acceptAndConvert(),
  };
}

const tokyo = (iso: string) => DateTime.fromISO(iso, { zone: 'Asia/Tokyo' }).toMillis();

/** Every hour of an ordinary week, and every six hours of the weeks around the holidays, over three years. */
function startInstants(): number[] {
  const hourly = Array.from({ length: 7 * 24 }, (_, i) => tokyo('2027-06-07T00:00') + i * HOUR);
  const around = (from: string, days: number) => Array.from({ length: days * 4 }, (_, i) => tokyo(from) + i * 6 * HOUR);
  const holidays = [2026, 2027, 2028].flatMap((year) => [...around(`${year}-12-24T00:00`, 16), ...around(`${year + 1}-04-24T00:00`, 16)]);
  return [...hourly, ...holidays];
}

describe('the reference journey in virtual time', () => {
  it('has the same outcome from every start instant', async () => {
    const starts = startInstants();
    expect(starts.length).toBeGreaterThan(500);
    for (const start of starts) {
      const outcome = await walk(start);
      const where = `started ${new Date(start).toISOString()}, journey from ${new Date(outcome.startedAt).toISOString()}`;
      expect(outcome, where).toMatchObject(JOURNEY_OUTCOME);
      // The start is a Tuesday 10:00 in Tokyo, within eight weeks of the instant.
      const local = DateTime.fromMillis(outcome.startedAt, { zone: 'Asia/Tokyo' });
      expect([local.weekday, local.hour, local.minute], where).toEqual([2, 10, 0]);
      expect(outcome.startedAt - start, where).toBeLessThan(8 * 7 * 24 * HOUR);
    }
  });

  it('from a start inside 年末年始, begins after the New Year holidays', async () => {
    const { startedAt } = await walk(tokyo('2027-12-29T15:00'));
    // 2028-01-01 is a holiday and Coming of Age Day is 2028-01-10: the first clear Tuesday is 01-11.
    expect(DateTime.fromMillis(startedAt, { zone: 'Asia/Tokyo' }).toISODate()).toBe('2028-01-11');
  });
});
