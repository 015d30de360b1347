// A stage the score brings a lead back to: its track resumes where it was left (the default),
// restarts, or skips what was sent; an email marked `once` never goes twice. Enrolments started
// before engine version 4 keep restarting, as their recorded histories did.
import { describe, expect, it } from 'vitest';
import { initialState, migrateState, stepInPlace, validateCampaign, type Campaign, type Command, type EnrolmentState, type Input } from '../../campaign';
import { DAY, HOUR, lead, TUESDAY_10_JST } from './support';

/** Cold: a confirmation, a reminder a day later and a last email; warm: two emails. A pricing view moves a lead to warm, a careers view back. */
function seminar(extra: Record<string, unknown> = {}): Campaign {
  const result = validateCampaign({
    id: 'seminar',
    name: 'Seminar',
    from: { email: 'events@acme.example' },
    entry: { on: 'seminar.registered' },
    consent: 'marketing_email',
    scoring: {
      behaviour: [
        { on: 'page.viewed', where: "event.data.page == 'pricing'", points: 20, label: 'pricing views' },
        { on: 'page.viewed', where: "event.data.page == 'careers'", points: -20, label: 'careers views' },
      ],
    },
    stages: { warm: 20, hot: 1000, hysteresis: 0 },
    send_window: { days: 'every_day', spread: 0 },
    tracks: {
      cold: [
        { email: { template: 'welcome', subject: 'You are registered' } },
        { wait: '1d' },
        { email: { template: 'reminder', subject: 'Tomorrow: the seminar' } },
        { wait: '10d' },
        { email: { template: 'case-study', subject: 'What we showed' } },
      ],
      warm: [{ email: { template: 'webinar-invite', subject: 'Next: a live demo' } }, { wait: '5d' }, { email: { template: 'pricing', subject: 'Plans' } }],
    },
    ...extra,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.campaign;
}

const T0 = TUESDAY_10_JST;
let ids = 0;
const view = (page: string): Input => ({ type: 'event', event: { id: `view-${++ids}`, type: 'page.viewed', at: 0, data: { page } } });

/** Runs the inputs at their times and returns the subjects sent, in order, with the day they went. */
function journey(campaign: Campaign, inputs: [number, Input][], options = { trackReentry: true }): string[] {
  const state: EnrolmentState = initialState(campaign, lead(), T0, { windowJitter: true, ...options });
  const sent: string[] = [];
  const record = (commands: Command[], at: number) => {
    for (const command of commands) if (command.type === 'send') sent.push(`day ${Math.round(((at - T0) / DAY) * 10) / 10}: ${command.subject}`);
  };
  let wakeAt: number | undefined;
  const timeline = [...inputs].sort((a, b) => a[0] - b[0]);
  const until = T0 + 30 * DAY;
  for (let now = T0, next = 0; now <= until; ) {
    // The next thing to happen: an input or the state's wake-up.
    const input = timeline[next];
    const at = Math.min(input?.[0] ?? Infinity, wakeAt ?? Infinity, until + 1);
    if (at > until) break;
    now = at;
    const command: Input = input && input[0] === at ? (next++, input[1].type === 'event' ? { ...input[1], event: { ...input[1].event, at } } : input[1]) : { type: 'wake' };
    const commands = stepInPlace(campaign, state, command, now);
    record(commands, now);
    wakeAt = state.nextWake;
  }
  return sent;
}

/** Registered at T0, a pricing view after 2 hours (warm), a careers view after 4 (cold again), a pricing view on day 3 (warm again). */
const BACK_AND_FORTH: [number, Input][] = [
  [T0, { type: 'start' }],
  [T0 + 2 * HOUR, view('pricing')],
  [T0 + 4 * HOUR, view('careers')],
  [T0 + 3 * DAY, view('pricing')],
];

describe('track_reentry', () => {
  it('resume (the default): back in a stage, its track goes on where it was left, its wait included', () => {
    expect(journey(seminar(), BACK_AND_FORTH)).toEqual([
      'day 0: You are registered',
      'day 0.1: Next: a live demo',
      // Back in cold at 4 h: no second confirmation; the reminder one day after the first email.
      'day 1: Tomorrow: the seminar',
      // Warm again on day 3: its 5-day wait, begun at 2 h on day 0, runs on to its end.
      'day 5.1: Plans',
    ]);
  });

  it('restart: every email of the track again (the behaviour of enrolments before engine version 4)', () => {
    const restarted = ['day 0: You are registered', 'day 0.1: Next: a live demo', 'day 0.2: You are registered', 'day 1.2: Tomorrow: the seminar', 'day 3: Next: a live demo', 'day 8: Plans'];
    expect(journey(seminar({ track_reentry: 'restart' }), BACK_AND_FORTH)).toEqual(restarted);
    expect(journey(seminar(), BACK_AND_FORTH, { trackReentry: false })).toEqual(restarted);
  });

  it('skip_sent: from the top, but nothing sent twice; per stage', () => {
    expect(journey(seminar({ track_reentry: { cold: 'skip_sent', warm: 'restart' } }), BACK_AND_FORTH)).toEqual([
      'day 0: You are registered',
      'day 0.1: Next: a live demo',
      // Cold from the top at 4 h: the confirmation is skipped, the wait of one day runs again.
      'day 1.2: Tomorrow: the seminar',
      'day 3: Next: a live demo',
      'day 8: Plans',
    ]);
  });

  it('once: an email never goes twice, whatever brings the lead back to it', () => {
    const campaign = seminar({
      track_reentry: 'restart',
      tracks: {
        cold: [{ email: { template: 'welcome', subject: 'You are registered', once: true } }, { wait: '1d' }, { email: { template: 'reminder', subject: 'Tomorrow: the seminar' } }],
        warm: [{ email: { template: 'webinar-invite', subject: 'Next: a live demo' } }],
      },
    });
    expect(journey(campaign, BACK_AND_FORTH)).toEqual(['day 0: You are registered', 'day 0.1: Next: a live demo', 'day 1.2: Tomorrow: the seminar', 'day 3: Next: a live demo']);
  });

  it('a track left by an explicit goto starts from the top when the score brings the lead back', () => {
    const campaign = seminar({
      tracks: {
        cold: [{ email: { template: 'welcome', subject: 'You are registered' } }, { wait: '1d' }, { goto: { stage: 'warm' } }],
        warm: [{ email: { template: 'webinar-invite', subject: 'Next: a live demo' } }, { wait: '20d' }],
      },
    });
    // Day 1: the goto moves the lead to warm (score set to 20); a careers view brings it back to cold.
    expect(journey(campaign, [[T0, { type: 'start' }], [T0 + 2 * DAY, view('careers')]])).toEqual([
      'day 0: You are registered',
      'day 1: Next: a live demo',
      'day 2: You are registered',
      'day 3: Next: a live demo',
    ]);
  });

  it('is written as one mode or per stage; anything else is refused with its path', () => {
    expect(seminar({ track_reentry: 'skip_sent' }).trackReentry).toEqual({ cold: 'skip_sent', warm: 'skip_sent', hot: 'skip_sent' });
    expect(seminar().trackReentry).toBeUndefined();
    const bad = validateCampaign({ ...JSON.parse(JSON.stringify(seminarRaw())), track_reentry: { cold: 'resum', lukewarm: 'restart' } });
    expect(!bad.ok && bad.errors).toEqual([
      { path: 'track_reentry.lukewarm', message: 'unknown field; expected one of cold, warm, hot' },
      { path: 'track_reentry.cold', message: 'expected resume, restart, skip_sent, got "resum"', suggestion: 'resume' },
    ]);
    const once = validateCampaign({ ...seminarRaw(), tracks: { cold: [{ email: { template: 'welcome', subject: 'Hi', once: 'yes' } }] } });
    expect(!once.ok && once.errors).toEqual([{ path: 'tracks.cold[0].email.once', message: 'expected true or false, got "yes"' }]);
  });

  it('a saved position whose step went away in a new version starts that track from the top', () => {
    const campaign = seminar();
    const state = initialState(campaign, lead(), T0, { trackReentry: true });
    stepInPlace(campaign, state, { type: 'start' }, T0);
    stepInPlace(campaign, state, { type: 'event', event: { id: 'pricing-1', type: 'page.viewed', at: T0 + HOUR, data: { page: 'pricing' } } }, T0 + HOUR);
    expect(state.stage).toBe('warm');
    expect(state.trackPositions?.cold?.path).toEqual([2]); // waiting one day before the reminder
    const shorter = seminar({ tracks: { cold: [{ email: { template: 'welcome', subject: 'You are registered' } }], warm: [{ email: { template: 'pricing', subject: 'Plans' } }] } });
    expect(migrateState(campaign, shorter, state, T0 + 2 * HOUR).trackPositions).toEqual({});
    expect(migrateState(campaign, campaign, state, T0 + 2 * HOUR).trackPositions?.cold?.path).toEqual([2]);
  });
});

function seminarRaw() {
  return { id: 'seminar', name: 'Seminar', from: { email: 'events@acme.example' }, entry: { on: 'seminar.registered' }, consent: 'marketing_email', scoring: {}, stages: { warm: 20, hot: 1000 }, tracks: {} };
}
