// A campaign test scenario (`nurture test <campaign> <scenario>`): scripted leads, what each
// does on a timeline (day 0 downloads, day 2 opens the welcome email, day 9 views pricing …),
// and what must follow (email X by day N, never email Y, warm by day M, handed to a rep). This
// module reads a scenario and judges a run's history; cli/scenario-runner.ts runs it on the
// real engine in virtual time.
import { parse as parseYaml } from 'yaml';
import { DateTime } from 'luxon';
import { parseDuration } from './duration';
import { eachStep } from './step-graph';
import type { Campaign, CampaignError, SendWindow, Stage } from './types';
import { STAGES } from './types';

/** When, from the scenario's start: `day 2`, `day 2 14:30` (the campaign's zone), or a duration such as `36h`. */
export interface Moment {
  text: string;
  days?: number;
  time?: string;
  ms?: number;
}

export type ScenarioAction =
  | { at: Moment; kind: 'event'; type: string; data: Record<string, unknown> }
  /** An open or click of the email the lead received from this template or step (label or path). */
  | { at: Moment; kind: 'open' | 'click'; email: string };

export type Expectation =
  | { kind: 'email'; email: string; by?: Moment; text: string }
  | { kind: 'no_email'; email: string; text: string }
  | { kind: 'stage'; stage: Stage; by?: Moment; text: string }
  | { kind: 'handoff'; by?: Moment; owner?: string; text: string }
  | { kind: 'no_handoff'; text: string }
  | { kind: 'exit'; reason: string; by?: Moment; text: string };

export interface ScenarioLead {
  name: string;
  email: string;
  attributes: Record<string, unknown>;
  timezone?: string;
  consent: boolean;
  actions: ScenarioAction[];
  expect: Expectation[];
}

export interface Scenario {
  name: string;
  /** Absent: the first Tuesday 10:00 in the campaign's zone with no holiday that week. */
  start?: number;
  /** How long the run goes on after the start (default: the latest moment named, plus a day). */
  runForMs?: number;
  leads: ScenarioLead[];
}

/** What happened to one lead, as the checks read it (times in ms since the scenario's start). */
export interface LeadHistory {
  emails: { at: number; template: string; step: string | null; label?: string; subject: string; status: string }[];
  stages: { at: number; from: Stage; to: Stage }[];
  handoffs: { at: number; owner: string | null }[];
  exits: { at: number; reason: string }[];
}

export interface ExpectationResult {
  text: string;
  passed: boolean;
  /** What actually happened, when it did not pass (or the evidence when it did). */
  actual: string;
}

const DAY = 86_400_000;
const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const SCENARIO_KEYS = ['name', 'start', 'run_for', 'leads'];
const LEAD_KEYS = ['email', 'attributes', 'timezone', 'consent', 'do', 'expect'];

export function parseScenario(text: string): { ok: true; scenario: Scenario } | { ok: false; errors: CampaignError[] } {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, errors: [{ path: '(file)', message: `invalid YAML: ${(error as Error).message.split('\n')[0]}` }] };
  }
  return compileScenario(raw);
}

export function compileScenario(raw: unknown): { ok: true; scenario: Scenario } | { ok: false; errors: CampaignError[] } {
  const errors: CampaignError[] = [];
  const fail = (path: string, message: string): undefined => void errors.push({ path, message });
  const object = (path: string, value: unknown): Record<string, unknown> | undefined =>
    value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : fail(path, 'expected a mapping');
  const unknownKeys = (path: string, value: Record<string, unknown>, allowed: string[]) => {
    for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(path ? `${path}.${key}` : key, `unknown field; expected one of ${allowed.join(', ')}`);
  };
  const moment = (path: string, value: unknown): Moment | undefined => {
    const parsed = parseMoment(value);
    return parsed ?? fail(path, `expected a moment like "day 2", "day 2 14:30" or "36h", got ${JSON.stringify(value)}`);
  };

  const top = object('(root)', raw);
  if (!top) return { ok: false, errors };
  unknownKeys('', top, SCENARIO_KEYS);
  const name = typeof top.name === 'string' && top.name.trim() ? top.name : 'scenario';
  let start: number | undefined;
  if (top.start !== undefined) {
    const date = typeof top.start === 'string' && /(?:Z|[+-]\d\d:?\d\d)$/.test(top.start) ? DateTime.fromISO(top.start) : undefined;
    if (date?.isValid) start = date.toMillis();
    else fail('start', 'expected an ISO date-time with its UTC offset, like 2027-01-12T10:00:00+09:00');
  }
  const runForMs = top.run_for === undefined ? undefined : parseDuration(top.run_for);
  if (top.run_for !== undefined && !runForMs) fail('run_for', 'expected a duration like 30d');

  const leadsRaw = object('leads', top.leads);
  const leads: ScenarioLead[] = [];
  for (const [leadName, value] of Object.entries(leadsRaw ?? {})) {
    const path = `leads.${leadName}`;
    if (!NAME.test(leadName)) fail(path, 'a lead name is lower-case letters, digits, - and _');
    const lead = object(path, value);
    if (!lead) continue;
    unknownKeys(path, lead, LEAD_KEYS);
    const email = typeof lead.email === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(lead.email) ? lead.email : fail(`${path}.email`, 'expected an email address');
    const attributes = lead.attributes === undefined ? {} : object(`${path}.attributes`, lead.attributes);
    if (lead.consent !== undefined && typeof lead.consent !== 'boolean') fail(`${path}.consent`, 'expected true or false');
    if (lead.timezone !== undefined && (typeof lead.timezone !== 'string' || !DateTime.local().setZone(lead.timezone).isValid)) fail(`${path}.timezone`, 'expected an IANA time zone like Asia/Tokyo');

    const actions: ScenarioAction[] = [];
    (Array.isArray(lead.do) ? lead.do : lead.do === undefined ? [] : (fail(`${path}.do`, 'expected a list'), [])).forEach((item: unknown, i: number) => {
      const at = `${path}.do[${i}]`;
      const step = object(at, item);
      if (!step) return;
      unknownKeys(at, step, ['at', 'event', 'data', 'open', 'click']);
      const when = moment(`${at}.at`, step.at);
      const kinds = ['event', 'open', 'click'].filter((key) => step[key] !== undefined);
      if (kinds.length !== 1) return fail(at, 'expected one of event, open or click');
      const target = step[kinds[0]!];
      if (typeof target !== 'string' || !target) return fail(`${at}.${kinds[0]}`, kinds[0] === 'event' ? 'expected an event type' : 'expected the template, step label or step path of an email the lead received');
      const data = step.data === undefined ? {} : object(`${at}.data`, step.data);
      if (!when || !data) return;
      actions.push(kinds[0] === 'event' ? { at: when, kind: 'event', type: target, data } : { at: when, kind: kinds[0] as 'open' | 'click', email: target });
    });

    const expect: Expectation[] = [];
    (Array.isArray(lead.expect) ? lead.expect : (fail(`${path}.expect`, 'expected a list of expectations'), [])).forEach((item: unknown, i: number) => {
      const at = `${path}.expect[${i}]`;
      const e = object(at, item);
      if (!e) return;
      const text = describe(e);
      const by = e.by === undefined ? undefined : moment(`${at}.by`, e.by);
      if (e.by !== undefined && !by) return;
      if (typeof e.email === 'string') {
        unknownKeys(at, e, ['email', 'by']);
        expect.push({ kind: 'email', email: e.email, by, text });
      } else if (typeof e.no_email === 'string') {
        unknownKeys(at, e, ['no_email']);
        expect.push({ kind: 'no_email', email: e.no_email, text });
      } else if (typeof e.stage === 'string') {
        unknownKeys(at, e, ['stage', 'by']);
        if (!STAGES.includes(e.stage as Stage)) return fail(`${at}.stage`, `expected one of ${STAGES.join(', ')}`);
        expect.push({ kind: 'stage', stage: e.stage as Stage, by, text });
      } else if (e.handoff !== undefined) {
        unknownKeys(at, e, ['handoff', 'by', 'owner']);
        if (e.handoff === false) expect.push({ kind: 'no_handoff', text });
        else if (e.handoff === true) expect.push({ kind: 'handoff', by, ...(typeof e.owner === 'string' && { owner: e.owner }), text });
        else fail(`${at}.handoff`, 'expected true or false');
      } else if (typeof e.exit === 'string') {
        unknownKeys(at, e, ['exit', 'by']);
        expect.push({ kind: 'exit', reason: e.exit, by, text });
      } else fail(at, 'expected one of email, no_email, stage, handoff or exit');
    });
    if (email && attributes) leads.push({ name: leadName, email, attributes, ...(typeof lead.timezone === 'string' && { timezone: lead.timezone }), consent: lead.consent !== false, actions, expect });
  }
  if (leadsRaw && leads.length === 0 && errors.length === 0) fail('leads', 'expected at least one lead');
  return errors.length ? { ok: false, errors } : { ok: true, scenario: { name, ...(start !== undefined && { start }), ...(runForMs && { runForMs }), leads } };
}

export function parseMoment(value: unknown): Moment | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { text: `day ${value}`, days: value };
  if (typeof value !== 'string') return undefined;
  const day = /^\s*day\s+(\d{1,4})(?:\s+([01]\d|2[0-3]):([0-5]\d))?\s*$/i.exec(value);
  if (day) return { text: value.trim(), days: Number(day[1]), ...(day[2] && { time: `${day[2]}:${day[3]}` }) };
  const ms = parseDuration(value);
  return ms !== undefined ? { text: value.trim(), ms } : undefined;
}

/**
 * The instant of a moment: `day N` is the start's time of day N days later (in `zone`), `day N
 * HH:MM` that date at HH:MM, a duration that long after the start.
 */
export function momentAt(moment: Moment, start: number, zone: string): number {
  if (moment.ms !== undefined) return start + moment.ms;
  const date = DateTime.fromMillis(start, { zone }).plus({ days: moment.days! });
  if (!moment.time) return date.toMillis();
  const [hour, minute] = moment.time.split(':').map(Number);
  return date.set({ hour, minute, second: 0, millisecond: 0 }).toMillis();
}

/** A deadline (`by:`): `day N` runs to the end of that day (midnight in `zone`); a time or a duration is that instant. */
export function deadlineAt(moment: Moment, start: number, zone: string): number {
  if (moment.ms !== undefined || moment.time) return momentAt(moment, start, zone);
  return DateTime.fromMillis(start, { zone }).plus({ days: moment.days! + 1 }).startOf('day').toMillis();
}

/** The scenario's actions in the order they happen (by instant; as written within one instant), with their instants. */
export function actionsInOrder(scenario: Scenario, start: number, zone: string): { lead: ScenarioLead; action: ScenarioAction; index: number; at: number }[] {
  return scenario.leads
    .flatMap((lead) => lead.actions.map((action, index) => ({ lead, action, index, at: momentAt(action.at, start, zone) })))
    .sort((a, b) => a.at - b.at || a.lead.name.localeCompare(b.lead.name) || a.index - b.index);
}

/** The latest moment the scenario names (actions and deadlines), as an instant. */
export function scenarioEnd(scenario: Scenario, start: number, zone: string): number {
  const actions = scenario.leads.flatMap((lead) => lead.actions.map((a) => momentAt(a.at, start, zone)));
  const deadlines = scenario.leads.flatMap((lead) => lead.expect.flatMap((e) => ('by' in e && e.by ? [deadlineAt(e.by, start, zone)] : [])));
  if (scenario.runForMs !== undefined) return start + scenario.runForMs;
  return Math.max(start, ...deadlines, ...actions.map((at) => at + DAY));
}

function describe(e: Record<string, unknown>): string {
  const by = e.by !== undefined ? ` by ${String(e.by)}` : '';
  if (typeof e.email === 'string') return `email ${e.email}${by}`;
  if (typeof e.no_email === 'string') return `no email ${e.no_email}`;
  if (typeof e.stage === 'string') return `stage ${e.stage}${by}`;
  if (e.handoff === false) return 'no handoff';
  if (e.handoff !== undefined) return `handed off${typeof e.owner === 'string' ? ` to ${e.owner}` : ''}${by}`;
  if (typeof e.exit === 'string') return `exit ${e.exit}${by}`;
  return JSON.stringify(e);
}

/** Whether an email of the history is the one a scenario names (template, step label or path). */
export function emailMatches(email: LeadHistory['emails'][number], name: string): boolean {
  return email.template === name || email.step === name || email.label === name;
}

/** Judges a lead's expectations against its history (times relative to `start`). */
export function checkExpectations(lead: ScenarioLead, history: LeadHistory, start: number, zone: string): ExpectationResult[] {
  const day = (at: number) => formatMoment(at, start, zone);
  const deadline = (by?: Moment) => (by ? deadlineAt(by, start, zone) : Number.POSITIVE_INFINITY);
  const sent = history.emails.filter((email) => email.status === 'sent');
  const summary = (emails: LeadHistory['emails']) => (emails.length ? emails.map((e) => `${e.template} (${e.label ?? e.step}) ${e.status} ${day(e.at)}`).join('; ') : 'none');
  return lead.expect.map((e): ExpectationResult => {
    switch (e.kind) {
      case 'email': {
        const found = sent.find((email) => emailMatches(email, e.email));
        const passed = found !== undefined && found.at <= deadline(e.by);
        return { text: e.text, passed, actual: found ? `sent ${day(found.at)}` : `not sent; emails: ${summary(history.emails)}` };
      }
      case 'no_email': {
        const found = sent.filter((email) => emailMatches(email, e.email));
        return { text: e.text, passed: found.length === 0, actual: found.length ? `sent ${found.map((f) => day(f.at)).join(', ')}` : 'not sent' };
      }
      case 'stage': {
        const reached = history.stages.find((change) => change.to === e.stage);
        const passed = reached !== undefined && reached.at <= deadline(e.by);
        return { text: e.text, passed, actual: reached ? `${reached.from} → ${reached.to} ${day(reached.at)}` : `stages: ${history.stages.map((s) => `${s.from} → ${s.to} ${day(s.at)}`).join('; ') || 'no change'}` };
      }
      case 'handoff': {
        const handoff = history.handoffs[0];
        const passed = handoff !== undefined && handoff.at <= deadline(e.by) && (e.owner === undefined || handoff.owner === e.owner);
        return { text: e.text, passed, actual: handoff ? `handed off ${day(handoff.at)} to ${handoff.owner ?? 'nobody (unassigned)'}` : 'not handed off' };
      }
      case 'no_handoff': {
        const handoff = history.handoffs[0];
        return { text: e.text, passed: handoff === undefined, actual: handoff ? `handed off ${day(handoff.at)}` : 'not handed off' };
      }
      case 'exit': {
        const exit = history.exits.find((candidate) => candidate.reason === e.reason);
        const passed = exit !== undefined && exit.at <= deadline(e.by);
        return { text: e.text, passed, actual: exit ? `exited ${day(exit.at)}` : `exits: ${history.exits.map((x) => `${x.reason} ${day(x.at)}`).join('; ') || 'still enrolled'}` };
      }
    }
  });
}

/** `day 2 14:05` (the day counted from the start, the time in `zone`). */
export function formatMoment(at: number, start: number, zone: string): string {
  const from = DateTime.fromMillis(start, { zone });
  const when = DateTime.fromMillis(at, { zone });
  const days = Math.floor((at - start) / DAY);
  return `day ${days} ${when.toFormat('HH:mm')}${when.hasSame(from.plus({ days }), 'day') ? '' : ` (${when.toISODate()})`}`;
}

/** The label of each labelled step, by path (histories name steps by path). */
export function stepLabels(campaign: Campaign): Map<string, string> {
  const labels = new Map<string, string>();
  eachStep(campaign.tracks, (step, path) => step.label && labels.set(path, step.label));
  return labels;
}

/**
 * Where a scenario starts when it names no start: the first Tuesday 10:00 in the campaign's zone
 * at or after `from` whose week (8 days) has no holiday in the campaign's calendar, so that what
 * a scenario expects does not depend on the day it runs.
 */
export function defaultScenarioStart(window: SendWindow, zone: string, from: number): number {
  const holidays = new Set(window.holidays?.dates ?? []);
  let day = DateTime.fromMillis(from, { zone }).startOf('day');
  day = day.plus({ days: (2 - day.weekday + 7) % 7 });
  for (let week = 0; week < 60; week++, day = day.plus({ weeks: 1 })) {
    const start = day.set({ hour: 10 });
    if (start.toMillis() < from) continue;
    const clear = Array.from({ length: 8 }, (_, i) => start.plus({ days: i }).toISODate()!).every((date) => !holidays.has(date));
    if (clear) return start.toMillis();
  }
  throw new Error(`no Tuesday without holidays within 60 weeks of ${new Date(from).toISOString()}`);
}
