// The business calendar: send windows in a time zone with holidays, and business-time arithmetic.
import { DateTime } from 'luxon';
import { describe, expect, it, vi } from 'vitest';
import { addBusinessTime, isWindowOpen, nextWindowOpening, windowZone, type SendWindow } from '../../campaign';
import { publicHolidayDates } from '../../campaign/holidays';
import { nextTimeOfDay } from '../../campaign/calendar';
import { weekdays } from './support';

const TOKYO = 'Asia/Tokyo';
const at = (iso: string) => Date.parse(iso);

describe('send window', () => {
  it('is open on weekday working hours in the zone, shut outside them', () => {
    const w = weekdays();
    expect(isWindowOpen(w, TOKYO, at('2026-11-24T00:00:00Z'))).toBe(true); // Tue 09:00 JST
    expect(isWindowOpen(w, TOKYO, at('2026-11-23T23:59:00Z'))).toBe(false); // Tue 08:59 JST
    expect(isWindowOpen(w, TOKYO, at('2026-11-24T09:00:00Z'))).toBe(false); // Tue 18:00 JST: the end is exclusive
    expect(isWindowOpen(w, TOKYO, at('2026-11-28T03:00:00Z'))).toBe(false); // Saturday
  });

  it('skips Japanese public holidays from date-holidays', () => {
    expect(publicHolidayDates('JP')).toEqual(expect.arrayContaining(['2026-01-01', '2026-11-23', '2027-01-11']));
    const w = weekdays();
    // Monday 2026-11-23 (Labour Thanksgiving Day) 10:00 JST is shut; it opens Tuesday 09:00.
    expect(isWindowOpen(w, TOKYO, at('2026-11-23T01:00:00Z'))).toBe(false);
    expect(nextWindowOpening(w, TOKYO, at('2026-11-23T01:00:00Z'))).toBe(at('2026-11-24T00:00:00Z'));
    // Without the holiday calendar, the same Monday is an ordinary working day.
    expect(isWindowOpen(weekdays({ holidays: undefined }), TOKYO, at('2026-11-23T01:00:00Z'))).toBe(true);
  });

  it('reads the window in the lead time zone, falling back to the campaign zone', () => {
    const w = weekdays();
    expect(windowZone(w, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(windowZone(w, 'Nowhere/Invalid')).toBe(TOKYO);
    expect(windowZone(w, undefined)).toBe(TOKYO);
    expect(windowZone({ ...w, useLeadTimezone: false }, 'Europe/Berlin')).toBe(TOKYO);
  });

  it('opens at 09:00 local across a daylight-saving change (New York, spring forward)', () => {
    const w = weekdays({ timezone: 'America/New_York', holidays: undefined });
    // Friday 2026-03-06 19:00 EST → Monday 2026-03-09 09:00 EDT (13:00 UTC, not 14:00).
    expect(nextWindowOpening(w, 'America/New_York', at('2026-03-07T00:00:00Z'))).toBe(at('2026-03-09T13:00:00Z'));
  });

  it('answers the same in an hour with a half-hour transition whatever was asked first', async () => {
    // St John's springs forward at 02:00 NST = 05:30 UTC on 2026-03-08: 05:10 UTC is 01:40 NST,
    // 05:50 UTC is 03:20 NDT. A fresh module (as in a replaying worker) must agree with luxon.
    const zone = 'America/St_Johns';
    const w: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], start: 3 * 60, end: 4 * 60, useLeadTimezone: false, timezone: zone };
    const truth = (iso: string) => DateTime.fromISO(iso, { zone }).hour === 3;
    for (const order of [['2026-03-08T05:10:00Z', '2026-03-08T05:50:00Z'], ['2026-03-08T05:50:00Z', '2026-03-08T05:10:00Z']]) {
      vi.resetModules();
      const fresh = await import('../../campaign/calendar');
      for (const iso of order) expect(fresh.isWindowOpen(w, zone, at(iso)), `${iso} after ${order[0]}`).toBe(truth(iso));
    }
  });
});

describe('business time', () => {
  const w = weekdays({ useLeadTimezone: false });

  it('counts only working hours: 9 h from Friday 15:00 JST is Monday 15:00 JST', () => {
    expect(addBusinessTime(w, TOKYO, at('2026-11-27T06:00:00Z'), 9 * 3_600_000)).toBe(at('2026-11-30T06:00:00Z'));
  });

  it('starts at the next opening when asked outside working hours, and skips holidays', () => {
    // Sunday 2026-11-22 → Monday is a holiday → Tuesday 09:00 + 2 h.
    expect(addBusinessTime(w, TOKYO, at('2026-11-22T03:00:00Z'), 2 * 3_600_000)).toBe(at('2026-11-24T02:00:00Z'));
  });

  it('3 business days of 9 h from Tuesday 11:00 JST end on Friday 11:00 JST', () => {
    expect(addBusinessTime(w, TOKYO, at('2026-11-24T02:00:00Z'), 27 * 3_600_000)).toBe(at('2026-11-27T02:00:00Z'));
  });
});

describe('time of day', () => {
  it('is the next time the local clock shows it, strictly later', () => {
    expect(nextTimeOfDay(TOKYO, at('2026-11-24T00:00:00Z'), '10:30')).toBe(at('2026-11-24T01:30:00Z'));
    expect(nextTimeOfDay(TOKYO, at('2026-11-24T01:30:00Z'), '10:30')).toBe(at('2026-11-25T01:30:00Z'));
  });
});
