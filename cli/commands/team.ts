// `nurture team …`: the sales team over the API (/v1/sales/…): pools (manager, calendar,
// holidays), reps (what they cover, weight, capacity, own hours, active), absences, the team CSV
// import, each rep's personal page link and the desk's overview. Option values are checked here
// (the parsers below, used by cli/nurture.ts) before any request; what only the API can judge
// (an unknown pool, an existing email) comes back as its message, with the option it concerns.
import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { DateTime } from 'luxon';
import { formatClock, parseClock, parseWeekdays } from '../../api/sales-team-input';
import { isValidTimeZone } from '../../campaign/calendar';
import { knownHolidayCountry } from '../../campaign/holidays';
import { apiRequest, CliError, resolveApiConfig, runCommand, unexpected, type ApiConfig, type ApiOptions, type ApiResponse } from '../api-client';
import { EXIT, type CommandOutput } from '../exit-codes';
import { table } from './stats';

// ——— option values ———

const WHOLE = /^\d{1,9}$/;

export function parseWeight(value: string): number {
  const n = Number(value);
  if (!WHOLE.test(value.trim()) || n < 1 || n > 100) throw new InvalidArgumentError('expected a whole number from 1 to 100');
  return n;
}

export function parseCapacity(value: string): number {
  const n = Number(value);
  if (!WHOLE.test(value.trim()) || n < 1 || n > 100_000) throw new InvalidArgumentError('expected a whole number of open handoffs from 1 to 100000 (--no-capacity for no limit)');
  return n;
}

/** 'a,b' → ['a', 'b']; '' → [] (clears the list). */
export function parseList(value: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length > 200 || items.some((item) => item.length > 100)) throw new InvalidArgumentError('expected at most 200 comma-separated values of up to 100 characters');
  return items;
}

/** ISO weekdays 1–7. */
export function parseDays(value: string): number[] {
  const days = parseWeekdays(value);
  if (!days) throw new InvalidArgumentError('expected weekdays like mon-fri, mon,wed,fri or ISO numbers 1-5');
  return days;
}

export interface Hours {
  start: string;
  end: string;
}

/** '09:00-18:00' → { start: '09:00', end: '18:00' }. */
export function parseHours(value: string): Hours {
  const [from, to, ...rest] = value.split('-');
  const start = parseClock(from);
  const end = parseClock(to);
  if (rest.length || start === undefined || end === undefined) throw new InvalidArgumentError('expected a range like 09:00-18:00');
  if (start >= end) throw new InvalidArgumentError('the end must be after the start, e.g. 09:00-18:00');
  return { start: formatClock(start), end: formatClock(end) };
}

export function parseTimeZone(value: string): string {
  if (!isValidTimeZone(value)) throw new InvalidArgumentError('expected an IANA time zone like Asia/Tokyo or Europe/Berlin');
  return value;
}

export function parseHolidayCountry(value: string): string {
  if (!/^[A-Za-z]{2,3}$/.test(value) || !knownHolidayCountry(value)) throw new InvalidArgumentError('expected a country code with a public-holiday calendar, like JP, US, DE');
  return value.toUpperCase();
}

/** '2026-12-29,2026-12-30' → the dates; '' → [] (clears them). */
export function parseDates(value: string): string[] {
  const dates = parseList(value);
  const bad = dates.find((date) => !/^\d{4}-\d{2}-\d{2}$/.test(date) || !DateTime.fromISO(date, { zone: 'UTC' }).isValid);
  if (bad !== undefined) throw new InvalidArgumentError(`expected comma-separated dates YYYY-MM-DD, not '${bad}'`);
  return dates;
}

/** Whether a date-time names its offset (Z, +09:00); a date alone never does. */
const hasOffset = (text: string) => /T.*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(text);

/** An ISO date (2026-08-03) or date-time (2026-08-03T09:00, with or without an offset). */
export function parseMoment(value: string): string {
  const text = value.trim().replace(' ', 'T');
  const shaped = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i.test(text);
  if (!shaped || !DateTime.fromISO(text, { zone: 'UTC' }).isValid) {
    throw new InvalidArgumentError('expected an ISO date or date-time, e.g. 2026-08-03, 2026-08-03T09:00 or 2026-08-03T09:00+09:00');
  }
  return text;
}

export function parseEmail(value: string): string {
  if (value.length > 320 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) throw new InvalidArgumentError('expected an email address');
  return value;
}

export function parsePoolName(value: string): string {
  if (!/^[A-Za-z0-9][\w.-]{0,99}$/.test(value)) throw new InvalidArgumentError('expected a pool name of letters, digits, _, . and - (starting with a letter or digit, at most 100)');
  return value;
}

// ——— what the API answers ———

interface PoolView {
  name: string;
  manager: { name: string | null; email: string };
  timezone: string;
  working_hours: { days: number[]; start: string; end: string };
  holidays: string | null;
  holiday_dates: string[];
  routing: unknown[];
}

interface RepView {
  id: string;
  email: string;
  name: string;
  pool: string;
  territories: string[];
  products: string[];
  languages: string[];
  weight: number;
  capacity: number | null;
  timezone: string | null;
  /** The rep's own hours; null, or a null part, is the pool's. */
  working_hours: { days: number[] | null; start: string | null; end: string | null } | null;
  active: boolean;
  available: boolean;
  unavailable_reason: string | null;
  open_handoffs: number;
  absences: { id: number; starts_at: string; ends_at: string; note: string | null }[];
}

interface DeskHandoff {
  id: string;
  lead_id: string;
  lead_email: string | null;
  campaign_id: string;
  pool: string | null;
  owner: { id: string; name: string; email: string } | null;
  unassigned_reason: string | null;
  score: number;
  first_contact_due: string;
  created_at: string;
}

interface Desk {
  reps: {
    id: string;
    name: string;
    email: string;
    pool: string;
    active: boolean;
    weight: number;
    capacity: number | null;
    away_until: string | null;
    open: number;
    overdue: number;
    answered: number;
    answered_in_time: number;
    sla_rate: number | null;
  }[];
  unassigned: DeskHandoff[];
  overdue: DeskHandoff[];
}

// ——— options ———

export interface TeamOptions extends ApiOptions {
  json?: boolean;
}

export interface PoolOptions extends TeamOptions {
  managerEmail?: string;
  managerName?: string;
  timezone?: string;
  days?: number[];
  hours?: Hours;
  /** A country code, or false (--no-holidays) for none. */
  holidays?: string | false;
  holidayDates?: string[];
}

export interface RepOptions extends TeamOptions {
  name?: string;
  pool?: string;
  territories?: string[];
  products?: string[];
  languages?: string[];
  weight?: number;
  /** false (--no-capacity): no limit. */
  capacity?: number | false;
  timezone?: string;
  days?: number[];
  hours?: Hours;
  /** The pool's time zone / working hours again instead of the rep's own. */
  poolTimezone?: boolean;
  poolHours?: boolean;
  active?: boolean;
  inactive?: boolean;
}

export interface RepsOptions extends TeamOptions {
  pool?: string;
}

export interface AwayOptions extends TeamOptions {
  until: string;
  from?: string;
  note?: string;
}

// ——— shared ———

const poolPath = (name: string) => `/sales/pools/${encodeURIComponent(name)}`;
const repPath = (rep: string, rest = '') => `/sales/reps/${encodeURIComponent(rep)}${rest}`;

function send(config: ApiConfig, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  return apiRequest(config, method, path, body === undefined ? {} : { body: JSON.stringify(body), contentType: 'application/json' });
}

/** The option of this command a field of the API's body comes from. */
const OPTION_OF: Record<string, string> = {
  manager_email: '--manager-email',
  manager_name: '--manager-name',
  timezone: '--timezone',
  working_hours: '--hours',
  'working_hours.days': '--days',
  'working_hours.start': '--hours',
  'working_hours.end': '--hours',
  holidays: '--holidays',
  holiday_dates: '--holiday-dates',
  name: '--name',
  pool: '--pool',
  territories: '--territories',
  products: '--products',
  languages: '--languages',
  weight: '--weight',
  capacity: '--capacity',
  active: '--active/--inactive',
  starts_at: '--from',
  ends_at: '--until',
};
const optionOf = (field: string) => OPTION_OF[field.replace(/\[\d+\]$/, '')] ?? field;

/**
 * The API's refusal as a message (exit 1): a 422 lists each problem with its option; a 404 names
 * what is missing; anything else as `unexpected` has it (network-ish statuses exit 3).
 */
function refused(config: ApiConfig, what: string, response: ApiResponse): CliError {
  const error = response.error;
  if (response.status === 422 && error) {
    const problems = (error.details as { problems?: { field: string; message: string }[] } | undefined)?.problems;
    if (Array.isArray(problems) && problems.length) {
      const lines = problems.map((p) => `  ${optionOf(p.field)}: ${p.message.replace(/"([^"]+)" \(create it first: PUT [^)]*\)/, '"$1" (create it with: nurture team pool $1 --manager-email <email>)')}`);
      return new CliError([`${what}: refused`, ...lines].join('\n'), EXIT.invalid);
    }
    return new CliError(`${what}: ${error.message}`, EXIT.invalid);
  }
  if ((response.status === 404 || response.status === 409) && error) return new CliError(`${what}: ${error.message}`, EXIT.invalid);
  return unexpected(config, what, response);
}

const noRep = (config: ApiConfig, rep: string) => new CliError(`no rep ${rep} at ${config.baseUrl} (list them with: nurture team reps)`, EXIT.invalid);
const noPool = (config: ApiConfig, name: string) => new CliError(`no pool ${name} at ${config.baseUrl} (create it with: nurture team pool ${name} --manager-email <email>)`, EXIT.invalid);

/** The API's answer as it came, for scripts (--json). */
function printJson(out: CommandOutput, body: unknown): number {
  out.log(JSON.stringify(body, null, 2));
  return EXIT.ok;
}

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** [1,2,3,4,5] → 'mon-fri'; [1,3,5] → 'mon,wed,fri': runs of three or more as ranges. */
export function dayList(days: number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const name = (day: number) => DAY_NAMES[day - 1] ?? String(day);
    if (j - i >= 2) parts.push(`${name(sorted[i]!)}-${name(sorted[j]!)}`);
    else for (let k = i; k <= j; k++) parts.push(name(sorted[k]!));
    i = j + 1;
  }
  return parts.join(',');
}

/** An instant as 'YYYY-MM-DD HH:MM UTC'. */
export const when = (iso: string) => `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** ISO instants inside the API's texts (e.g. 'out of office until …') made readable. */
const readable = (text: string) => text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, when);

/** A duration as '3 d 4 h', '2 h 5 min' or '7 min'. */
export function duration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d) return `${d} d${h ? ` ${h} h` : ''}`;
  if (h) return `${h} h${m ? ` ${m} min` : ''}`;
  return `${m} min`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const poolHours = (pool: PoolView) => `${dayList(pool.working_hours.days)} ${pool.working_hours.start}-${pool.working_hours.end}`;
const poolHolidays = (pool: PoolView) =>
  [pool.holidays, pool.holiday_dates.length ? `${plural(pool.holiday_dates.length, 'date')}` : ''].filter(Boolean).join(' + ') || '–';
const manager = (pool: PoolView) => (pool.manager.name ? `${pool.manager.name} <${pool.manager.email}>` : pool.manager.email);

function poolLines(pool: PoolView): string[] {
  return [
    `pool ${pool.name}`,
    `  manager   ${manager(pool)}`,
    `  hours     ${poolHours(pool)} ${pool.timezone}`,
    `  holidays  ${pool.holidays ? `${pool.holidays} public holidays` : 'no country'}${pool.holiday_dates.length ? `; also ${pool.holiday_dates.join(', ')}` : ''}`,
    `  routing   ${pool.routing.length ? plural(pool.routing.length, 'rule') : 'weighted round robin over every rep'}`,
  ];
}

const repLoad = (rep: { open_handoffs: number; capacity: number | null }) => `${rep.open_handoffs}/${rep.capacity ?? 'no limit'}`;
const repStatus = (rep: RepView) => (rep.available ? 'available' : readable(rep.unavailable_reason ?? 'unavailable'));

function repLines(rep: RepView): string[] {
  const covers = (
    [
      ['territories', rep.territories],
      ['products', rep.products],
      ['languages', rep.languages],
    ] as const
  )
    .filter(([, values]) => values.length)
    .map(([what, values]) => `${what} ${values.join(', ')}`)
    .join('; ');
  // The rep's own days, hours and time zone where set, each else the pool's.
  const own = rep.working_hours;
  const hours = own
    ? `${own.days?.length ? dayList(own.days) : "the pool's days"} ${own.start ? `${own.start}-${own.end}` : "the pool's hours"}, ${rep.timezone ?? "in the pool's time zone"}`
    : `the pool's days and hours, ${rep.timezone ? `in ${rep.timezone}` : "in the pool's time zone"}`;
  return [
    `rep ${rep.name} <${rep.email}>  pool ${rep.pool}  id ${rep.id}`,
    `  covers    ${covers || 'anything (no territory, product or language given)'}`,
    `  load      weight ${rep.weight}; ${plural(rep.open_handoffs, 'open handoff')} ${rep.capacity === null ? '(no limit)' : `of ${rep.capacity}`}`,
    `  hours     ${hours}`,
    `  status    ${repStatus(rep)}`,
    ...rep.absences.map((a) => `  away      ${when(a.starts_at)} → ${when(a.ends_at)}${a.note ? `  ${a.note}` : ''}  (absence ${a.id})`),
  ];
}

// ——— pools ———

export async function teamPoolsCommand(options: TeamOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const response = await send(config, 'GET', '/sales/pools');
    if (response.status !== 200) throw refused(config, 'listing the sales pools', response);
    const { pools } = response.body as { pools: PoolView[] };
    if (options.json) return printJson(out, response.body);
    if (pools.length === 0) {
      out.log('no sales pool yet; create one with: nurture team pool <name> --manager-email <email>');
      return EXIT.ok;
    }
    for (const line of table(
      ['pool', 'manager', 'time zone', 'hours', 'holidays'],
      pools.map((pool) => [pool.name, manager(pool), pool.timezone, poolHours(pool), poolHolidays(pool)]),
      [],
    )) {
      out.log(line);
    }
    return EXIT.ok;
  });
}

/** Creates or changes the pool (PUT) with the options given; with none, shows it. */
export async function teamPoolCommand(name: string, options: PoolOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const body: Record<string, unknown> = {
      ...(options.managerName !== undefined && { manager_name: options.managerName }),
      ...(options.timezone !== undefined && { timezone: options.timezone }),
      ...((options.days || options.hours) && { working_hours: { ...(options.days && { days: options.days }), ...options.hours } }),
      ...(options.holidays !== undefined && { holidays: options.holidays || null }),
      ...(options.holidayDates !== undefined && { holiday_dates: options.holidayDates }),
    };
    const config = await resolveApiConfig(options);
    let managerEmail = options.managerEmail;
    if (managerEmail === undefined) {
      // A change needs the manager's email (the API requires it): the pool's own, when it exists.
      const current = await send(config, 'GET', poolPath(name));
      if (current.status === 404) {
        if (Object.keys(body).length === 0) throw noPool(config, name);
        throw new CliError(`pool ${name} does not exist yet: creating it needs --manager-email <email>`, EXIT.usage);
      }
      if (current.status !== 200) throw refused(config, `reading pool ${name}`, current);
      if (Object.keys(body).length === 0) {
        if (options.json) return printJson(out, current.body);
        for (const line of poolLines(current.body as PoolView)) out.log(line);
        return EXIT.ok;
      }
      managerEmail = (current.body as PoolView).manager.email;
    }
    const response = await send(config, 'PUT', poolPath(name), { manager_email: managerEmail, ...body });
    if (response.status !== 200 && response.status !== 201) throw refused(config, `saving pool ${name}`, response);
    if (options.json) return printJson(out, response.body);
    out.log(`pool ${name} ${response.status === 201 ? 'created' : 'changed'}`);
    for (const line of poolLines(response.body as PoolView).slice(1)) out.log(line);
    return EXIT.ok;
  });
}

// ——— reps ———

export async function teamRepsCommand(options: RepsOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const response = await send(config, 'GET', `/sales/reps${options.pool !== undefined ? `?pool=${encodeURIComponent(options.pool)}` : ''}`);
    if (response.status !== 200) throw refused(config, 'listing the reps', response);
    const { reps } = response.body as { reps: RepView[] };
    if (options.json) return printJson(out, response.body);
    if (reps.length === 0) {
      out.log(options.pool !== undefined ? `no rep in pool ${options.pool}` : 'no rep yet; add one with: nurture team add <email> --name <name> --pool <pool>');
      return EXIT.ok;
    }
    for (const line of table(
      ['email', 'name', 'pool', 'weight', 'open/capacity', 'status'],
      reps.map((rep) => [rep.email, rep.name, rep.pool, String(rep.weight), repLoad(rep), repStatus(rep)]),
      [3],
    )) {
      out.log(line);
    }
    return EXIT.ok;
  });
}

/** The rep fields given as options, as the API's body (only those given). */
function repBody(options: RepOptions): Record<string, unknown> {
  if (options.active && options.inactive) throw new CliError('give --active or --inactive, not both', EXIT.usage);
  if (options.poolHours && (options.days || options.hours)) throw new CliError("give --days/--hours or --pool-hours, not both", EXIT.usage);
  if (options.poolTimezone && options.timezone !== undefined) throw new CliError('give --timezone or --pool-timezone, not both', EXIT.usage);
  return {
    ...(options.name !== undefined && { name: options.name }),
    ...(options.pool !== undefined && { pool: options.pool }),
    ...(options.territories && { territories: options.territories }),
    ...(options.products && { products: options.products }),
    ...(options.languages && { languages: options.languages }),
    ...(options.weight !== undefined && { weight: options.weight }),
    ...(options.capacity !== undefined && { capacity: options.capacity === false ? null : options.capacity }),
    ...(options.timezone !== undefined && { timezone: options.timezone }),
    ...(options.poolTimezone && { timezone: null }),
    ...((options.days || options.hours) && { working_hours: { ...(options.days && { days: options.days }), ...options.hours } }),
    ...(options.poolHours && { working_hours: null }),
    ...(options.active && { active: true }),
    ...(options.inactive && { active: false }),
  };
}

export async function teamAddCommand(email: string, options: RepOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    if (!options.name || !options.pool) throw new CliError('a new rep needs --name <name> and --pool <pool>', EXIT.usage);
    const body = { email, ...repBody(options) };
    const config = await resolveApiConfig(options);
    const response = await send(config, 'POST', '/sales/reps', body);
    if (response.status === 409 && response.error) {
      throw new CliError(`cannot add ${email}: already a rep; change them with: nurture team set ${email} …`, EXIT.invalid);
    }
    if (response.status !== 201) throw refused(config, `adding ${email}`, response);
    if (options.json) return printJson(out, response.body);
    const rep = response.body as RepView;
    out.log(`added ${rep.email} to pool ${rep.pool}`);
    for (const line of repLines(rep)) out.log(line);
    return EXIT.ok;
  });
}

export async function teamSetCommand(rep: string, options: RepOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const body = repBody(options);
    if (Object.keys(body).length === 0) throw new CliError(`nothing to change for ${rep}: give an option (see nurture team set --help)`, EXIT.usage);
    const config = await resolveApiConfig(options);
    const response = await send(config, 'PATCH', repPath(rep), body);
    if (response.status === 404 && response.error?.code === 'not_found') throw noRep(config, rep);
    if (response.status !== 200) throw refused(config, `changing ${rep}`, response);
    if (options.json) return printJson(out, response.body);
    const saved = response.body as RepView;
    out.log(`changed ${saved.email}: ${Object.keys(body).join(', ')}`);
    for (const line of repLines(saved)) out.log(line);
    return EXIT.ok;
  });
}

/**
 * The instant an --until/--from means: with an offset as given; a date or a date-time without one
 * in the rep's time zone (their own, else their pool's), a date at the start of that day.
 */
async function instantsOf(config: ApiConfig, rep: string, texts: string[]): Promise<{ instants: Date[]; zone?: string }> {
  let zone: string | undefined;
  if (!texts.every(hasOffset)) {
    const found = await send(config, 'GET', repPath(rep));
    if (found.status === 404 && found.error?.code === 'not_found') throw noRep(config, rep);
    if (found.status !== 200) throw refused(config, `reading ${rep}`, found);
    const view = found.body as RepView;
    zone = view.timezone ?? undefined;
    if (!zone) {
      const pool = await send(config, 'GET', poolPath(view.pool));
      if (pool.status !== 200) throw refused(config, `reading pool ${view.pool}`, pool);
      zone = (pool.body as PoolView).timezone;
    }
  }
  return { instants: texts.map((text) => DateTime.fromISO(text, { zone: zone ?? 'UTC' }).toJSDate()), zone };
}

export async function teamAwayCommand(rep: string, options: AwayOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const { instants, zone } = await instantsOf(config, rep, [options.until, ...(options.from !== undefined ? [options.from] : [])]);
    const [until, from] = instants as [Date, Date | undefined];
    if (until.getTime() <= (from ?? new Date()).getTime()) {
      throw new CliError(`--until ${options.until} (${when(until.toISOString())}) must be after ${from ? `--from (${when(from.toISOString())})` : 'now'}`, EXIT.usage);
    }
    const response = await send(config, 'POST', repPath(rep, '/absences'), {
      ...(from && { starts_at: from.toISOString() }),
      ends_at: until.toISOString(),
      ...(options.note !== undefined && { note: options.note }),
    });
    if (response.status === 404 && response.error?.code === 'not_found') throw noRep(config, rep);
    if (response.status !== 201) throw refused(config, `marking ${rep} away`, response);
    if (options.json) return printJson(out, response.body);
    const saved = response.body as RepView;
    out.log(`${saved.email} is away ${from ? `from ${when(from.toISOString())}` : 'from now'} until ${when(until.toISOString())}${zone ? ` (dates read in ${zone})` : ''}`);
    for (const line of repLines(saved)) out.log(line);
    return EXIT.ok;
  });
}

export async function teamBackCommand(rep: string, options: TeamOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const response = await send(config, 'POST', repPath(rep, '/back'));
    if (response.status === 404 && response.error?.code === 'not_found') throw noRep(config, rep);
    if (response.status !== 200) throw refused(config, `marking ${rep} back`, response);
    if (options.json) return printJson(out, response.body);
    const saved = response.body as RepView;
    out.log(`${saved.email} is back: absences ended, active`);
    for (const line of repLines(saved)) out.log(line);
    return EXIT.ok;
  });
}

export async function teamLinkCommand(rep: string, options: TeamOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const response = await send(config, 'POST', repPath(rep, '/link'));
    if (response.status === 404 && response.error?.code === 'not_found') throw noRep(config, rep);
    if (response.status !== 200) throw refused(config, `making a link for ${rep}`, response);
    if (options.json) return printJson(out, response.body);
    const link = response.body as { url: string; expires_at: string };
    out.log(link.url);
    out.log(`expires ${when(link.expires_at)} (in ${duration(new Date(link.expires_at).getTime() - Date.now())}); anyone with the link sees the rep's open handoffs and can answer them`);
    return EXIT.ok;
  });
}

// ——— import ———

const IMPORT_LIMIT = 1024 * 1024;

export async function teamImportCommand(file: string, options: TeamOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    let text: string;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      if (info.size > IMPORT_LIMIT) throw new Error(`${(info.size / 1024 / 1024).toFixed(1)} MB; a team import may be at most 1 MB`);
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.invalid);
    }
    const config = await resolveApiConfig(options);
    const response = await apiRequest(config, 'POST', '/sales/import', { body: text, contentType: 'text/csv' });
    if (response.status === 422 && response.error) {
      const problems = (response.error.details as { problems?: { line: number; field: string; message: string }[] } | undefined)?.problems ?? [];
      if (problems.length === 0) out.error(`${file}: ${response.error.message}`);
      for (const p of problems.slice(0, 50)) out.error(`${file}: line ${p.line}, column ${p.field}: ${p.message}`);
      if (problems.length > 50) out.error(`  … and ${problems.length - 50} more`);
      out.error(`${file}: ${plural(problems.length || 1, 'problem')}; nothing was imported (a team import takes every row or none)`);
      return EXIT.invalid;
    }
    if (response.status === 400 && response.error) throw new CliError(`${file}: ${response.error.message}; nothing was imported`, EXIT.invalid);
    if (response.status !== 200) throw refused(config, `importing ${file}`, response);
    if (options.json) return printJson(out, response.body);
    const { created, updated } = response.body as { created: number; updated: number };
    out.log(`imported ${plural(created + updated, 'rep')} from ${file}: ${created} new, ${updated} updated`);
    return EXIT.ok;
  });
}

// ——— desk ———

export async function teamDeskCommand(options: TeamOptions, out: CommandOutput): Promise<number> {
  return runCommand(out, async () => {
    const config = await resolveApiConfig(options);
    const response = await send(config, 'GET', '/sales/desk');
    if (response.status !== 200) throw refused(config, 'reading the sales desk', response);
    if (options.json) return printJson(out, response.body);
    for (const line of deskReport(response.body as Desk)) out.log(line);
    return EXIT.ok;
  });
}

export function deskReport(desk: Desk, now = Date.now()): string[] {
  const status = (rep: Desk['reps'][number]) =>
    !rep.active ? 'inactive' : rep.away_until ? `away until ${when(rep.away_until)}` : rep.capacity !== null && rep.open >= rep.capacity ? 'at capacity' : 'available';
  const lead = (h: DeskHandoff) => h.lead_email ?? h.lead_id;
  return [
    'Reps (open handoffs now; first-contact SLA over the last 30 days)',
    ...(desk.reps.length === 0
      ? ['  no rep yet']
      : table(
          ['rep', 'pool', 'open', 'capacity', 'overdue', 'answered', 'in time', 'SLA', 'status'],
          desk.reps.map((rep) => [
            `${rep.name} <${rep.email}>`,
            rep.pool,
            String(rep.open),
            rep.capacity === null ? '–' : String(rep.capacity),
            String(rep.overdue),
            String(rep.answered),
            String(rep.answered_in_time),
            rep.sla_rate === null ? '–' : `${(100 * rep.sla_rate).toFixed(1)}%`,
            status(rep),
          ]),
          [2, 3, 4, 5, 6, 7],
        )),
    '',
    `Waiting for an owner (${desk.unassigned.length})`,
    ...(desk.unassigned.length === 0
      ? ['  none']
      : table(
          ['handoff', 'lead', 'campaign', 'pool', 'score', 'waiting', 'first contact due', 'why'],
          desk.unassigned.map((h) => [h.id, lead(h), h.campaign_id, h.pool ?? '–', String(h.score), duration(now - new Date(h.created_at).getTime()), when(h.first_contact_due), h.unassigned_reason ?? '–']),
          [4],
        )),
    '',
    `Overdue first contact (${desk.overdue.length})`,
    ...(desk.overdue.length === 0
      ? ['  none']
      : table(
          ['handoff', 'owner', 'lead', 'campaign', 'pool', 'score', 'was due', 'late by'],
          desk.overdue.map((h) => [h.id, h.owner ? `${h.owner.name} <${h.owner.email}>` : '–', lead(h), h.campaign_id, h.pool ?? '–', String(h.score), when(h.first_contact_due), duration(now - new Date(h.first_contact_due).getTime())]),
          [5],
        )),
  ];
}
