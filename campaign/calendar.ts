// The business calendar: when a send window is open (weekdays, hours, holidays, in a time
// zone), each lead's fixed offset on the window's openings, and business-time arithmetic for
// SLAs. Pure: time in, time out.
//
// Time-zone offsets come from luxon (the IANA database through Intl) and are memoised per zone
// and hour, because asking Intl is by far the most expensive thing the interpreter does; the
// rest is plain arithmetic on wall-clock milliseconds.
import { IANAZone } from 'luxon';
import type { SendWindow } from './types';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** No window stays shut longer than this; a campaign that never opens is rejected at validation. */
const SEARCH_DAYS = 400;

interface ZoneCache {
  zone: IANAZone | null;
  /** Offset in minutes by hour since the epoch; NaN for an hour with a transition. */
  offsets: Map<number, number>;
}
const zones = new Map<string, ZoneCache>();

function cacheOf(name: string): ZoneCache {
  let cache = zones.get(name);
  if (!cache) {
    cache = { zone: IANAZone.isValidZone(name) ? IANAZone.create(name) : null, offsets: new Map() };
    zones.set(name, cache);
  }
  return cache;
}

export function isValidTimeZone(name: string): boolean {
  return cacheOf(name).zone !== null;
}

/**
 * Minutes to add to UTC to get the zone's wall clock at instant `t`. An hour's offset is cached
 * only when it is the same at both ends of the hour: in an hour with a transition (some zones
 * shift at half past) the zone is asked each time, so the answer never depends on which instant
 * filled the cache first — a replay with a fresh cache decides exactly as the original run.
 */
function offsetAt(zoneName: string, t: number): number {
  const cache = cacheOf(zoneName);
  if (!cache.zone) return 0;
  const hour = Math.floor(t / HOUR);
  let offset = cache.offsets.get(hour);
  if (offset === undefined) {
    const first = cache.zone.offset(hour * HOUR);
    offset = first === cache.zone.offset(hour * HOUR + HOUR - 1) ? first : NaN;
    if (cache.offsets.size > 100_000) cache.offsets.clear();
    cache.offsets.set(hour, offset);
  }
  return Number.isNaN(offset) ? cache.zone.offset(t) : offset;
}

/** The zone's wall clock at `t`, as milliseconds of a UTC-based calendar. */
const wall = (zone: string, t: number) => t + offsetAt(zone, t) * MINUTE;

/** The instant at which the zone's wall clock shows `wallMs` (the later one across a DST gap). */
function instant(zone: string, wallMs: number): number {
  const guess = wallMs - offsetAt(zone, wallMs) * MINUTE;
  return wallMs - offsetAt(zone, guess) * MINUTE;
}

const isoDate = (wallMs: number) => new Date(wallMs).toISOString().slice(0, 10);
const isoWeekday = (wallMs: number) => new Date(wallMs).getUTCDay() || 7;

// Whether a day (days since the epoch, on the wall clock) is a business day, memoised per window.
const businessDays = new WeakMap<SendWindow, Map<number, boolean>>();

function isBusinessDay(window: SendWindow, dayWallMs: number): boolean {
  let days = businessDays.get(window);
  if (!days) {
    days = new Map();
    businessDays.set(window, days);
  }
  const day = Math.floor(dayWallMs / DAY);
  let business = days.get(day);
  if (business === undefined) {
    business = window.days.includes(isoWeekday(dayWallMs)) && !(window.holidays?.dates.includes(isoDate(dayWallMs)) ?? false);
    if (days.size > 100_000) days.clear();
    days.set(day, business);
  }
  return business;
}

/** The time zone a lead's window is read in. */
export function windowZone(window: SendWindow, leadTimezone?: string): string {
  if (window.useLeadTimezone && leadTimezone && isValidTimeZone(leadTimezone)) return leadTimezone;
  return window.timezone;
}

/**
 * Whether marketing may send at `t`. With `offsetMs` (a lead's jitter, see `windowOffsetMs`) the
 * window opens that much later for the lead; its closing is unchanged. An offset of 0 is the
 * window as written.
 */
export function isWindowOpen(window: SendWindow, zone: string, t: number, offsetMs = 0): boolean {
  const w = wall(zone, t);
  const msOfDay = ((w % DAY) + DAY) % DAY;
  const minutes = Math.floor(msOfDay / MINUTE);
  if (!(minutes >= window.start && minutes < window.end && isBusinessDay(window, w))) return false;
  const shift = effectiveOffset(window, offsetMs);
  return shift === 0 || msOfDay >= window.start * MINUTE + shift || runsOnFromDayBefore(window, w);
}

/** `t` if the window is open then (for a lead with `offsetMs`), otherwise the moment it next opens. */
export function nextWindowOpening(window: SendWindow, zone: string, t: number, offsetMs = 0): number {
  if (isWindowOpen(window, zone, t, offsetMs)) return t;
  const shift = effectiveOffset(window, offsetMs);
  const w = wall(zone, t);
  let day = w - (((w % DAY) + DAY) % DAY);
  for (let i = 0; i < SEARCH_DAYS; i++, day += DAY) {
    if (!isBusinessDay(window, day)) continue;
    const opening = instant(zone, day + window.start * MINUTE + shift);
    if (opening < t) continue;
    // Without an offset, decide exactly as enrolments started before the offset existed always have.
    if (shift === 0 || isWindowOpen(window, zone, opening, offsetMs)) return opening;
    // The lead's opening fell into a daylight-saving gap: the window opens when the clock jumps past it.
    const jump = firstInstantShowing(zone, opening, day + window.start * MINUTE + shift);
    if (isWindowOpen(window, zone, jump, offsetMs)) return jump;
  }
  throw new Error('the send window never opens');
}

/** The first instant from `from` on (within 3 hours) at which the zone's clock shows `wallMs` or later. */
function firstInstantShowing(zone: string, from: number, wallMs: number): number {
  if (wall(zone, from) >= wallMs) return from;
  let before = from;
  let after = from + 3 * HOUR;
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (wall(zone, middle) >= wallMs) after = middle;
    else before = middle;
  }
  return after;
}

/**
 * An all-day window on two business days in a row never closes at midnight, so midnight is no
 * opening there and the offset does not apply.
 */
function runsOnFromDayBefore(window: SendWindow, wallMs: number): boolean {
  return window.start === 0 && window.end === 24 * 60 && isBusinessDay(window, wallMs - DAY);
}

/**
 * The offset as applied: never so large that the window stays shut (an offset is fixed at
 * enrolment; validation keeps the spread shorter than the window).
 */
function effectiveOffset(window: SendWindow, offsetMs: number): number {
  return Math.max(0, Math.min(offsetMs, businessDayMs(window) - SECOND));
}

/** Default spread of the openings for an enrolment with jitter: 30 minutes, at most half the window. */
export const DEFAULT_WINDOW_SPREAD_MS = 30 * MINUTE;

/** The spread of this window's openings: the campaign's `send_window.spread`, or the default. */
export function windowSpreadMs(window: SendWindow): number {
  return window.spreadMs ?? Math.min(DEFAULT_WINDOW_SPREAD_MS, businessDayMs(window) / 2);
}

/**
 * A lead's offset on the window's openings: whole seconds in [0, spread), fixed by its id, so
 * that the leads waiting for one opening do not all wake at the same instant.
 */
export function windowOffsetMs(window: SendWindow, leadId: string): number {
  const slots = Math.floor(windowSpreadMs(window) / SECOND);
  return slots > 1 ? (leadHash(leadId) % slots) * SECOND : 0;
}

/**
 * FNV-1a of the id, then murmur3's finaliser: ids that differ only in their last character
 * (lead-1, lead-2, …) still land far apart. Plain arithmetic: this runs in the workflow sandbox.
 */
function leadHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The instant `businessMs` of working time after `start` (working time = the window's hours). SLA
 * deadlines use the window as written: no lead's offset applies.
 */
export function addBusinessTime(window: SendWindow, zone: string, start: number, businessMs: number): number {
  let remaining = businessMs;
  let t = nextWindowOpening(window, zone, start);
  for (let guard = 0; guard < SEARCH_DAYS * 2; guard++) {
    const w = wall(zone, t);
    const closing = instant(zone, w - (((w % DAY) + DAY) % DAY) + window.end * MINUTE);
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

/** The instant at which the local clock shows `hhmm` on the local date of `t`. */
export function atTimeOfDay(zone: string, t: number, hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  const w = wall(zone, t);
  return instant(zone, w - (((w % DAY) + DAY) % DAY) + (hours * 60 + minutes) * MINUTE);
}

/** The instant a local date (YYYY-MM-DD) begins in the zone. */
export function startOfLocalDate(zone: string, date: string): number {
  return instant(zone, Date.parse(`${date}T00:00:00Z`));
}

/** The next time the local clock shows `hhmm` (strictly after `t`). */
export function nextTimeOfDay(zone: string, t: number, hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  const w = wall(zone, t);
  const today = w - (((w % DAY) + DAY) % DAY);
  let candidate = instant(zone, today + (hours * 60 + minutes) * MINUTE);
  if (candidate <= t) candidate = instant(zone, today + DAY + (hours * 60 + minutes) * MINUTE);
  return candidate;
}
