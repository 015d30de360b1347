// Window jitter: each lead of an enrolment with `windowJitter` sees the send window open at the
// opening plus its own offset (whole seconds in [0, spread), fixed by its id), so that the leads
// held overnight do not all wake at the same instant. Enrolments without it keep the window as written.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it, vi } from 'vitest';
import {
  addBusinessTime,
  DEFAULT_WINDOW_SPREAD_MS,
  initialState,
  isWindowOpen,
  migrateState,
  nextWindowOpening,
  parseCampaign,
  stepInPlace,
  validateCampaign,
  windowOffsetMs,
  windowSpreadMs,
  windowZone,
  type Campaign,
  type Command,
  type EnrolmentState,
  type Input,
  type LeadSnapshot,
  type SendWindow,
} from '../../campaign';
import { simulate } from '../../campaign/simulator';
import { DAY, HOUR, lead, loadCampaign, weekdays } from './support';

// Records the options the simulator enrols its leads with; the interpreter itself is unchanged.
const enrolments = vi.hoisted(() => [] as unknown[]);
vi.mock('../../campaign/interpreter', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../campaign/interpreter')>();
  return {
    ...original,
    initialState: (...args: Parameters<typeof original.initialState>) => {
      enrolments.push(args[3]);
      return original.initialState(...args);
    },
  };
});

const MINUTE = 60_000;
const SECOND = 1000;
const TOKYO = 'Asia/Tokyo';
const demo = loadCampaign('saas-whitepaper-nurture');
const at = (iso: string) => Date.parse(iso);
const sends = (commands: Command[]) => commands.filter((c) => c.type === 'send');
const wakeAt = (commands: Command[]) => (commands.at(-1) as Extract<Command, { type: 'wake_at' }> | undefined)?.at;

/** Tuesday 2026-11-24 19:00 JST: the window has closed; it opens Wednesday 09:00 JST. */
const TUESDAY_19_JST = at('2026-11-24T10:00:00Z');
const WEDNESDAY_09_JST = at('2026-11-25T00:00:00Z');

describe('the offset of a lead', () => {
  const ids = Array.from({ length: 1000 }, (_, n) => `lead-${n}`);

  it('is fixed by the lead id: the same id gives the same offset, every time', () => {
    const w = weekdays();
    for (const id of ['lead-1', '9f1c0b5e-7d0a-4f0e-9a53-3f1f6a1f0c11', '']) expect(windowOffsetMs(w, id)).toBe(windowOffsetMs({ ...w }, id));
    expect(ids.map((id) => windowOffsetMs(w, id))).toEqual(ids.map((id) => windowOffsetMs(weekdays(), id)));
  });

  it('is whole seconds in [0, spread)', () => {
    for (const spreadMs of [undefined, 90 * SECOND, 10 * MINUTE, 45 * MINUTE, 8 * HOUR]) {
      const w = weekdays({ spreadMs });
      const spread = windowSpreadMs(w);
      for (const id of ids) {
        const offset = windowOffsetMs(w, id);
        expect(offset % SECOND).toBe(0);
        expect(offset).toBeGreaterThanOrEqual(0);
        expect(offset).toBeLessThan(spread);
      }
    }
  });

  it('spreads 1,000 leads over the spread: nearly every minute of 30 is used, none crowded', () => {
    const perMinute = new Array<number>(30).fill(0);
    for (const id of ids) perMinute[Math.floor(windowOffsetMs(weekdays(), id) / MINUTE)]!++;
    expect(perMinute.filter((count) => count > 0).length).toBeGreaterThanOrEqual(29);
    expect(Math.max(...perMinute)).toBeLessThan(3 * (1000 / 30));
    // Uuids as the database gives them spread as well, and over seconds, not just minutes.
    const uuids = fc.sample(fc.uuid(), { numRuns: 1000, seed: 7 });
    expect(new Set(uuids.map((id) => Math.floor(windowOffsetMs(weekdays(), id) / MINUTE))).size).toBeGreaterThanOrEqual(28);
    expect(new Set(uuids.map((id) => windowOffsetMs(weekdays(), id))).size).toBeGreaterThan(600);
  });

  it('defaults to a 30-minute spread, at most half the window; spread 0 means no offset', () => {
    expect(windowSpreadMs(weekdays())).toBe(DEFAULT_WINDOW_SPREAD_MS);
    expect(DEFAULT_WINDOW_SPREAD_MS).toBe(30 * MINUTE);
    expect(windowSpreadMs(weekdays({ start: 9 * 60, end: 9 * 60 + 40 }))).toBe(20 * MINUTE);
    expect(windowSpreadMs(weekdays({ spreadMs: 2 * HOUR }))).toBe(2 * HOUR);
    expect(ids.every((id) => windowOffsetMs(weekdays({ spreadMs: 0 }), id) === 0)).toBe(true);
  });
});

describe('the window with an offset', () => {
  const w = weekdays();
  const offset = 17 * MINUTE + 42 * SECOND;

  it('opens at the opening plus the offset and closes as written', () => {
    expect(isWindowOpen(w, TOKYO, WEDNESDAY_09_JST, offset)).toBe(false);
    expect(isWindowOpen(w, TOKYO, WEDNESDAY_09_JST + offset - 1, offset)).toBe(false);
    expect(isWindowOpen(w, TOKYO, WEDNESDAY_09_JST + offset, offset)).toBe(true);
    expect(isWindowOpen(w, TOKYO, WEDNESDAY_09_JST + 9 * HOUR - 1, offset)).toBe(true); // 17:59:59.999
    expect(isWindowOpen(w, TOKYO, WEDNESDAY_09_JST + 9 * HOUR, offset)).toBe(false); // 18:00
    // Without an offset, the window as written.
    expect(isWindowOpen(w, TOKYO, WEDNESDAY_09_JST)).toBe(true);
    expect(isWindowOpen(w, TOKYO, WEDNESDAY_09_JST, 0)).toBe(true);
  });

  it('next opening: the same day or the next business day, at the opening plus the offset', () => {
    expect(nextWindowOpening(w, TOKYO, TUESDAY_19_JST, offset)).toBe(WEDNESDAY_09_JST + offset);
    expect(nextWindowOpening(w, TOKYO, WEDNESDAY_09_JST + 5 * MINUTE, offset)).toBe(WEDNESDAY_09_JST + offset); // held between 09:00 and the offset
    expect(nextWindowOpening(w, TOKYO, WEDNESDAY_09_JST + HOUR, offset)).toBe(WEDNESDAY_09_JST + HOUR); // open
    // Friday evening → Monday; Sunday before a holiday Monday (2026-11-23) → Tuesday.
    expect(nextWindowOpening(w, TOKYO, at('2026-11-27T10:00:00Z'), offset)).toBe(at('2026-11-30T00:00:00Z') + offset);
    expect(nextWindowOpening(w, TOKYO, at('2026-11-22T03:00:00Z'), offset)).toBe(at('2026-11-24T00:00:00Z') + offset);
    expect(nextWindowOpening(w, TOKYO, TUESDAY_19_JST)).toBe(WEDNESDAY_09_JST);
  });

  it('keeps the wall-clock offset across a daylight-saving change', () => {
    const ny = weekdays({ timezone: 'America/New_York', holidays: undefined });
    // Friday 2026-03-06 19:00 EST → Monday 2026-03-09 09:17:42 EDT.
    expect(nextWindowOpening(ny, 'America/New_York', at('2026-03-07T00:00:00Z'), offset)).toBe(at('2026-03-09T13:00:00Z') + offset);
  });

  it('an opening that falls into a daylight-saving gap opens when the clock jumps past it', () => {
    // New York springs forward on 2027-03-14 at 02:00 EST = 07:00 UTC, straight to 03:00 EDT.
    const zone = 'America/New_York';
    const early: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], start: 60, end: 5 * 60, useLeadTimezone: false, timezone: zone };
    const opening = nextWindowOpening(early, zone, at('2027-03-14T05:30:00Z'), 70 * MINUTE); // 01:00 + 70 min: 02:10, which does not exist
    expect(opening).toBe(at('2027-03-14T07:00:00Z'));
    expect(isWindowOpen(early, zone, opening, 70 * MINUTE)).toBe(true);
    expect(isWindowOpen(early, zone, opening - 1, 70 * MINUTE)).toBe(false);
    expect(nextWindowOpening(early, zone, opening, 70 * MINUTE)).toBe(opening); // no wake-up loop
  });

  it('an all-day window running on from the day before does not reopen at midnight', () => {
    const allDay = weekdays({ start: 0, end: 24 * 60, holidays: undefined });
    const tuesdayMidnight = at('2026-11-23T15:00:00Z'); // Tuesday 00:00 JST, Monday was open all day
    expect(isWindowOpen(allDay, TOKYO, tuesdayMidnight, offset)).toBe(true);
    // Monday after the weekend does open late.
    const mondayMidnight = at('2026-11-22T15:00:00Z');
    expect(isWindowOpen(allDay, TOKYO, mondayMidnight, offset)).toBe(false);
    expect(nextWindowOpening(allDay, TOKYO, at('2026-11-21T03:00:00Z'), offset)).toBe(mondayMidnight + offset);
  });

  it('an offset larger than the window (from another version) still leaves it open for a moment', () => {
    const short = weekdays({ start: 9 * 60, end: 9 * 60 + 10 });
    const opening = nextWindowOpening(short, TOKYO, TUESDAY_19_JST, HOUR);
    expect(opening).toBe(WEDNESDAY_09_JST + 10 * MINUTE - SECOND);
    expect(isWindowOpen(short, TOKYO, opening, HOUR)).toBe(true);
  });

  it('business time for the SLA is the window as written', () => {
    // addBusinessTime takes no offset: one business hour from Tuesday 19:00 ends Wednesday 10:00.
    expect(addBusinessTime(w, TOKYO, TUESDAY_19_JST, HOUR)).toBe(WEDNESDAY_09_JST + HOUR);
  });
});

/** Two leads, both enrolled on Tuesday at 19:00 JST, after the window has closed. */
const leadA = lead({ id: 'lead-a' });
const leadB = lead({ id: 'lead-b' });

describe('the interpreter with window jitter', () => {
  it('two leads held overnight wake at different instants in the morning, each at its own offset', () => {
    const offsets = [leadA, leadB].map((l) => windowOffsetMs(demo.sendWindow, l.id));
    expect(offsets[0]).not.toBe(offsets[1]);
    const wakes = [leadA, leadB].map((l, i) => {
      const s = initialState(demo, l, TUESDAY_19_JST, { windowJitter: true });
      expect(s.windowOffsetMs).toBe(offsets[i]);
      const start = stepInPlace(demo, s, { type: 'start' }, TUESDAY_19_JST);
      expect(sends(start)).toEqual([]);
      expect(s.waiting).toEqual({ kind: 'window', until: WEDNESDAY_09_JST + offsets[i]! });
      const wake = wakeAt(start)!;
      // Woken early (at 09:00 itself, say), the lead still waits for its own opening.
      if (offsets[i]! > 0) {
        const early = stepInPlace(demo, s, { type: 'wake' }, WEDNESDAY_09_JST);
        expect(sends(early)).toEqual([]);
        expect(wakeAt(early)).toBe(wake);
      }
      expect(sends(stepInPlace(demo, s, { type: 'wake' }, wake)).map((c) => c.template)).toEqual(['welcome']);
      return wake;
    });
    expect(wakes[0]).not.toBe(wakes[1]);
    for (const wake of wakes) {
      expect(wake).toBeGreaterThanOrEqual(WEDNESDAY_09_JST);
      expect(wake).toBeLessThan(WEDNESDAY_09_JST + 30 * MINUTE);
    }
  });

  it('a lead enrolled after 09:00 but before its own opening waits for it; without jitter it gets the email at once', () => {
    const offset = windowOffsetMs(demo.sendWindow, leadA.id);
    expect(offset).toBeGreaterThan(5 * MINUTE);
    const enrolledAt = WEDNESDAY_09_JST + 5 * MINUTE;
    const jittered = initialState(demo, leadA, enrolledAt, { windowJitter: true });
    const held = stepInPlace(demo, jittered, { type: 'start' }, enrolledAt);
    expect(sends(held)).toEqual([]);
    expect(wakeAt(held)).toBe(WEDNESDAY_09_JST + offset);
    // A trigger event in the meantime is held as well.
    const pricing = stepInPlace(demo, jittered, { type: 'event', event: { id: 'p1', type: 'page.viewed', at: enrolledAt + MINUTE, data: { page: 'pricing' } } }, enrolledAt + MINUTE);
    expect(sends(pricing)).toEqual([]);
    // (The pricing view's points moved the lead to warm, whose track starts with the case study.)
    expect(sends(stepInPlace(demo, jittered, { type: 'wake' }, WEDNESDAY_09_JST + offset)).map((c) => c.template)).toEqual(['case-study', 'demo-invite']);

    const plain = initialState(demo, leadA, enrolledAt);
    expect(sends(stepInPlace(demo, plain, { type: 'start' }, enrolledAt)).map((c) => c.template)).toEqual(['welcome']);
  });

  it('without the option, the state has no offset and every lead wakes at the opening itself', () => {
    for (const l of [leadA, leadB]) {
      const s = initialState(demo, l, TUESDAY_19_JST);
      expect('windowOffsetMs' in s).toBe(false);
      expect(wakeAt(stepInPlace(demo, s, { type: 'start' }, TUESDAY_19_JST))).toBe(WEDNESDAY_09_JST);
      expect(sends(stepInPlace(demo, s, { type: 'wake' }, WEDNESDAY_09_JST))).toHaveLength(1);
    }
    expect('windowOffsetMs' in initialState(demo, leadA, TUESDAY_19_JST, { windowJitter: false })).toBe(false);
  });

  it('a state carried over without the field (an older enrolment) keeps the window as written', () => {
    const s = initialState(demo, leadA, TUESDAY_19_JST, { windowJitter: true });
    delete s.windowOffsetMs;
    const carried = JSON.parse(JSON.stringify(s)) as EnrolmentState;
    expect(wakeAt(stepInPlace(demo, carried, { type: 'start' }, TUESDAY_19_JST))).toBe(WEDNESDAY_09_JST);
  });

  it('spread 0 gives the lead the window as written', () => {
    const noSpread = loadCampaign('saas-whitepaper-nurture', (text) => text.replace('holidays: JP }', 'holidays: JP, spread: 0 }'));
    const s = initialState(noSpread, leadA, TUESDAY_19_JST, { windowJitter: true });
    expect(s.windowOffsetMs).toBe(0);
    expect(wakeAt(stepInPlace(noSpread, s, { type: 'start' }, TUESDAY_19_JST))).toBe(WEDNESDAY_09_JST);
  });

  it("a trigger email held by the window goes at the lead's opening too", () => {
    const s = initialState(demo, leadA, TUESDAY_19_JST, { windowJitter: true });
    stepInPlace(demo, s, { type: 'start' }, TUESDAY_19_JST);
    const trigger = demo.triggers[0]!;
    const commands = stepInPlace(demo, s, { type: 'event', event: { id: 't1', type: trigger.on, at: TUESDAY_19_JST + HOUR, data: { page: 'pricing' } } }, TUESDAY_19_JST + HOUR);
    expect(sends(commands)).toEqual([]);
    expect(wakeAt(commands)).toBe(WEDNESDAY_09_JST + s.windowOffsetMs!);
  });

  it("wait until next_window waits for the lead's opening; wait until_time does not move", () => {
    const waits = validateCampaign({
      id: 'waits',
      name: 'Waits',
      from: { email: 'a@b.example' },
      entry: { on: 'form.submitted' },
      consent: 'marketing_email',
      scoring: {},
      stages: { warm: 10, hot: 20 },
      tracks: { cold: [{ wait: { until: 'next_window' } }, { score: { add: 1 } }, { wait: { until_time: '09:00' } }, { score: { add: 1 } }] },
      send_window: { hours: '09:00-18:00', spread: '20m' },
    });
    if (!waits.ok) throw new Error(JSON.stringify(waits.errors));
    const campaign = waits.campaign;
    const s = initialState(campaign, leadA, TUESDAY_19_JST, { windowJitter: true });
    const offset = s.windowOffsetMs!;
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(20 * MINUTE);
    expect(wakeAt(stepInPlace(campaign, s, { type: 'start' }, TUESDAY_19_JST))).toBe(WEDNESDAY_09_JST + offset);
    expect(s.waiting).toEqual({ kind: 'timer', until: WEDNESDAY_09_JST + offset });
    // From the lead's opening, the next 09:00 on the clock is Thursday 09:00 exactly.
    expect(wakeAt(stepInPlace(campaign, s, { type: 'wake' }, WEDNESDAY_09_JST + offset))).toBe(WEDNESDAY_09_JST + DAY);
  });

  it('the SLA deadline of a handoff is the same with and without jitter', () => {
    const qualify: Input[] = [
      { type: 'event', event: { id: 'q1', type: 'asset.downloaded', at: TUESDAY_19_JST, data: { asset: 'whitepaper' } } },
      { type: 'event', event: { id: 'q2', type: 'page.viewed', at: TUESDAY_19_JST, data: { page: 'pricing' } } },
      { type: 'event', event: { id: 'q3', type: 'page.viewed', at: TUESDAY_19_JST, data: { page: 'pricing' } } },
    ];
    const deadline = (windowJitter: boolean) => {
      const s = initialState(demo, leadA, TUESDAY_19_JST, { windowJitter });
      const commands = [{ type: 'start' } as Input, ...qualify].flatMap((input) => stepInPlace(demo, s, input, TUESDAY_19_JST));
      return (commands.find((c) => c.type === 'handoff') as Extract<Command, { type: 'handoff' }> | undefined)?.firstContactDue;
    };
    expect(deadline(false)).toBeDefined();
    expect(deadline(true)).toBe(deadline(false));
    expect(deadline(true)).toBe(addBusinessTime({ ...demo.sendWindow, useLeadTimezone: false }, demo.timezone, TUESDAY_19_JST, demo.handoff!.sla.firstContactBusinessMs));
  });

  it('a migrated enrolment with jitter takes its offset within the new spread; one without stays without', () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace('holidays: JP }', 'holidays: JP, spread: 2m }'));
    const jittered = migrateState(demo, v2, initialState(demo, leadA, TUESDAY_19_JST, { windowJitter: true }), TUESDAY_19_JST);
    expect(jittered.windowOffsetMs).toBe(windowOffsetMs(v2.sendWindow, leadA.id));
    expect(jittered.windowOffsetMs).toBeLessThan(2 * MINUTE);
    expect('windowOffsetMs' in migrateState(demo, v2, initialState(demo, leadA, TUESDAY_19_JST), TUESDAY_19_JST)).toBe(false);
  });
});

describe('the simulator', () => {
  it('enrols its leads with window jitter, as new enrolments are', () => {
    enrolments.length = 0;
    simulate(demo, { leads: 20, days: 10, seed: 5 });
    expect(enrolments).toHaveLength(20);
    expect(enrolments.every((options) => (options as { windowJitter?: boolean } | undefined)?.windowJitter === true)).toBe(true);
  });
});

// ——— property: no marketing send before the lead's opening, nor outside the window ———

const step = fc.oneof(
  fc.constant({ email: { template: 'welcome', subject: 'Hello' } }),
  fc.constantFrom({ wait: '30m' }, { wait: '7h' }, { wait: '1d' }, { wait: { until: 'next_window' } }, { wait: { until_time: '23:45' } }),
);
const windows = fc.record({
  days: fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], { minLength: 1 }),
  // Openings from 04:00 on: an opening at 0 offset in a daylight-saving gap is not this property's subject.
  hours: fc.oneof(
    fc.record({ start: fc.integer({ min: 4, max: 20 }), length: fc.integer({ min: 1, max: 10 }) }).map(({ start, length }) => `${String(start).padStart(2, '0')}:00-${String(Math.min(24, start + length)).padStart(2, '0')}:00`),
    fc.constant('00:00-24:00'),
  ),
  timezone: fc.constantFrom('lead', 'Asia/Tokyo', 'America/New_York'),
  holidays: fc.boolean(),
  spread: fc.constantFrom(undefined, 0, '90s', '10m', '45m'),
});
const jitterCampaigns = fc.record({ window: windows, cold: fc.array(step, { minLength: 1, maxLength: 6 }) }).map(({ window, cold }) => {
  const result = validateCampaign({
    id: 'jitter',
    name: 'Jitter',
    from: { email: 'a@b.example' },
    timezone: 'Asia/Tokyo',
    entry: { on: 'form.submitted' },
    consent: 'marketing_email',
    scoring: {},
    stages: { warm: 1000, hot: 2000 },
    triggers: [{ on: 'webinar.attended', send: 'webinar-followup', subject: 'Thanks' }],
    tracks: { cold: [...cold, { goto: 'again' }].map((s, i) => (i === 0 ? { ...s, label: 'again' } : s)) },
    send_window: {
      days: window.days,
      hours: window.hours,
      timezone: window.timezone,
      ...(window.holidays && { holidays: 'JP' }),
      ...(window.spread !== undefined && { spread: window.spread }),
    },
  });
  return result;
})
  // Validation refuses a goto loop without a wait (campaign/step-graph.ts): such draws are left out.
  .filter((result) => result.ok || !result.errors.every((error) => error.message.includes('loops back without a wait')))
  .map((result) => {
    if (!result.ok) throw new Error(`test generator made an invalid campaign: ${JSON.stringify(result.errors)}`);
    return result.campaign;
  });
const jitterLeads = fc.record({
  id: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 12 })),
  email: fc.constant('lead@example.com'),
  attributes: fc.constant({}),
  timezone: fc.constantFrom('Asia/Tokyo', 'America/New_York', 'Europe/Berlin', 'America/St_Johns', 'Australia/Lord_Howe'),
  consent: fc.constant({ marketing_email: true }),
});
const triggerGaps = fc.array(fc.integer({ min: 0, max: 3 * DAY }), { maxLength: 15 });

/** Runs the lead through its wake-ups and trigger events; returns the instants of its marketing sends. */
function sendTimes(campaign: Campaign, l: LeadSnapshot, start: number, gaps: number[]): { state: EnrolmentState; times: number[] } {
  const state = initialState(campaign, l, start, { windowJitter: true });
  const times: number[] = [];
  let now = start;
  const apply = (input: Input) => {
    for (const c of stepInPlace(campaign, state, input, now)) if (c.type === 'send') times.push(now);
  };
  const wakesUntil = (target: number) => {
    let same = 0;
    while (state.nextWake !== undefined && state.nextWake <= target) {
      same = state.nextWake <= now ? same + 1 : 0;
      if (same > 50) throw new Error(`wake-up loop at ${new Date(now).toISOString()}`);
      now = Math.max(now, state.nextWake);
      apply({ type: 'wake' });
    }
  };
  apply({ type: 'start' });
  gaps.forEach((gap, i) => {
    wakesUntil(now + gap);
    now += gap;
    apply({ type: 'event', event: { id: `w${i}`, type: 'webinar.attended', at: now } });
  });
  wakesUntil(now + 14 * DAY);
  return { state, times };
}

/** The lead's window, read independently of campaign/calendar.ts: luxon's wall clock. */
function inLeadWindow(window: SendWindow, zone: string, t: number, offsetMs: number): boolean {
  const local = DateTime.fromMillis(t, { zone });
  const business = (d: DateTime) => window.days.includes(d.weekday) && !(window.holidays?.dates.includes(d.toISODate()!) ?? false);
  const msOfDay = local.hour * HOUR + local.minute * MINUTE + local.second * SECOND + local.millisecond;
  if (!business(local) || msOfDay < window.start * MINUTE || msOfDay >= window.end * MINUTE) return false;
  const runsOn = window.start === 0 && window.end === 24 * 60 && business(local.minus({ days: 1 }));
  return runsOn || msOfDay >= window.start * MINUTE + offsetMs;
}

describe('property', () => {
  it('a lead with jitter never gets a marketing email before its opening (opening + offset) nor outside the window', () => {
    fc.assert(
      fc.property(jitterCampaigns, jitterLeads, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: DAY - 1 }), triggerGaps, (campaign, l, dayShift, timeOfDay, gaps) => {
        const start = Date.UTC(2026, 10, 2) + dayShift * DAY + timeOfDay;
        const { state, times } = sendTimes(campaign, l, start, gaps);
        const offset = state.windowOffsetMs!;
        expect(offset).toBe(windowOffsetMs(campaign.sendWindow, l.id));
        expect(offset).toBeLessThan(Math.max(SECOND, windowSpreadMs(campaign.sendWindow)));
        const zone = windowZone(campaign.sendWindow, l.timezone);
        for (const t of times) {
          expect(inLeadWindow(campaign.sendWindow, zone, t, offset), `send at ${DateTime.fromMillis(t, { zone }).toISO()} (offset ${offset / SECOND}s)`).toBe(true);
          expect(isWindowOpen(campaign.sendWindow, zone, t, offset)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('(sanity of the generator) sends happen, and some after waiting for the window', () => {
    const samples = fc.sample(fc.tuple(jitterCampaigns, jitterLeads), { numRuns: 40, seed: 11 });
    let atOwnOpening = 0;
    let withSends = 0;
    for (const [campaign, l] of samples) {
      const { state, times } = sendTimes(campaign, l, TUESDAY_19_JST, []);
      const zone = windowZone(campaign.sendWindow, l.timezone);
      const offset = state.windowOffsetMs!;
      if (times.length) withSends++;
      // A send at the very instant the lead's window opened, later than the window as written.
      if (offset > 0 && times.some((t) => isWindowOpen(campaign.sendWindow, zone, t - 1) && !isWindowOpen(campaign.sendWindow, zone, t - 1, offset))) atOwnOpening++;
    }
    expect(withSends).toBeGreaterThan(20);
    expect(atOwnOpening).toBeGreaterThan(10);
  });
});

describe('send_window.spread in the campaign language', () => {
  const CAMPAIGNS_DIR = fileURLToPath(new URL('../../campaigns', import.meta.url));
  const text = readFileSync(`${CAMPAIGNS_DIR}/saas-whitepaper-nurture.yaml`, 'utf8');
  const LINE = 'send_window: { days: weekdays, hours: "09:00-18:00", timezone: lead, holidays: JP }';
  const withSpread = (spread: string) => {
    if (!text.includes(LINE)) throw new Error('test setup: the demo send_window line changed');
    return text.replace(LINE, `send_window: { days: weekdays, hours: "09:00-18:00", timezone: lead, holidays: JP, spread: ${spread} }`);
  };
  const problems = (source: string) => {
    const result = parseCampaign(source);
    return result.ok ? [] : result.errors.map((e) => `${e.path} (line ${e.line}): ${e.message}`);
  };
  const line = text.slice(0, text.indexOf(LINE)).split('\n').length;

  it('compiles a duration, and 0, into spreadMs', () => {
    const compiled = (spread: string) => {
      const result = parseCampaign(withSpread(spread));
      return result.ok ? result.campaign.sendWindow.spreadMs : result.errors;
    };
    expect(compiled('30m')).toBe(30 * MINUTE);
    expect(compiled('90s')).toBe(90 * SECOND);
    expect(compiled('1h30m')).toBe(90 * MINUTE);
    expect(compiled('0')).toBe(0);
    expect(compiled('8h59m')).toBe(539 * MINUTE);
  });

  it('left out, the compiled window has no spreadMs (so existing versions keep their hash)', () => {
    const result = parseCampaign(text);
    expect(result.ok && 'spreadMs' in result.campaign.sendWindow).toBe(false);
  });

  it('a bad spread says what and where', () => {
    expect(problems(withSpread('soon'))).toEqual([`send_window.spread (line ${line}): expected 0 or a duration like 30m or 90s, got "soon"`]);
    expect(problems(withSpread('30'))).toEqual([`send_window.spread (line ${line}): expected 0 or a duration like 30m or 90s, got 30`]);
    expect(problems(withSpread('-5m'))).toEqual([`send_window.spread (line ${line}): expected 0 or a duration like 30m or 90s, got "-5m"`]);
    expect(problems(withSpread('[30m]'))).toEqual([`send_window.spread (line ${line}): expected 0 or a duration like 30m or 90s, got ["30m"]`]);
  });

  it('must be shorter than the window', () => {
    expect(problems(withSpread('9h'))).toEqual([`send_window.spread (line ${line}): must be shorter than the window (9h for "09:00-18:00"), got "9h"`]);
    expect(problems(withSpread('2d'))).toEqual([`send_window.spread (line ${line}): must be shorter than the window (9h for "09:00-18:00"), got "2d"`]);
    // With the default all-day window, up to just under a day.
    const allDay = validateCampaign({ ...minimal(), send_window: { spread: '23h' } });
    expect(allDay.ok && allDay.campaign.sendWindow.spreadMs).toBe(23 * HOUR);
    const tooLong = validateCampaign({ ...minimal(), send_window: { spread: '24h' } });
    expect(!tooLong.ok && tooLong.errors).toEqual([{ path: 'send_window.spread', message: 'must be shorter than the window (1d for "00:00-24:00"), got "24h"' }]);
  });

  it('a bad spread beside bad hours reports only the hours', () => {
    const result = validateCampaign({ ...minimal(), send_window: { hours: '18:00-09:00', spread: '30m' } });
    expect(!result.ok && result.errors.map((e) => e.path)).toEqual(['send_window.hours']);
  });

  it('is a known key of send_window', () => {
    const result = validateCampaign({ ...minimal(), send_window: { spred: '30m' } });
    expect(!result.ok && result.errors).toEqual([{ path: 'send_window.spred', message: 'unknown field; expected one of days, hours, timezone, holidays, blackout, spread', suggestion: 'spread' }]);
  });
});

function minimal(): Record<string, unknown> {
  return {
    id: 'tiny',
    name: 'Tiny',
    from: { email: 'a@b.example' },
    entry: { on: 'form.submitted' },
    consent: 'marketing_email',
    scoring: {},
    stages: { warm: 10, hot: 20 },
    tracks: { cold: [{ email: { template: 'welcome', subject: 'Hi' } }] },
  };
}
