// The business calendar: when a send window is open (weekdays, hours, holidays, in a time
// zone) and business-time arithmetic for SLAs. Pure: time in, time out.
import { DateTime } from 'luxon';
import type { SendWindow } from './types';

const MINUTE = 60_000;
/** No window stays shut longer than this; a campaign that never opens is rejected at validation. */
const SEARCH_DAYS = 400;

function localDay(window: SendWindow, zone: string, t: number) {
  const local = DateTime.fromMillis(t, { zone });
  return local.isValid ? local : DateTime.fromMillis(t, { zone: 'UTC' });
}

function isBusinessDay(window: SendWindow, day: DateTime): boolean {
  if (!window.days.includes(day.weekday)) return false;
  return !window.holidays?.dates.includes(day.toISODate()!);
}

/** The time zone a lead's window is read in. */
export function windowZone(window: SendWindow, leadTimezone?: string): string {
  if (window.useLeadTimezone && leadTimezone && DateTime.local({ zone: leadTimezone }).isValid) return leadTimezone;
  return window.timezone;
}

export function isWindowOpen(window: SendWindow, zone: string, t: number): boolean {
  const local = localDay(window, zone, t);
  const minutes = local.hour * 60 + local.minute;
  return isBusinessDay(window, local) && minutes >= window.start && minutes < window.end;
}

/** `t` if the window is open then, otherwise the moment it next opens. */
export function nextWindowOpening(window: SendWindow, zone: string, t: number): number {
  if (isWindowOpen(window, zone, t)) return t;
  let day = localDay(window, zone, t).startOf('day');
  for (let i = 0; i < SEARCH_DAYS; i++, day = day.plus({ days: 1 })) {
    if (!isBusinessDay(window, day)) continue;
    const opening = day.plus({ minutes: window.start }).toMillis();
    if (opening >= t) return opening;
  }
  throw new Error('the send window never opens');
}

/** The instant `businessMs` of working time after `start` (working time = the window's hours). */
export function addBusinessTime(window: SendWindow, zone: string, start: number, businessMs: number): number {
  let remaining = businessMs;
  let t = nextWindowOpening(window, zone, start);
  for (let guard = 0; guard < SEARCH_DAYS * 2; guard++) {
    const local = localDay(window, zone, t);
    const closing = local.startOf('day').plus({ minutes: window.end }).toMillis();
    const available = closing - t;
    if (remaining <= available) return t + remaining;
    remaining -= available;
    t = nextWindowOpening(window, zone, closing);
  }
  throw new Error('business time beyond the calendar search range');
}

/** Length of one business day of this window. */
export function businessDayMs(window: SendWindow): number {
  return (window.end - window.start) * MINUTE;
}

/** The next time the local clock shows `hhmm` (strictly after `t`). */
export function nextTimeOfDay(zone: string, t: number, hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  const local = DateTime.fromMillis(t, { zone });
  let candidate = local.set({ hour: hours, minute: minutes, second: 0, millisecond: 0 });
  if (candidate.toMillis() <= t) candidate = candidate.plus({ days: 1 });
  return candidate.toMillis();
}
