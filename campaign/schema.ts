// Checks a campaign as written (YAML or JSON, already parsed) and compiles it into the
// normalised `Campaign`. Every problem is reported with the path of the offending value, all
// at once, so a marketer can fix a file in one pass.
import { DateTime } from 'luxon';
import { CONDITION_FUNCTIONS, conditionProblem } from './conditions';
import { businessDayMs } from './calendar';
import { formatDuration, parseDuration, parseSlaDuration } from './duration';
import { calendarDates, datesBetween, SHARED_CALENDARS } from './holidays';
import type { AbSettings, AssignmentRule, Campaign, CampaignError, DateRef, HandoffConfig, RepMatch, RoutingRule, SendWindow, SlaDuration, Stage, Step, Trigger, Variant } from './types';
import { DEFAULT_EXIT_ON, STAGES, TAGS_ATTRIBUTE, TRACK_REENTRY, type TrackReentry } from './types';
import Handlebars from 'handlebars';
import { closest } from './suggest';
import { eachStep, loopsWithoutWait } from './step-graph';
import { campaignWarnings } from './lint';

type Raw = Record<string, unknown>;

const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** What compiling may check beyond the file itself (the caller's I/O, kept out of this module). */
export interface CompileOptions {
  /** Whether an email template of this name exists; unchecked when absent. */
  templateExists?: (name: string) => boolean;
  /** Event types received so far (the database's), for warnings about misspelt types. */
  knownEventTypes?: readonly string[];
  /** Lead attributes seen so far (dotted paths, e.g. company.name), for warnings about misspelt attributes. */
  knownAttributes?: readonly string[];
}

/** The longest duration a campaign may name: anything longer is a typo, not a plan. */
const MAX_DURATION_MS = 10 * 365 * 86_400_000;

class Checker {
  readonly errors: CampaignError[] = [];
  /** The campaign's time zone, once read (a step's own send window defaults to it). */
  campaignZone = 'UTC';
  /** The campaign's consent purpose, once read (what `withdraw_consent: true` withdraws). */
  campaignConsent = '';

  constructor(private readonly options: CompileOptions = {}) {}

  fail(path: string, message: string, suggestion?: string): undefined {
    this.errors.push({ path, message, ...(suggestion && { suggestion }) });
    return undefined;
  }

  /** true or false, nothing else: "no" or "false" in quotes would otherwise read as true. */
  boolean(path: string, value: unknown, fallback: boolean): boolean | undefined {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') return this.fail(path, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  object(path: string, value: unknown, required = true): Raw | undefined {
    if (value === undefined && !required) return undefined;
    if (value === undefined) return this.fail(path, 'is required');
    if (!value || typeof value !== 'object' || Array.isArray(value)) return this.fail(path, 'expected a mapping');
    return value as Raw;
  }

  list(path: string, value: unknown, required = true): unknown[] | undefined {
    if (value === undefined && !required) return undefined;
    if (!Array.isArray(value)) return this.fail(path, value === undefined ? 'is required' : 'expected a list');
    // A sparse array (possible from JavaScript callers, never from YAML or JSON) gets its holes checked too.
    return Array.from(value);
  }

  text(path: string, value: unknown, required = true, pattern?: RegExp, what?: string): string | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.trim() === '') return this.fail(path, value === undefined ? 'is required' : 'expected text');
    if (pattern && !pattern.test(value)) return this.fail(path, `expected ${what ?? `text matching ${pattern}`}, got "${value}"`);
    return value;
  }

  number(path: string, value: unknown, required = true, min = -Infinity, max = Infinity): number | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(path, value === undefined ? 'is required' : 'expected a number');
    if (value < min || value > max) return this.fail(path, `expected a number between ${min} and ${max}, got ${value}`);
    return value;
  }

  duration(path: string, value: unknown, required = true): number | undefined {
    if (value === undefined && !required) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) return this.fail(path, `expected a duration like 5d, 12h or 30m${value === undefined ? '' : `, got ${JSON.stringify(value)}`}`);
    if (ms > MAX_DURATION_MS) return this.fail(path, `${JSON.stringify(value)} is longer than 10 years`);
    return ms;
  }

  condition(path: string, value: unknown, required = true): string | undefined {
    const source = this.text(path, value, required);
    if (source === undefined) return undefined;
    const problem = conditionProblem(source);
    return problem ? this.fail(path, `invalid condition: ${problem}`) : source;
  }

  eventType(path: string, value: unknown): string | undefined {
    return this.text(path, value, true, EVENT_TYPE, 'an event type like page.viewed');
  }

  template(path: string, value: unknown, required = true): string | undefined {
    const name = this.text(path, value, required, NAME, 'a template name');
    if (name && this.options.templateExists && !this.options.templateExists(name)) return this.fail(path, `no email template "${name}" (templates/${name}.mjml)`);
    return name;
  }

  unknownKeys(path: string, raw: Raw, allowed: string[]) {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) this.fail(path ? `${path}.${key}` : key, `unknown field; expected one of ${allowed.join(', ')}`, closest(key, allowed));
    }
  }
}

export function compileCampaign(input: unknown, options: CompileOptions = {}): { ok: true; campaign: Campaign; warnings: CampaignError[] } | { ok: false; errors: CampaignError[] } {
  const check = new Checker(options);
  const raw = check.object('', input);
  if (!raw) return { ok: false, errors: [{ path: '(root)', message: 'expected a campaign mapping' }] };
  check.unknownKeys('', raw, [
    'id', 'name', 'description', 'from', 'timezone', 'entry', 'consent', 'scoring', 'stages', 'triggers', 'tracks',
    'send_window', 'frequency_cap', 'qualify', 'handoff', 'exit_on', 'ab', 'events', 'track_reentry',
  ]);
  // The event types this campaign expects (optional): any other type it names is warned about.
  (check.list('events', raw.events, false) ?? []).forEach((type, i) => check.eventType(`events[${i}]`, type));

  const id = check.text('id', raw.id, true, NAME, 'lower-case letters, digits, - and _');
  const name = check.text('name', raw.name);
  const from = check.object('from', raw.from);
  if (from) check.unknownKeys('from', from, ['email', 'name']);
  const fromEmail = from && check.text('from.email', from.email, true, /^[^\s@<>"]+@[^\s@<>"]+$/, 'an email address');
  const fromName = from && check.text('from.name', from.name, false, /^[^\r\n"<>]*$/, 'a name without quotes, <, > or line breaks');
  const timezone = zone(check, 'timezone', raw.timezone ?? 'UTC');
  check.campaignZone = timezone ?? 'UTC';

  const entryRaw = check.object('entry', raw.entry);
  let entry: Campaign['entry'] | undefined;
  if (entryRaw) {
    check.unknownKeys('entry', entryRaw, ['on', 'where', 'reentry']);
    const on = check.eventType('entry.on', entryRaw.on);
    const where = check.condition('entry.where', entryRaw.where, false);
    const reentry = reentryRule(check, entryRaw.reentry);
    if (on && reentry) entry = { on, where, ...reentry };
  }
  const consent = check.text('consent', raw.consent, true, NAME, 'a consent purpose like marketing_email');
  check.campaignConsent = consent ?? '';

  const scoring = scoringOf(check, raw.scoring);
  const stages = stagesOf(check, raw.stages);
  const sendWindow = sendWindowOf(check, raw.send_window, timezone ?? 'UTC');
  const triggers = (check.list('triggers', raw.triggers, false) ?? []).map((t, i) => triggerOf(check, `triggers[${i}]`, t));
  const tracks = tracksOf(check, raw.tracks);
  const trackReentry = raw.track_reentry === undefined ? undefined : trackReentryOf(check, raw.track_reentry);
  const capRaw = check.object('frequency_cap', raw.frequency_cap, false);
  if (capRaw) check.unknownKeys('frequency_cap', capRaw, ['max', 'per']);
  const frequencyCap = capRaw && {
    max: check.number('frequency_cap.max', capRaw.max, true, 1, 1000),
    windowMs: check.duration('frequency_cap.per', capRaw.per),
  };
  const qualify = qualifyOf(check, raw.qualify);
  const handoff = raw.handoff === undefined ? undefined : handoffOf(check, raw.handoff, sendWindow);
  if (qualify && raw.handoff === undefined) check.fail('handoff', 'is required when qualify is given');
  const exitOn = (check.list('exit_on', raw.exit_on, false) ?? [...DEFAULT_EXIT_ON]).map((type, i) => check.eventType(`exit_on[${i}]`, type));
  const ab = abOf(check, raw.ab);

  if (tracks) {
    checkStepReferences(check, tracks, raw.handoff !== undefined);
    if (!check.errors.length) for (const path of loopsWithoutWait(tracks)) check.fail(path, 'this goto loops back without a wait or wait_for: every lead would go round at once until the step limit and exit; put a wait in the loop');
  }

  if (check.errors.length) return { ok: false, errors: check.errors };
  const campaign: Campaign = {
    id: id!,
    name: name!,
    from: fromName ? { name: fromName, email: fromEmail! } : { email: fromEmail! },
    entry: entry!,
    consent: consent!,
    scoring: scoring!,
    stages: stages!,
    triggers: triggers as Trigger[],
    tracks: tracks!,
    // Only when written, so that a campaign that does not say keeps its content hash.
    ...(trackReentry && { trackReentry }),
    sendWindow: sendWindow!,
    timezone: timezone!,
    ...(frequencyCap && { frequencyCap: frequencyCap as { max: number; windowMs: number } }),
    ...(qualify && { qualify }),
    ...(handoff && { handoff }),
    exitOn: exitOn as string[],
    ab: ab!,
  };
  return { ok: true, campaign, warnings: campaignWarnings(campaign, raw, options) };
}

/** `track_reentry: skip_sent` for every track, or per stage: `{ cold: resume, warm: restart }`. */
function trackReentryOf(check: Checker, value: unknown): Partial<Record<Stage, TrackReentry>> | undefined {
  const mode = (path: string, item: unknown) =>
    (TRACK_REENTRY as readonly unknown[]).includes(item) ? (item as TrackReentry) : check.fail(path, `expected ${TRACK_REENTRY.join(', ')}, got ${JSON.stringify(item)}`, typeof item === 'string' ? closest(item, TRACK_REENTRY) : undefined);
  if (typeof value === 'string') {
    const all = mode('track_reentry', value);
    return all && { cold: all, warm: all, hot: all };
  }
  const raw = check.object('track_reentry', value);
  if (!raw) return undefined;
  check.unknownKeys('track_reentry', raw, [...STAGES]);
  const modes: Partial<Record<Stage, TrackReentry>> = {};
  for (const stage of STAGES) {
    if (raw[stage] === undefined) continue;
    const chosen = mode(`track_reentry.${stage}`, raw[stage]);
    if (chosen) modes[stage] = chosen;
  }
  return modes;
}

function zone(check: Checker, path: string, value: unknown): string | undefined {
  const name = check.text(path, value);
  if (name && !DateTime.local({ zone: name }).isValid) return check.fail(path, `unknown time zone "${name}" (use an IANA name like Asia/Tokyo)`);
  return name;
}

function reentryRule(check: Checker, value: unknown): Pick<Campaign['entry'], 'reentry' | 'reentryAfterMs'> | undefined {
  if (value === undefined || value === 'never') return { reentry: 'never' };
  if (value === 'always') return { reentry: 'always' };
  const match = typeof value === 'string' ? /^after\s+(.+)$/.exec(value.trim()) : null;
  const ms = match ? parseDuration(match[1]) : undefined;
  if (!ms) return check.fail('entry.reentry', `expected never, always or "after <duration>" like "after 90d", got ${JSON.stringify(value)}`);
  return { reentry: 'after', reentryAfterMs: ms };
}

function scoringOf(check: Checker, value: unknown): Campaign['scoring'] | undefined {
  const raw = check.object('scoring', value);
  if (!raw) return undefined;
  check.unknownKeys('scoring', raw, ['fit', 'behaviour', 'behavior', 'decay', 'max']);
  const fit = (check.list('scoring.fit', raw.fit, false) ?? []).map((rule, i) => {
    const path = `scoring.fit[${i}]`;
    const r = check.object(path, rule);
    if (!r) return undefined;
    check.unknownKeys(path, r, ['if', 'points', 'label']);
    const condition = check.condition(`${path}.if`, r.if);
    const points = check.number(`${path}.points`, r.points, true, -1000, 1000);
    const label = check.text(`${path}.label`, r.label, false) ?? condition;
    return condition !== undefined && points !== undefined ? { if: condition, points, label: label! } : undefined;
  });
  const behaviourRaw = raw.behaviour ?? raw.behavior;
  const key = raw.behaviour !== undefined ? 'scoring.behaviour' : 'scoring.behavior';
  const rules: unknown[] = Array.isArray(behaviourRaw)
    ? Array.from(behaviourRaw)
    : behaviourRaw && typeof behaviourRaw === 'object'
      ? Object.entries(behaviourRaw as Raw).map(([on, points]) => ({ on, points, _short: true }))
      : behaviourRaw === undefined
        ? []
        : [check.fail(key, 'expected a list of rules or a mapping of event type to points')];
  const behaviour = rules.map((rule, i) => {
    const short = (rule as Raw | undefined)?._short;
    const path = short ? `${key}.${(rule as Raw).on}` : `${key}[${i}]`;
    const r = check.object(path, rule);
    if (!r) return undefined;
    if (!short) check.unknownKeys(path, r, ['on', 'where', 'points', 'label', 'max']);
    const on = check.eventType(short ? path : `${path}.on`, r.on);
    const where = check.condition(`${path}.where`, r.where, false);
    const points = check.number(short ? path : `${path}.points`, r.points, true, -1000, 1000);
    const max = check.number(`${path}.max`, r.max, false, 0);
    const label = check.text(`${path}.label`, r.label, false) ?? (where ? `${on} (${where})` : on);
    return on && points !== undefined ? { on, points, label: label!, ...(where && { where }), ...(max !== undefined && { max }) } : undefined;
  });
  const decayRaw = check.object('scoring.decay', raw.decay, false);
  let decay: Campaign['scoring']['decay'];
  if (decayRaw) {
    check.unknownKeys('scoring.decay', decayRaw, ['half_life', 'expire_after']);
    decay = {
      ...(decayRaw.half_life !== undefined && { halfLifeMs: check.duration('scoring.decay.half_life', decayRaw.half_life) }),
      ...(decayRaw.expire_after !== undefined && { expireAfterMs: check.duration('scoring.decay.expire_after', decayRaw.expire_after) }),
    };
    if (decayRaw.half_life === undefined && decayRaw.expire_after === undefined) check.fail('scoring.decay', 'give half_life or expire_after');
  }
  const max = check.number('scoring.max', raw.max, false, 1);
  if (fit.includes(undefined) || behaviour.includes(undefined)) return undefined;
  return {
    fit: fit as Campaign['scoring']['fit'],
    behaviour: behaviour as Campaign['scoring']['behaviour'],
    ...(decay && { decay }),
    ...(max !== undefined && { max }),
  };
}

function stagesOf(check: Checker, value: unknown): Campaign['stages'] | undefined {
  const raw = check.object('stages', value);
  if (!raw) return undefined;
  check.unknownKeys('stages', raw, ['warm', 'hot', 'hysteresis']);
  const warm = check.number('stages.warm', raw.warm, true, 0);
  const hot = check.number('stages.hot', raw.hot, true, 0);
  const hysteresis = check.number('stages.hysteresis', raw.hysteresis ?? 5, true, 0);
  if (warm !== undefined && hot !== undefined && hot <= warm) return check.fail('stages.hot', `must be above stages.warm (${warm})`);
  if (warm !== undefined && hysteresis !== undefined && hysteresis > warm) return check.fail('stages.hysteresis', `must not exceed stages.warm (${warm})`);
  return warm !== undefined && hot !== undefined && hysteresis !== undefined ? { warm, hot, hysteresis } : undefined;
}

function sendWindowOf(check: Checker, value: unknown, campaignZone: string, at = 'send_window'): SendWindow | undefined {
  const raw = check.object(at, value ?? {}) ?? {};
  check.unknownKeys(at, raw, ['days', 'hours', 'timezone', 'holidays', 'blackout', 'spread']);
  let days: number[] | undefined;
  const d = raw.days ?? 'weekdays';
  if (d === 'weekdays') days = [1, 2, 3, 4, 5];
  else if (d === 'every_day' || d === 'all') days = [1, 2, 3, 4, 5, 6, 7];
  else if (Array.isArray(d) && d.length > 0 && d.every((day) => WEEKDAYS.includes(String(day).toLowerCase())))
    days = d.map((day) => WEEKDAYS.indexOf(String(day).toLowerCase()) + 1);
  else check.fail(`${at}.days`, `expected weekdays, every_day or a list of ${WEEKDAYS.join('/')}`);
  const hours = raw.hours === undefined ? '00:00-24:00' : raw.hours;
  const match = typeof hours === 'string' ? /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(hours) : null;
  const start = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  const end = match ? Number(match[3]) * 60 + Number(match[4]) : NaN;
  if (typeof hours !== 'string') {
    check.fail(`${at}.hours`, `expected hours like "09:00-18:00", got ${JSON.stringify(hours)}`);
  } else if (!match || start >= end || end > 24 * 60 || Number(match[2]) > 59 || Number(match[4]) > 59) {
    check.fail(`${at}.hours`, `expected a range like "09:00-18:00", got ${JSON.stringify(hours)}`);
  }
  const tz = raw.timezone ?? 'lead';
  const useLeadTimezone = tz === 'lead';
  const timezone = useLeadTimezone ? campaignZone : zone(check, `${at}.timezone`, tz);
  let holidays: SendWindow['holidays'];
  if (raw.holidays !== undefined) {
    const name = check.text(`${at}.holidays`, raw.holidays, true, /^[A-Za-z][A-Za-z-]*$/, `a country code like JP or a shared calendar (${Object.keys(SHARED_CALENDARS).join(', ')})`);
    const dates = name && calendarDates(name);
    if (name && !dates) check.fail(`${at}.holidays`, `no holiday calendar for "${name}"`, closest(name.toLowerCase(), Object.keys(SHARED_CALENDARS)));
    else if (name && dates) holidays = { country: SHARED_CALENDARS[name.toLowerCase()] ? name.toLowerCase() : name.toUpperCase(), dates };
  }
  if (raw.blackout !== undefined) {
    const blackout = blackoutDates(check, raw.blackout, `${at}.blackout`);
    if (blackout) holidays = { country: holidays ? `${holidays.country}+blackout` : 'blackout', dates: [...new Set([...(holidays?.dates ?? []), ...blackout])].sort() };
  }
  const spreadMs = raw.spread === undefined ? undefined : spreadOf(check, `${at}.spread`, raw.spread, match && start < end ? { hours: hours as string, ms: (end - start) * 60_000 } : undefined);
  if (!days || !match || !timezone) return undefined;
  return { days, start, end, useLeadTimezone, timezone, ...(holidays && { holidays }), ...(spreadMs !== undefined && { spreadMs }) };
}

const DATE_REF = /^\s*(event\.data|lead)\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*(?:([+-])\s*([0-9][0-9.]*\s*[smhdw](?:\s*[0-9][0-9.]*\s*[smhdw])*))?\s*(?:([01]\d|2[0-3]):([0-5]\d))?\s*$/;

/** A moment from the data: `event.data.seminar_at - 1d 10:00`, `lead.trial_ends_at + 2h` (see DateRef). */
function dateRefOf(check: Checker, path: string, value: unknown): DateRef | undefined {
  const text = check.text(path, value);
  if (text === undefined) return undefined;
  const match = DATE_REF.exec(text);
  if (!match) {
    return check.fail(path, `expected a date from the data like "event.data.seminar_at - 1d 10:00" or "lead.trial_ends_at + 2h", got ${JSON.stringify(text)}`);
  }
  const offset = match[4] === undefined ? 0 : parseDuration(match[4])!;
  if (offset > MAX_DURATION_MS) return check.fail(path, `the offset ${match[4]} is longer than 10 years`);
  return {
    text: text.trim(),
    source: match[1] === 'lead' ? 'lead' : 'event',
    path: match[2]!.split('.'),
    offsetMs: match[3] === '-' ? -offset : offset,
    ...(match[5] !== undefined && { timeOfDay: `${match[5]}:${match[6]}` }),
  };
}

/** `send_window.blackout`: dates and ranges ("2026-12-29..2027-01-03") on which nothing is sent. */
function blackoutDates(check: Checker, value: unknown, at: string): string[] | undefined {
  const list = check.list(at, value);
  if (!list) return undefined;
  const dates: string[] = [];
  list.forEach((item, i) => {
    const path = `${at}[${i}]`;
    const match = typeof item === 'string' ? /^(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?$/.exec(item.trim()) : null;
    const valid = (date: string) => DateTime.fromISO(date, { zone: 'UTC' }).isValid;
    if (!match || !valid(match[1]!) || (match[2] !== undefined && !valid(match[2]))) {
      check.fail(path, `expected a date like 2026-08-13 or a range like 2026-12-29..2027-01-03, got ${JSON.stringify(item)}`);
      return;
    }
    const [from, to = from] = [match[1]!, match[2]];
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
    if (days < 0) check.fail(path, `the range ends before it starts: ${item}`);
    else if (days > 366) check.fail(path, `a range of at most a year, got ${days + 1} days`);
    else dates.push(...datesBetween(from, to));
  });
  return dates;
}

/** `send_window.spread`: 0 (no jitter) or a duration shorter than the window's hours. */
function spreadOf(check: Checker, at: string, value: unknown, window: { hours: string; ms: number } | undefined): number | undefined {
  const ms = value === 0 ? 0 : parseDuration(value);
  if (ms === undefined) return check.fail(at, `expected 0 or a duration like 30m or 90s, got ${JSON.stringify(value)}`);
  if (window && ms >= window.ms) return check.fail(at, `must be shorter than the window (${formatDuration(window.ms)} for "${window.hours}"), got ${JSON.stringify(value)}`);
  return ms;
}

function triggerOf(check: Checker, path: string, value: unknown): Trigger | undefined {
  const raw = check.object(path, value);
  if (!raw) return undefined;
  check.unknownKeys(path, raw, ['on', 'where', 'send', 'subject', 'cooldown']);
  const on = check.eventType(`${path}.on`, raw.on);
  const where = check.condition(`${path}.where`, raw.where, false);
  const template = check.template(`${path}.send`, raw.send);
  const subject = subjectText(check, `${path}.subject`, raw.subject);
  const cooldownMs = raw.cooldown === undefined ? 0 : check.duration(`${path}.cooldown`, raw.cooldown);
  return on && template && subject !== undefined && cooldownMs !== undefined ? { on, template, subject, cooldownMs, ...(where && { where }) } : undefined;
}

function subjectText(check: Checker, path: string, value: unknown): string | undefined {
  const subject = check.text(path, value);
  if (subject && /[\r\n]/.test(subject)) return check.fail(path, 'must be one line');
  const problem = subject && templateProblem(subject);
  if (problem) return check.fail(path, `does not compile as a template: ${problem}`);
  return subject;
}

/** Handlebars' own parser on a subject: `{{lead.last_name}様` would fail at every send. */
function templateProblem(text: string): string | undefined {
  try {
    Handlebars.parse(text);
    return undefined;
  } catch (error) {
    // Its message: "Parse error on line 1:", the text, a caret under the place, "Expecting …, got …".
    const lines = (error as Error).message.split('\n');
    const caret = lines.findIndex((line) => /^-*\^$/.test(line));
    const expecting = lines.at(-1) ?? '';
    const what = /'CLOSE'/.test(expecting) ? 'a {{ is not closed with }}' : /OPEN_ENDBLOCK', got 'EOF'/.test(expecting) ? 'a {{#block}} is not closed with {{/block}}' : /got 'OPEN_ENDBLOCK'/.test(expecting) ? 'a {{/block}} closes no block' : expecting;
    if (caret < 0) return what;
    const at = lines[caret]!.length - 1;
    return `${what} (at character ${at + 1}: "${text.slice(Math.max(0, at - 12), at + 8)}")`;
  }
}

function tracksOf(check: Checker, value: unknown): Record<Stage, Step[]> | undefined {
  const raw = check.object('tracks', value);
  if (!raw) return undefined;
  check.unknownKeys('tracks', raw, [...STAGES]);
  const tracks = {} as Record<Stage, Step[]>;
  let ok = true;
  for (const stage of STAGES) {
    const steps = stepsOf(check, `tracks.${stage}`, raw[stage] ?? []);
    if (steps) tracks[stage] = steps;
    else ok = false;
  }
  return ok ? tracks : undefined;
}

const STEP_KINDS = ['email', 'wait', 'wait_for', 'branch', 'score', 'goto', 'handoff', 'exit', 'set', 'tag', 'untag', 'withdraw_consent', 'suppress', 'notify', 'webhook'];
const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;
/** At most this many addresses per notify step: a notice is for a few people, not a list. */
const MAX_NOTIFY_ADDRESSES = 10;
/** The template of a notify step that names none. */
export const INTERNAL_NOTICE_TEMPLATE = 'internal-notice';
const ATTRIBUTE_NAME = /^[A-Za-z_][\w]*$/;
const TAG = /^[\w][\w.:-]{0,63}$/;

function stepsOf(check: Checker, path: string, value: unknown): Step[] | undefined {
  const list = check.list(path, value);
  if (!list) return undefined;
  const steps = list.map((item, i) => stepOf(check, `${path}[${i}]`, item));
  return steps.includes(undefined) ? undefined : (steps as Step[]);
}

function stepOf(check: Checker, path: string, value: unknown): Step | undefined {
  const raw = check.object(path, value);
  if (!raw) return undefined;
  const kinds = Object.keys(raw).filter((key) => STEP_KINDS.includes(key) || key === 'if');
  if (kinds.length !== 1) {
    const misspelt = kinds.length ? undefined : Object.keys(raw).map((key) => closest(key, STEP_KINDS)).find(Boolean);
    return check.fail(path, kinds.length ? `one step per item, found ${kinds.join(' and ')}` : `expected a step: one of ${STEP_KINDS.join(', ')}`, misspelt);
  }
  const kind = kinds[0] === 'if' ? 'branch' : kinds[0]!;
  const label = check.text(`${path}.label`, raw.label, false, NAME, 'a label of lower-case letters, digits, - and _');
  const blocks = kind === 'branch' || kind === 'wait_for';
  check.unknownKeys(path, raw, [kinds[0]!, 'label', ...(blocks ? ['then', 'else'] : [])]);
  const base = label ? { label } : {};
  const body = raw[kinds[0]!];
  switch (kind) {
    case 'email': {
      const email = check.object(`${path}.email`, body);
      if (!email) return undefined;
      check.unknownKeys(`${path}.email`, email, ['template', 'subject', 'variants', 'once', 'send_window', 'send_by']);
      const once = check.boolean(`${path}.email.once`, email.once, false);
      const sendWindow = email.send_window === undefined ? undefined : email.send_window === 'any' ? ('any' as const) : sendWindowOf(check, email.send_window, check.campaignZone, `${path}.email.send_window`);
      const sendBy = email.send_by === undefined ? undefined : dateRefOf(check, `${path}.email.send_by`, email.send_by);
      const template = check.template(`${path}.email.template`, email.template);
      let variants: Variant[] | undefined;
      let subject: string | undefined;
      if (email.subject && typeof email.subject === 'object' && !Array.isArray(email.subject)) {
        // subject: { A: "…", B: "…" } — an even A/B test of subjects.
        variants = Object.entries(email.subject as Raw).map(([key, text]) => ({ key, weight: 1, subject: subjectText(check, `${path}.email.subject.${key}`, text) }));
        subject = variants[0]?.subject;
        if (variants.length < 2) check.fail(`${path}.email.subject`, 'an A/B subject needs at least two variants');
      } else if (email.subject !== undefined || email.variants === undefined) {
        subject = subjectText(check, `${path}.email.subject`, email.subject);
      }
      if (email.variants !== undefined) {
        if (variants) check.fail(`${path}.email.variants`, 'give variants or a subject mapping, not both');
        variants = (check.list(`${path}.email.variants`, email.variants) ?? []).map((v, i) => variantOf(check, `${path}.email.variants[${i}]`, v)) as Variant[];
        if (variants.length < 2) check.fail(`${path}.email.variants`, 'an A/B test needs at least two variants');
        if (new Set(variants.map((v) => v?.key)).size !== variants.length) check.fail(`${path}.email.variants`, 'variant keys must be unique');
        subject ??= variants[0]?.subject;
      }
      if (!template) return undefined; // reported at .template
      if (!subject) return email.subject === undefined && !variants ? check.fail(`${path}.email`, 'needs a template and a subject') : undefined; // else reported at the subject
      return {
        kind: 'email',
        ...base,
        template,
        subject,
        ...(variants && { variants }),
        ...(once && { once: true as const }),
        ...(sendWindow && { sendWindow }),
        ...(sendBy && { sendBy }),
      };
    }
    case 'wait': {
      if (typeof body === 'string') {
        const durationMs = check.duration(`${path}.wait`, body);
        return durationMs === undefined ? undefined : { kind: 'wait', ...base, durationMs };
      }
      const wait = check.object(`${path}.wait`, body);
      if (!wait) return undefined;
      check.unknownKeys(`${path}.wait`, wait, ['for', 'until', 'until_time']);
      const given = ['for', 'until', 'until_time'].filter((key) => wait[key] !== undefined);
      if (given.length > 1) return check.fail(`${path}.wait`, `give one of for, until or until_time, not ${given.join(' and ')}: only one would be used`);
      if (wait.for !== undefined) {
        const durationMs = check.duration(`${path}.wait.for`, wait.for);
        return durationMs === undefined ? undefined : { kind: 'wait', ...base, durationMs };
      }
      if (wait.until === 'next_window') return { kind: 'wait', ...base, untilWindow: true };
      if (typeof wait.until === 'string' && /^\s*(?:event|lead)\./.test(wait.until)) {
        const untilRef = dateRefOf(check, `${path}.wait.until`, wait.until);
        return untilRef && { kind: 'wait', ...base, untilRef };
      }
      if (wait.until !== undefined) {
        const date = typeof wait.until === 'string' ? DateTime.fromISO(wait.until, { zone: 'UTC' }) : undefined;
        if (!date?.isValid) return check.fail(`${path}.wait.until`, 'expected next_window or an ISO date-time like 2026-12-01T09:00:00+09:00');
        // Without an offset the time would be read as UTC, nine hours off in Tokyo: say which zone.
        if (!/(?:Z|[+-]\d\d(?::?\d\d)?)$/i.test(wait.until as string)) {
          return check.fail(`${path}.wait.until`, `${JSON.stringify(wait.until)} has no UTC offset: write it like 2026-12-01T09:00:00+09:00 or end it with Z for UTC`);
        }
        return { kind: 'wait', ...base, untilDate: date.toMillis() };
      }
      if (wait.until_time !== undefined) {
        const time = check.text(`${path}.wait.until_time`, wait.until_time, true, /^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day like 09:30');
        return time ? { kind: 'wait', ...base, untilTime: time } : undefined;
      }
      return check.fail(`${path}.wait`, 'expected a duration like 3d, or for / until / until_time');
    }
    case 'wait_for': {
      const w = check.object(`${path}.wait_for`, body);
      if (!w) return undefined;
      check.unknownKeys(`${path}.wait_for`, w, ['event', 'where', 'timeout', 'include_machine']);
      const event = check.eventType(`${path}.wait_for.event`, w.event);
      const where = check.condition(`${path}.wait_for.where`, w.where, false);
      const timeoutMs = check.duration(`${path}.wait_for.timeout`, w.timeout);
      const then = stepsOf(check, `${path}.then`, raw.then ?? []);
      const otherwise = stepsOf(check, `${path}.else`, raw.else ?? []);
      if (!event || timeoutMs === undefined || !then || !otherwise) return undefined;
      const includeMachine = check.boolean(`${path}.wait_for.include_machine`, w.include_machine, false);
      if (includeMachine === undefined) return undefined;
      return { kind: 'wait_for', ...base, event, timeoutMs, includeMachine, then, else: otherwise, ...(where && { where }) };
    }
    case 'branch': {
      let condition: string | undefined;
      if (kinds[0] === 'if') condition = check.condition(`${path}.if`, body);
      else {
        const b = check.object(`${path}.branch`, body);
        if (b) check.unknownKeys(`${path}.branch`, b, ['if']);
        condition = check.condition(`${path}.branch.if`, b?.if);
      }
      const then = stepsOf(check, `${path}.then`, raw.then ?? []);
      const otherwise = stepsOf(check, `${path}.else`, raw.else ?? []);
      if (!condition || !then || !otherwise) return undefined;
      return { kind: 'branch', ...base, if: condition, then, else: otherwise };
    }
    case 'score': {
      const s = check.object(`${path}.score`, body);
      if (!s) return undefined;
      check.unknownKeys(`${path}.score`, s, ['add', 'reason']);
      const points = check.number(`${path}.score.add`, s.add, true, -1000, 1000);
      const reason = check.text(`${path}.score.reason`, s.reason, false) ?? `score step ${path}`;
      return points === undefined ? undefined : { kind: 'score', ...base, points, reason };
    }
    case 'goto': {
      if (typeof body === 'string') return { kind: 'goto', ...base, target: { label: body } };
      const g = check.object(`${path}.goto`, body);
      if (!g) return undefined;
      check.unknownKeys(`${path}.goto`, g, ['stage']);
      const stage = check.text(`${path}.goto.stage`, g.stage);
      if (!stage) return undefined;
      if (!STAGES.includes(stage as Stage)) return check.fail(`${path}.goto.stage`, `expected one of ${STAGES.join(', ')}`);
      return { kind: 'goto', ...base, target: { stage: stage as Stage } };
    }
    case 'handoff':
      if (body !== 'now' && body !== true) return check.fail(`${path}.handoff`, 'expected now');
      return { kind: 'handoff', ...base };
    case 'exit': {
      const reason = check.text(`${path}.exit`, body);
      return reason ? { kind: 'exit', ...base, reason } : undefined;
    }
    case 'set': {
      const set = check.object(`${path}.set`, body);
      if (!set) return undefined;
      if (Object.keys(set).length === 0) return check.fail(`${path}.set`, 'expected at least one attribute');
      for (const [key, value] of Object.entries(set)) {
        if (!ATTRIBUTE_NAME.test(key)) check.fail(`${path}.set.${key}`, 'expected an attribute name of letters, digits and _');
        else if (key === TAGS_ATTRIBUTE) check.fail(`${path}.set.${key}`, 'tags are changed with tag: and untag:');
        else if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) check.fail(`${path}.set.${key}`, 'expected text, a number, true, false or null (clears it)');
      }
      return { kind: 'lead', ...base, set: set as Record<string, unknown> };
    }
    case 'tag':
    case 'untag': {
      const list = typeof body === 'string' ? [body] : check.list(`${path}.${kind}`, body);
      if (!list) return undefined;
      if (list.length === 0) return check.fail(`${path}.${kind}`, 'expected at least one tag');
      const tags = list.map((tag, i) => check.text(`${path}.${kind}${typeof body === 'string' ? '' : `[${i}]`}`, tag, true, TAG, 'a tag of letters, digits, _ . : and -'));
      if (tags.includes(undefined)) return undefined;
      return { kind: 'lead', ...base, [kind]: tags as string[] };
    }
    case 'withdraw_consent': {
      // true: the campaign's own purpose; a name: another purpose (a newsletter, say).
      if (body === true) return check.campaignConsent ? { kind: 'withdraw_consent', ...base, purpose: check.campaignConsent } : undefined;
      const what = 'true (the campaign\'s consent purpose) or a consent purpose like newsletter';
      if (typeof body !== 'string') return check.fail(`${path}.withdraw_consent`, `expected ${what}, got ${JSON.stringify(body)}`);
      const purpose = check.text(`${path}.withdraw_consent`, body, true, NAME, what);
      return purpose ? { kind: 'withdraw_consent', ...base, purpose } : undefined;
    }
    case 'suppress': {
      const reason = check.text(`${path}.suppress`, body, true, /^[^\r\n]{1,200}$/, 'the reason, like "no engagement in 180 days" (one line, at most 200 characters)');
      return reason ? { kind: 'suppress', ...base, reason } : undefined;
    }
    case 'notify': {
      const n = check.object(`${path}.notify`, body);
      if (!n) return undefined;
      check.unknownKeys(`${path}.notify`, n, ['to', 'subject', 'template']);
      const list = typeof n.to === 'string' ? [n.to] : check.list(`${path}.notify.to`, n.to);
      if (!list) return undefined;
      if (list.length === 0 || list.length > MAX_NOTIFY_ADDRESSES) return check.fail(`${path}.notify.to`, `expected 1 to ${MAX_NOTIFY_ADDRESSES} addresses`);
      const to = list.map((address, i) => check.text(typeof n.to === 'string' ? `${path}.notify.to` : `${path}.notify.to[${i}]`, address, true, ADDRESS, 'an email address like sales-ops@example.com'));
      const template = n.template === undefined ? INTERNAL_NOTICE_TEMPLATE : check.template(`${path}.notify.template`, n.template);
      const subject = subjectText(check, `${path}.notify.subject`, n.subject);
      if (to.includes(undefined) || !template || !subject) return undefined;
      return { kind: 'notify', ...base, to: [...new Set(to as string[])], template, subject };
    }
    case 'webhook': {
      const event = check.text(`${path}.webhook`, body, true, EVENT_TYPE, 'the event name the receiver gets, like lead.sunset');
      return event ? { kind: 'webhook', ...base, event } : undefined;
    }
  }
  return undefined;
}

function variantOf(check: Checker, path: string, value: unknown): Variant | undefined {
  const raw = check.object(path, value);
  if (!raw) return undefined;
  check.unknownKeys(path, raw, ['key', 'weight', 'subject', 'template']);
  const key = check.text(`${path}.key`, raw.key, true, /^[A-Za-z0-9_-]+$/, 'a short key like A');
  const weight = check.number(`${path}.weight`, raw.weight ?? 1, true, 0.0001, 1_000_000);
  const subject = raw.subject === undefined ? undefined : subjectText(check, `${path}.subject`, raw.subject);
  const template = check.template(`${path}.template`, raw.template, false);
  if (!subject && !template) check.fail(path, 'a variant changes the subject, the template or both');
  return key && weight ? { key, weight, ...(subject && { subject }), ...(template && { template }) } : undefined;
}

/** Labels are unique, every goto finds its label, and a handoff step has a handoff section to use. */
function checkStepReferences(check: Checker, tracks: Record<Stage, Step[]>, hasHandoff: boolean) {
  const labels = new Map<string, string>();
  const gotos: [string, string][] = [];
  eachStep(tracks, (s, here) => {
    if (s.label) {
      if (labels.has(s.label)) check.fail(`${here}.label`, `label "${s.label}" is already used at ${labels.get(s.label)}`);
      labels.set(s.label, here);
    }
    if (s.kind === 'goto' && 'label' in s.target) gotos.push([`${here}.goto`, s.target.label]);
    if (s.kind === 'handoff' && !hasHandoff) check.fail(`${here}.handoff`, 'a handoff step needs a handoff section (assign, sla) in the campaign');
  });
  for (const [path, label] of gotos) if (!labels.has(label)) check.fail(path, `no step is labelled "${label}"`);
}

function qualifyOf(check: Checker, value: unknown): Campaign['qualify'] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    const condition = check.condition('qualify', value);
    return condition ? { all: [condition] } : undefined;
  }
  if (Array.isArray(value)) {
    // An empty list would be a qualification that can never hold.
    if (value.length === 0) return check.fail('qualify', 'expected at least one condition');
    return { all: Array.from(value, (c, i) => check.condition(`qualify[${i}]`, c)) as string[] };
  }
  const raw = check.object('qualify', value);
  if (!raw) return undefined;
  check.unknownKeys('qualify', raw, ['all', 'any']);
  const all = check.list('qualify.all', raw.all, false)?.map((c, i) => check.condition(`qualify.all[${i}]`, c)) as string[] | undefined;
  const any = check.list('qualify.any', raw.any, false)?.map((c, i) => check.condition(`qualify.any[${i}]`, c)) as string[] | undefined;
  if (!all?.length && !any?.length) return check.fail('qualify', 'give at least one condition in all or any');
  // `any: []` next to a non-empty `all` could never hold: at least one of no conditions.
  if (any && !any.length) return check.fail('qualify.any', 'expected at least one condition');
  return { ...(all && { all }), ...(any && { any }) };
}

function handoffOf(check: Checker, value: unknown, window: SendWindow | undefined): HandoffConfig | undefined {
  const raw = check.object('handoff', value);
  if (!raw) return undefined;
  check.unknownKeys('handoff', raw, ['assign', 'notify', 'sla', 'on_not_ready', 'on_disqualified']);
  const assign = check.object('handoff.assign', raw.assign);
  if (assign) check.unknownKeys('handoff.assign', assign, ['strategy', 'pool', 'territory_by', 'match', 'rules']);
  const strategy = assign && check.text('handoff.assign.strategy', assign.strategy ?? 'round_robin');
  if (strategy && strategy !== 'round_robin' && strategy !== 'territory') check.fail('handoff.assign.strategy', 'expected round_robin or territory');
  const pool = assign && check.text('handoff.assign.pool', assign.pool);
  const territoryBy = assign && check.text('handoff.assign.territory_by', assign.territory_by, strategy === 'territory');
  const match = assign?.match === undefined ? undefined : repMatchOf(check, 'handoff.assign.match', assign.match);
  const rules = assign?.rules === undefined ? undefined : routingRulesOf(check, 'handoff.assign.rules', assign.rules, true);
  const notify = check.object('handoff.notify', raw.notify ?? {}) ?? {};
  check.unknownKeys('handoff.notify', notify, ['template', 'webhook']);
  const template = check.template('handoff.notify.template', notify.template ?? 'sales-handoff');
  const sla = check.object('handoff.sla', raw.sla);
  if (sla) check.unknownKeys('handoff.sla', sla, ['first_contact', 'remind_before', 'outcome', 'escalate_to', 'reassign']);
  const firstContact = sla && slaDurationOf(check, 'handoff.sla.first_contact', sla.first_contact);
  // Enrolments started before the sales desk read the SLA as working time of the send window.
  const dayMs = window ? businessDayMs(window) : 8 * 3_600_000;
  const firstContactBusinessMs = firstContact && (firstContact.business ? firstContact.days * dayMs + firstContact.hours * 3_600_000 : firstContact.ms);
  const remindBeforeMs = sla?.remind_before === undefined ? 4 * 3_600_000 : check.duration('handoff.sla.remind_before', sla.remind_before);
  const outcomeMs = sla && check.duration('handoff.sla.outcome', sla.outcome, false);
  const escalateTo = (sla && check.text('handoff.sla.escalate_to', sla.escalate_to ?? 'manager', true, ESCALATION_TARGET, "'manager', an email address or 'pool:<name>'")) ?? 'manager';
  const reassign = sla?.reassign === undefined ? undefined : reassignOf(check, 'handoff.sla.reassign', sla.reassign);

  let onNotReady: HandoffConfig['onNotReady'] | undefined = { action: 'exit' };
  const nr = raw.on_not_ready;
  if (nr !== undefined && nr !== 'exit') {
    const r = check.object('handoff.on_not_ready', nr);
    if (r) check.unknownKeys('handoff.on_not_ready', r, ['recycle_to', 'after', 'reset_score']);
    const stage = r && check.text('handoff.on_not_ready.recycle_to', r.recycle_to);
    if (stage && !STAGES.includes(stage as Stage)) check.fail('handoff.on_not_ready.recycle_to', `expected one of ${STAGES.join(', ')}`);
    const afterMs = r && check.duration('handoff.on_not_ready.after', r.after);
    const resetScore = r && check.boolean('handoff.on_not_ready.reset_score', r.reset_score, true);
    onNotReady = stage && afterMs && resetScore !== undefined ? { action: 'recycle', stage: stage as Stage, afterMs, resetScore } : undefined;
  }
  if (raw.on_disqualified !== undefined && raw.on_disqualified !== 'exit') check.fail('handoff.on_disqualified', 'expected exit');
  const webhook = check.boolean('handoff.notify.webhook', notify.webhook, false);
  if (!pool || !strategy || !template || !firstContact || firstContactBusinessMs === undefined || remindBeforeMs === undefined || !onNotReady || webhook === undefined) return undefined;
  return {
    assign: {
      strategy: strategy as AssignmentRule['strategy'],
      pool,
      ...(territoryBy && { territoryBy }),
      ...(match && { match }),
      ...(rules && { rules }),
    },
    notify: { template, webhook },
    sla: {
      firstContactBusinessMs,
      firstContact,
      remindBeforeMs,
      ...(outcomeMs !== undefined && { outcomeMs }),
      escalateTo,
      ...(reassign && { reassign }),
    },
    onNotReady,
    onDisqualified: { action: 'exit' },
  };
}

const ESCALATION_TARGET = /^(?:manager|pool:[A-Za-z0-9][\w.-]{0,99}|[^\s@]+@[^\s@]+\.[^\s@]+)$/;
const REASSIGN_WHEN = ['missed_first_contact', 'owner_away'] as const;

function slaDurationOf(check: Checker, path: string, value: unknown): SlaDuration | undefined {
  const duration = parseSlaDuration(value);
  if (!duration) return check.fail(path, 'expected business time like "3 business days" or "24 business hours", or calendar time like "24h"');
  return duration;
}

function reassignOf(check: Checker, path: string, value: unknown): { missedFirstContact: boolean; ownerAway: boolean } | undefined {
  const list = check.list(path, typeof value === 'string' ? [value] : value);
  if (!list) return undefined;
  list.forEach((item, i) => {
    if (!(REASSIGN_WHEN as readonly unknown[]).includes(item)) check.fail(`${path}[${i}]`, `expected ${REASSIGN_WHEN.join(' or ')}`);
  });
  return { missedFirstContact: list.includes('missed_first_contact'), ownerAway: list.includes('owner_away') };
}

const ATTRIBUTE_PATH = /^(?:lead\.)?[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*$/;

function repMatchOf(check: Checker, path: string, value: unknown): RepMatch | undefined {
  const raw = check.object(path, value);
  if (!raw) return undefined;
  check.unknownKeys(path, raw, ['territory', 'product', 'language']);
  const match: RepMatch = {};
  for (const field of ['territory', 'product', 'language'] as const) {
    if (raw[field] === undefined) continue;
    const attribute = check.text(`${path}.${field}`, raw[field], true, ATTRIBUTE_PATH, 'a lead attribute such as lead.region');
    if (attribute) match[field] = attribute;
  }
  return match;
}

/** Ordered routing rules: `when` (a condition), and what it chooses — a `pool` (campaign rules only), a `match`, `reps`. */
function routingRulesOf(check: Checker, path: string, value: unknown, poolAllowed: boolean): RoutingRule[] | undefined {
  const list = check.list(path, value);
  if (!list) return undefined;
  const rules: RoutingRule[] = [];
  list.forEach((item, i) => {
    const here = `${path}[${i}]`;
    const raw = check.object(here, item);
    if (!raw) return;
    check.unknownKeys(here, raw, poolAllowed ? ['when', 'pool', 'match', 'reps'] : ['when', 'match', 'reps']);
    const when = check.condition(`${here}.when`, raw.when, false);
    const pool = poolAllowed ? check.text(`${here}.pool`, raw.pool, false) : undefined;
    const match = raw.match === undefined ? undefined : repMatchOf(check, `${here}.match`, raw.match);
    const reps = raw.reps === undefined ? undefined : check.list(`${here}.reps`, raw.reps)?.map((rep, j) => check.text(`${here}.reps[${j}]`, rep, true, /^[^\s@]+@[^\s@]+$/, 'an email address'));
    if (!pool && !match && !reps) check.fail(here, poolAllowed ? 'a rule chooses a pool, a match or reps' : 'a rule chooses a match or reps');
    rules.push({ ...(when && { when }), ...(pool && { pool }), ...(match && { match }), ...(reps && { reps: reps.filter((rep): rep is string => Boolean(rep)) }) });
  });
  return rules;
}

/** A pool's own routing rules (the API checks them with the campaign language's rules). */
export function parseRoutingRules(value: unknown, path = 'routing'): { rules?: RoutingRule[]; errors: CampaignError[] } {
  const check = new Checker();
  const rules = routingRulesOf(check, path, value, false);
  return check.errors.length ? { errors: check.errors } : { rules, errors: [] };
}

function abOf(check: Checker, value: unknown): AbSettings | undefined {
  const raw = check.object('ab', value ?? {}) ?? {};
  check.unknownKeys('ab', raw, ['metric', 'min_sample', 'confidence', 'min_lift', 'expected_rate']);
  const metric = raw.metric ?? 'clicks';
  if (metric !== 'opens' && metric !== 'clicks') return check.fail('ab.metric', 'expected opens or clicks');
  const minSample = check.number('ab.min_sample', raw.min_sample ?? 100, true, 1);
  const confidence = check.number('ab.confidence', raw.confidence ?? 0.95, true, 0.5, 0.9999);
  // Kept only when given, so that campaigns written before them keep their content hash.
  const minLift = check.number('ab.min_lift', raw.min_lift, false, 0.01, 10);
  const expectedRate = check.number('ab.expected_rate', raw.expected_rate, false, 0.0001, 0.9);
  if (minSample === undefined || confidence === undefined) return undefined;
  return { metric, minSample, confidence, ...(minLift !== undefined && { minLift }), ...(expectedRate !== undefined && { expectedRate }) };
}

export { CONDITION_FUNCTIONS };
