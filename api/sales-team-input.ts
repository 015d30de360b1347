// What a user may say about a sales pool or rep — from the API's JSON or a row of a team CSV —
// checked field by field: every problem names its field, and nothing is stored while one remains.
import { parseRoutingRules } from '../campaign/schema';
import { knownHolidayCountry } from '../campaign/holidays';
import { isValidTimeZone } from '../campaign/calendar';
import type { SalesPoolInput, SalesRepChange } from '../db/sales-team';

export interface FieldProblem {
  field: string;
  message: string;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** 'mon'…'sun' or ISO numbers 1–7, as a list or 'mon-fri' / '1-5'. */
export function parseWeekdays(value: unknown): number[] | undefined {
  const dayOf = (item: unknown) => {
    const text = String(item).trim().toLowerCase();
    const named = DAY_NAMES.indexOf(text.slice(0, 3));
    if (named >= 0 && DAY_NAMES.some((name) => text.startsWith(name))) return named + 1;
    return /^[1-7]$/.test(text) ? Number(text) : undefined;
  };
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === 'string' && /^\s*\w+\s*-\s*\w+\s*$/.test(value)) {
    const [from, to] = value.split('-').map(dayOf);
    if (from === undefined || to === undefined || from > to) return undefined;
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  } else if (typeof value === 'string') items = value.split(/[;,\s]+/).filter(Boolean);
  else return undefined;
  const days = items.map(dayOf);
  if (days.length === 0 || days.some((day) => day === undefined)) return undefined;
  return [...new Set(days as number[])].sort();
}

/** 'HH:MM' → minutes after midnight ('24:00' allowed as an end). */
export function parseClock(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^([01]?\d|2[0-4]):([0-5]\d)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes <= 1440 ? minutes : undefined;
}

export const formatClock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

interface Hours {
  days?: unknown;
  start?: unknown;
  end?: unknown;
}

function hoursOf(raw: Hours | undefined, field: string, problems: FieldProblem[]): { workDays?: number[]; workStart?: number; workEnd?: number } {
  if (raw === undefined) return {};
  const workDays = raw.days === undefined ? undefined : parseWeekdays(raw.days);
  if (raw.days !== undefined && !workDays) problems.push({ field: `${field}.days`, message: "expected weekdays like ['mon', 'tue'], 'mon-fri' or ISO numbers 1–7" });
  const workStart = raw.start === undefined ? undefined : parseClock(raw.start);
  if (raw.start !== undefined && workStart === undefined) problems.push({ field: `${field}.start`, message: `expected a time like 09:00, got ${JSON.stringify(raw.start)}` });
  const workEnd = raw.end === undefined ? undefined : parseClock(raw.end);
  if (raw.end !== undefined && workEnd === undefined) problems.push({ field: `${field}.end`, message: `expected a time like 18:00, got ${JSON.stringify(raw.end)}` });
  if (workStart !== undefined && workEnd !== undefined && workStart >= workEnd) problems.push({ field: `${field}.end`, message: 'must be after start' });
  return { ...(workDays && { workDays }), ...(workStart !== undefined && { workStart }), ...(workEnd !== undefined && { workEnd }) };
}

function timezoneOf(value: unknown, field: string, problems: FieldProblem[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !isValidTimeZone(value)) {
    problems.push({ field, message: `expected an IANA time zone like Asia/Tokyo, got ${JSON.stringify(value)}` });
    return undefined;
  }
  return value;
}

export interface PoolBody {
  manager_email?: string;
  manager_name?: string;
  timezone?: string;
  working_hours?: Hours;
  holidays?: string | null;
  holiday_dates?: string[];
  routing?: unknown[];
}

export function poolInputOf(name: string, body: PoolBody): { pool?: SalesPoolInput; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const timezone = timezoneOf(body.timezone, 'timezone', problems);
  const hours = hoursOf(body.working_hours, 'working_hours', problems);
  if (body.holidays && !knownHolidayCountry(body.holidays)) problems.push({ field: 'holidays', message: `no public-holiday calendar for "${body.holidays}" (expected a country code like JP, US, DE)` });
  for (const [i, date] of (body.holiday_dates ?? []).entries()) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) problems.push({ field: `holiday_dates[${i}]`, message: `expected a date YYYY-MM-DD, got ${JSON.stringify(date)}` });
  }
  const routing = body.routing === undefined ? undefined : parseRoutingRules(body.routing);
  for (const error of routing?.errors ?? []) problems.push({ field: error.path, message: error.message });
  if (problems.length) return { problems };
  return {
    problems,
    pool: {
      name,
      managerEmail: body.manager_email!,
      ...(body.manager_name !== undefined && { managerName: body.manager_name }),
      ...(timezone && { timezone }),
      ...hours,
      ...(body.holidays !== undefined && { holidays: body.holidays ? body.holidays.toUpperCase() : null }),
      ...(body.holiday_dates && { holidayDates: body.holiday_dates }),
      ...(routing?.rules && { routing: routing.rules }),
    },
  };
}

export interface RepBody {
  email?: string;
  name?: string;
  pool?: string;
  territories?: string[];
  products?: string[];
  languages?: string[];
  weight?: number;
  capacity?: number | null;
  timezone?: string | null;
  working_hours?: Hours | null;
  active?: boolean;
}

/** The rep's fields as given (a change: only those present). */
export function repChangeOf(body: RepBody): { change?: SalesRepChange; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const timezone = timezoneOf(body.timezone, 'timezone', problems);
  const hours = body.working_hours === null ? { workDays: null, workStart: null, workEnd: null } : hoursOf(body.working_hours, 'working_hours', problems);
  if (body.working_hours && (hours as { workStart?: number }).workStart === undefined !== ((hours as { workEnd?: number }).workEnd === undefined)) {
    problems.push({ field: 'working_hours', message: 'give both start and end' });
  }
  const list = (values: string[] | undefined) => values?.map((value) => value.trim()).filter(Boolean);
  if (problems.length) return { problems };
  const change: SalesRepChange = {
    ...(body.email !== undefined && { email: body.email }),
    ...(body.name !== undefined && { name: body.name }),
    ...(body.pool !== undefined && { pool: body.pool }),
    ...(body.territories && { territories: list(body.territories) }),
    ...(body.products && { products: list(body.products) }),
    ...(body.languages && { languages: list(body.languages) }),
    ...(body.weight !== undefined && { weight: body.weight }),
    ...(body.capacity !== undefined && { capacity: body.capacity }),
    ...(body.timezone !== undefined && { timezone: timezone ?? null }),
    ...(hours as SalesRepChange),
    ...(body.active !== undefined && { active: body.active }),
  };
  return { change, problems };
}

/** The columns of a team CSV (a header row names them; lists separated by ';'). */
export const TEAM_CSV_COLUMNS = ['email', 'name', 'pool', 'territories', 'products', 'languages', 'weight', 'capacity', 'timezone', 'working_days', 'working_hours', 'active'] as const;

/** A team CSV row as a rep body, or the problems of its cells (field = column name). */
export function repBodyOfCsvRow(row: Record<string, string>): { body?: RepBody; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const cell = (column: string) => row[column]?.trim() || undefined;
  const list = (column: string) => cell(column)?.split(/[;|]/).map((value) => value.trim()).filter(Boolean);
  for (const column of ['email', 'name', 'pool']) if (!cell(column)) problems.push({ field: column, message: 'is required' });
  const email = cell('email');
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.push({ field: 'email', message: `expected an email address, got "${email}"` });
  const number = (column: string, min: number, max: number) => {
    const text = cell(column);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push({ field: column, message: `expected a whole number from ${min} to ${max}, got "${text}"` });
      return undefined;
    }
    return value;
  };
  const weight = number('weight', 1, 100);
  const capacity = number('capacity', 1, 100_000);
  const activeText = cell('active')?.toLowerCase();
  if (activeText !== undefined && !['true', 'false', 'yes', 'no', '1', '0'].includes(activeText)) problems.push({ field: 'active', message: `expected true or false, got "${cell('active')}"` });
  const hoursText = cell('working_hours');
  const [start, end] = hoursText?.split('-') ?? [];
  if (hoursText !== undefined && end === undefined) problems.push({ field: 'working_hours', message: `expected a range like 09:00-18:00, got "${hoursText}"` });
  const workingHours = hoursText !== undefined || cell('working_days') !== undefined ? { ...(cell('working_days') && { days: cell('working_days') }), ...(end !== undefined && { start, end }) } : undefined;
  if (problems.length) return { problems };
  return {
    problems,
    body: {
      email,
      name: cell('name'),
      pool: cell('pool'),
      ...(list('territories') && { territories: list('territories') }),
      ...(list('products') && { products: list('products') }),
      ...(list('languages') && { languages: list('languages') }),
      ...(weight !== undefined && { weight }),
      ...(capacity !== undefined && { capacity }),
      ...(cell('timezone') && { timezone: cell('timezone') }),
      ...(workingHours && { working_hours: workingHours }),
      ...(activeText !== undefined && { active: ['true', 'yes', '1'].includes(activeText) }),
    },
  };
}
