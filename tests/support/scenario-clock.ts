// Where end-to-end scenarios start in time, so that none depends on the hour or the date the
// suite runs at: each scenario moves its clock (Temporal's time-skipping test server) to a
// canonical instant — a Tuesday at 10:00 in the campaign's zone whose week has no holiday in the
// campaign's calendar — and takes every later send time from the campaign's own calendar.
import { DateTime } from 'luxon';
import type { SendWindow } from '../../campaign';

export const CANONICAL_WEEKDAY = 2; // Tuesday (ISO)
export const CANONICAL_HOUR = 10;
/** The days from the start (inclusive) that must be clear of holidays. */
export const CLEAR_DAYS = 8;

/** The first canonical instant at or after `from`: the window is open then and stays open for hours. */
export function canonicalStart(window: SendWindow, zone: string, from: number): number {
  const holidays = new Set(window.holidays?.dates ?? []);
  let day = DateTime.fromMillis(from, { zone }).startOf('day');
  day = day.plus({ days: (CANONICAL_WEEKDAY - day.weekday + 7) % 7 });
  for (let week = 0; week < 60; week++, day = day.plus({ weeks: 1 })) {
    const start = day.set({ hour: CANONICAL_HOUR });
    if (start.toMillis() < from) continue;
    const clear = Array.from({ length: CLEAR_DAYS }, (_, i) => start.plus({ days: i }).toISODate()!).every((date) => !holidays.has(date));
    if (clear) return start.toMillis();
  }
  throw new Error(`no canonical start within 60 weeks of ${new Date(from).toISOString()}`);
}
