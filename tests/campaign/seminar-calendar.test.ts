// The calendar a seminar series needs: a confirmation at once (the step's own window), reminders
// the day before and on the day taken from the registration's date (moved off holidays, skipped
// when they can no longer go in time), attended/no-show branches, and the shared calendars and
// blackout days the send window closes on.
import { describe, expect, it } from 'vitest';
import { initialState, stepInPlace, validateCampaign, type Campaign, type Command, type Input } from '../../campaign';
import { calendarDates } from '../../campaign/holidays';
import { HOUR, lead } from './support';

export const SEMINAR_TRACK = [
  { email: { template: 'welcome', subject: 'You are registered', once: true, send_window: 'any' } },
  { wait: { until: 'event.data.seminar_at - 1d 10:00' } },
  { email: { template: 'reminder', subject: 'Tomorrow: the seminar', send_by: 'event.data.seminar_at - 3h' } },
  { wait: { until: 'event.data.seminar_at - 2h' } },
  { email: { template: 'reminder', subject: 'Today at 14:00', send_by: 'event.data.seminar_at' } },
  { wait: { until: 'event.data.seminar_at + 3h' } },
  {
    if: "has('seminar.attended')",
    then: [{ email: { template: 'case-study', subject: 'Thank you for coming' } }],
    else: [{ email: { template: 'webinar-invite', subject: 'Sorry we missed you: the recording' } }],
  },
];

function seminar(): Campaign {
  const result = validateCampaign({
    id: 'seminar',
    name: 'Seminar',
    from: { email: 'events@acme.example' },
    timezone: 'Asia/Tokyo',
    entry: { on: 'seminar.registered' },
    consent: 'marketing_email',
    scoring: {},
    stages: { warm: 20, hot: 1000 },
    send_window: { days: 'weekdays', hours: '09:00-18:00', holidays: 'jp-business', spread: 0 },
    tracks: { cold: SEMINAR_TRACK },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.campaign;
}

/** Registers at `at` for a seminar at `seminarAt`, attends or not, and returns each email's subject and Tokyo time. */
function run(at: number, seminarAt: string, attends: boolean): string[] {
  const campaign = seminar();
  // As the engine starts an enrolment: the entering event's data in its input, the event itself next.
  const registration = { seminar_at: seminarAt };
  const state = initialState(campaign, lead(), at, { trackReentry: true, entryData: registration });
  const sent: string[] = [];
  const record = (commands: Command[], now: number) => {
    for (const c of commands) if (c.type === 'send') sent.push(`${new Date(now + 9 * HOUR).toISOString().slice(0, 16).replace('T', ' ')} ${c.subject}`);
  };
  const apply = (input: Input, now: number) => record(stepInPlace(campaign, state, input, now), now);
  apply({ type: 'start' }, at);
  apply({ type: 'event', event: { id: 'registration', type: 'seminar.registered', at, data: registration } }, at);
  const attendedAt = Date.parse(seminarAt) + 30 * 60_000;
  for (let guard = 0; guard < 20 && state.nextWake !== undefined; guard++) {
    if (attends && attendedAt < state.nextWake && !state.seen.includes('attended')) {
      apply({ type: 'event', event: { id: 'attended', type: 'seminar.attended', at: attendedAt } }, attendedAt);
      continue;
    }
    apply({ type: 'wake' }, state.nextWake);
  }
  return sent;
}

describe('a seminar on the first business day after 年末年始', () => {
  // Monday 4 January 2027, 14:00 in Tokyo; the day before is Sunday and still 年末年始.
  const SEMINAR = '2027-01-04T14:00:00+09:00';

  it('confirms at once on a Saturday night, reminds on the morning of the day (the day before is closed) and thanks an attendee', () => {
    const saturdayNight = Date.parse('2026-12-26T22:00:00+09:00');
    expect(run(saturdayNight, SEMINAR, true)).toEqual([
      '2026-12-26 22:00 You are registered',
      // Sunday 3 January 10:00 is closed (年末年始, and a Sunday): moved to Monday 09:00, before the 11:00 deadline.
      '2027-01-04 09:00 Tomorrow: the seminar',
      '2027-01-04 12:00 Today at 14:00',
      '2027-01-04 17:00 Thank you for coming',
    ]);
  });

  it('skips the day-before reminder when it can no longer go in time, and sends a no-show the recording', () => {
    const mondayMorning = Date.parse('2027-01-04T11:30:00+09:00');
    expect(run(mondayMorning, SEMINAR, false)).toEqual([
      '2027-01-04 11:30 You are registered',
      '2027-01-04 12:00 Today at 14:00',
      '2027-01-04 17:00 Sorry we missed you: the recording',
    ]);
  });

  it('an ordinary week: the day before at 10:00 and the day itself at 12:00', () => {
    expect(run(Date.parse('2027-01-18T10:00:00+09:00'), '2027-01-21T14:00:00+09:00', true)).toEqual([
      '2027-01-18 10:00 You are registered',
      '2027-01-20 10:00 Tomorrow: the seminar',
      '2027-01-21 12:00 Today at 14:00',
      '2027-01-21 17:00 Thank you for coming',
    ]);
  });

  it('a registration without a date waits for nothing and says so', () => {
    const campaign = seminar();
    const state = initialState(campaign, lead(), Date.parse('2027-01-18T10:00:00+09:00'), { trackReentry: true, entryData: {} });
    const at = Date.parse('2027-01-18T10:00:00+09:00');
    stepInPlace(campaign, state, { type: 'start' }, at);
    stepInPlace(campaign, state, { type: 'event', event: { id: 'r', type: 'seminar.registered', at, data: {} } }, at);
    expect(state.history.map((h) => h.what)).toContain('no date for event.data.seminar_at - 1d 10:00: not waiting');
  });
});

describe('calendars', () => {
  it('jp-business closes on Japan\'s holidays, 年末年始 and お盆', () => {
    const dates = calendarDates('jp-business')!;
    for (const date of ['2026-12-29', '2026-12-31', '2027-01-01', '2027-01-03', '2027-01-11', '2027-08-13', '2027-08-16']) expect(dates).toContain(date);
    expect(dates).not.toContain('2027-01-04');
    expect(dates).not.toContain('2027-08-17');
  });

  it('blackout dates and ranges close the window too; a bad one is refused with its path', () => {
    const base = { id: 'b', name: 'B', from: { email: 'a@b.example' }, entry: { on: 'x.y' }, consent: 'marketing_email', scoring: {}, stages: { warm: 10, hot: 20 }, tracks: {} };
    const ok = validateCampaign({ ...base, send_window: { holidays: 'JP', blackout: ['2027-05-06', '2027-07-30..2027-08-02'] } });
    expect(ok.ok && ok.campaign.sendWindow.holidays?.dates).toEqual(expect.arrayContaining(['2027-05-03', '2027-05-06', '2027-07-30', '2027-07-31', '2027-08-01', '2027-08-02']));
    const bad = validateCampaign({ ...base, send_window: { holidays: 'jp-busines', blackout: ['2027-08-16..2027-08-13', 'next friday'] } });
    expect(!bad.ok && bad.errors).toEqual([
      { path: 'send_window.holidays', message: 'no holiday calendar for "jp-busines"', suggestion: 'jp-business' },
      { path: 'send_window.blackout[0]', message: 'the range ends before it starts: 2027-08-16..2027-08-13' },
      { path: 'send_window.blackout[1]', message: 'expected a date like 2026-08-13 or a range like 2026-12-29..2027-01-03, got "next friday"' },
    ]);
    const badRef = validateCampaign({ ...base, tracks: { cold: [{ wait: { until: 'event.data.seminar_at minus a day' } }] } });
    expect(!badRef.ok && badRef.errors[0]).toMatchObject({ path: 'tracks.cold[0].wait.until', message: expect.stringMatching(/^expected a date from the data like "event.data.seminar_at - 1d 10:00"/) });
  });
});
