// A seminar campaign on the real engine in virtual time (time-skipping server): registration →
// confirmation at once → reminders the day before and on the day, taken from the registration's
// date and moved off closed days → attended / no-show branches, with stage changes in between.
// Each person gets exactly the emails they would expect, none twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCampaign, type Campaign } from '../../campaign';
import { calendarDates } from '../../campaign/holidays';
import { DAY, HOUR, startHarness, type Harness } from './harness';

const SEMINAR = `
id: seminar-series
name: Seminar series
from: { email: events@acme.example }
timezone: Asia/Tokyo
entry: { on: seminar.registered }
consent: marketing_email
scoring:
  behaviour:
    - { on: page.viewed, where: "event.data.page == 'pricing'", points: 20, label: pricing views }
    - { on: page.viewed, where: "event.data.page == 'careers'", points: -20, label: careers views }
stages: { warm: 20, hot: 1000, hysteresis: 0 }
send_window: { days: weekdays, hours: "09:00-18:00", timezone: Asia/Tokyo, holidays: jp-business, spread: 0 }
tracks:
  cold:
    - email: { template: welcome, subject: "You are registered", once: true, send_window: any }
    - wait: { until: "event.data.seminar_at - 1d 10:00" }
    - email: { template: reminder, subject: "Tomorrow: the seminar", send_by: "event.data.seminar_at - 3h" }
    - wait: { until: "event.data.seminar_at - 2h" }
    - email: { template: reminder, subject: "Today at 14:00", send_by: "event.data.seminar_at" }
    - wait: { until: "event.data.seminar_at + 3h" }
    - if: "has('seminar.attended')"
      then: [ { email: { template: case-study, subject: "Thank you for coming" } } ]
      else: [ { email: { template: webinar-invite, subject: "Sorry we missed you: the recording" } } ]
  warm:
    - email: { template: product-tour, subject: "A 3-minute tour", send_window: any }
`;

let h: Harness;
let campaign: Campaign;
/** The seminar: 14:00 in Tokyo on the first business day (at least four days ahead) that follows a closed day of jp-business. */
let seminarAt: number;

const tokyoDate = (t: number) => new Date(t + 9 * HOUR).toISOString().slice(0, 10);

beforeAll(async () => {
  h = await startHarness();
  const result = parseCampaign(SEMINAR);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  campaign = result.campaign;
  await h.launch(campaign);
  const closed = new Set(calendarDates('jp-business'));
  const now = await h.now();
  for (let day = Date.parse(`${tokyoDate(now + 4 * DAY)}T14:00:00+09:00`); ; day += DAY) {
    const weekday = new Date(day + 9 * HOUR).getUTCDay();
    if (weekday >= 1 && weekday <= 5 && !closed.has(tokyoDate(day)) && closed.has(tokyoDate(day - DAY))) {
      seminarAt = day;
      break;
    }
  }
});

afterAll(async () => {
  await h?.close();
});

const subjects = (address: string) => h.mailTo(address).map((m) => m.subject);

describe('the seminar', () => {
  const attendee = 'haruka@globex.example';
  const absent = 'sota@initech.example';

  it('confirms each registration at once, whatever the hour, and once only though the attendee changes stage', async () => {
    const haruka = await h.addLead(attendee, { first_name: 'Haruka' });
    const sota = await h.addLead(absent, { first_name: 'Sota' });
    const registration = { seminar: 'metrics-101', seminar_at: new Date(seminarAt).toISOString() };
    await h.event(haruka, 'seminar.registered', registration);
    await h.event(sota, 'seminar.registered', registration);
    await h.waitForMail((m) => m.to.includes(attendee) && m.subject === 'You are registered');
    await h.waitForMail((m) => m.to.includes(absent) && m.subject === 'You are registered');
    // Haruka looks at pricing (warm: its email goes at once) and at careers (cold again: her track resumes).
    await h.event(haruka, 'page.viewed', { page: 'pricing' });
    await h.settle();
    await h.advance(HOUR);
    await h.event(haruka, 'page.viewed', { page: 'careers' });
    await h.settle();
  });

  it('reminds on the day before (moved off the closed day, to the morning) and on the day itself', async () => {
    await h.advanceTo(seminarAt - HOUR);
    await h.settle();
    for (const address of [attendee, absent]) expect(subjects(address)).toEqual(expect.arrayContaining(['Tomorrow: the seminar', 'Today at 14:00']));
    // The day before is closed: it went at 09:00 on the day (the workflow's clock), before its 11:00 deadline.
    const { rows } = await h.db.pool.query<{ created_at: Date }>(`SELECT created_at FROM email_sends WHERE to_address = $1 AND subject = 'Tomorrow: the seminar'`, [attendee]);
    expect(rows).toHaveLength(1);
    const nine = Date.parse(`${tokyoDate(seminarAt)}T09:00:00+09:00`);
    expect(rows[0]!.created_at.getTime() - nine).toBeGreaterThanOrEqual(0);
    expect(rows[0]!.created_at.getTime() - nine).toBeLessThan(60_000);
    // A month of virtual time: a few hundred milliseconds alone, but one CI run (beside a JVM
    // starting and a SIGKILL drill) held the test server's skipping past the default 60 s.
  }, 180_000);

  it('thanks the attendee and sends the recording to the one who did not come; nobody gets an email twice', async () => {
    const haruka = (await h.db.pool.query<{ id: string }>('SELECT id FROM leads WHERE email = $1', [attendee])).rows[0]!.id;
    await h.advanceTo(seminarAt + HOUR);
    await h.event(haruka, 'seminar.attended', {});
    await h.advanceTo(seminarAt + 4 * HOUR);
    await h.settle();
    expect(subjects(attendee)).toEqual(['You are registered', 'A 3-minute tour', 'Tomorrow: the seminar', 'Today at 14:00', 'Thank you for coming']);
    expect(subjects(absent)).toEqual(['You are registered', 'Tomorrow: the seminar', 'Today at 14:00', 'Sorry we missed you: the recording']);
    const ids = h.sink.messages.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
  }, 180_000);
});

it('replays every history it produced (and records them as golden histories on request)', async () => {
  expect(await h.checkHistories('seminar')).toEqual([]);
});
