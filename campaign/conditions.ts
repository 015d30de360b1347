// Conditions are jexl expressions (an AST interpreter: no eval, no code generation), compiled
// once and cached. They read `lead` (attributes), `score`, `stage` and, in event filters,
// `event`; functions reach the lead's recent behaviour.
import { Jexl } from 'jexl';
import { RE2JS } from 're2js';
import { parseDuration } from './duration';

export interface BehaviourView {
  now: number;
  events: readonly { type: string; at: number; data?: Record<string, unknown>; machine?: boolean }[];
}

export const CONDITION_FUNCTIONS = ['count', 'has', 'opened', 'clicked', 'days_since', 'startsWith', 'endsWith', 'lower', 'matches'] as const;

const NO_BEHAVIOUR: BehaviourView = { now: 0, events: [] };
// Functions read the lead being evaluated from here; evaluation is synchronous, so one slot is enough.
let current: BehaviourView = NO_BEHAVIOUR;

function matches(data: Record<string, unknown> | undefined, filter: unknown): boolean {
  if (!filter || typeof filter !== 'object') return true;
  return Object.entries(filter as Record<string, unknown>).every(([key, value]) => data?.[key] === value);
}

function humanEvents(type: string, window?: unknown, filter?: unknown) {
  const windowMs = typeof window === 'string' ? parseDuration(window) : undefined;
  const since = windowMs === undefined ? -Infinity : current.now - windowMs;
  return current.events.filter((e) => e.type === type && !e.machine && e.at >= since && e.at <= current.now && matches(e.data, filter));
}

const jexl = new Jexl();
jexl.addFunctions({
  /** count('page.viewed', '14d', { page: 'pricing' }): human events of a type, optionally within a window and matching data. */
  count: (type: string, window?: unknown, filter?: unknown) => humanEvents(type, window, filter).length,
  has: (type: string, window?: unknown, filter?: unknown) => humanEvents(type, window, filter).length > 0,
  /** opened('welcome'): the lead opened an email of that template (any email when omitted). */
  opened: (template?: string) => humanEvents('email.opened', undefined, template ? { template } : undefined).length > 0,
  clicked: (template?: string) => humanEvents('email.clicked', undefined, template ? { template } : undefined).length > 0,
  /** days_since('asset.downloaded'): days since the latest such event; a large number when never. */
  days_since: (type: string) => {
    const latest = humanEvents(type).reduce((max, e) => Math.max(max, e.at), -Infinity);
    return latest === -Infinity ? 1e9 : (current.now - latest) / 86_400_000;
  },
  /** startsWith(lead.email_domain, 'ac.'), endsWith(lead.email, '.ac.jp'): false unless both are text. */
  startsWith: (text: unknown, prefix: unknown) => typeof text === 'string' && typeof prefix === 'string' && text.startsWith(prefix),
  endsWith: (text: unknown, suffix: unknown) => typeof text === 'string' && typeof suffix === 'string' && text.endsWith(suffix),
  lower: (text: unknown) => (typeof text === 'string' ? text.toLowerCase() : text),
  /** matches(lead.email_domain, '(?i)[.]ac[.]jp$'): an RE2 pattern, matched in linear time (no catastrophic backtracking). */
  matches: (text: unknown, pattern: unknown) => typeof text === 'string' && typeof pattern === 'string' && (regexOf(pattern)?.matcher(text).find() ?? false),
});

// Compiled patterns, kept (bounded) because a condition runs for every lead.
const patterns = new Map<string, RE2JS | null>();
function regexOf(pattern: string): RE2JS | null {
  let compiled = patterns.get(pattern);
  if (compiled === undefined) {
    compiled = patternProblem(pattern) === undefined ? RE2JS.compile(pattern) : null;
    if (patterns.size > 1000) patterns.clear();
    patterns.set(pattern, compiled);
  }
  return compiled;
}

/** Why RE2 refuses the pattern (backreferences and lookaround included), or undefined. */
function patternProblem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
jexl.addTransforms({
  lower: (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value),
  upper: (value: unknown) => (typeof value === 'string' ? value.toUpperCase() : value),
});

type Compiled = { evalSync(context: Record<string, unknown>): unknown };
const cache = new Map<string, Compiled>();
/** Conditions kept compiled: a process reading campaigns from anyone must not keep every condition it was ever sent. */
const CACHE_LIMIT = 10_000;

function compiled(source: string): Compiled {
  let expression = cache.get(source);
  if (!expression) {
    expression = shortcut(source) ?? jexl.compile(source);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(source, expression);
  }
  return expression;
}

/**
 * The two shapes that run on nearly every step — `score >= 70` and `event.data.page ==
 * 'pricing'` — evaluated directly instead of through jexl's interpreter, with the same result
 * (a test checks them against jexl). Everything else goes to jexl.
 */
function shortcut(source: string): Compiled | undefined {
  const score = /^\s*score\s*(>=|>|<=|<)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(source);
  if (score) {
    const limit = Number(score[2]);
    const test = { '>=': (v: number) => v >= limit, '>': (v: number) => v > limit, '<=': (v: number) => v <= limit, '<': (v: number) => v < limit }[score[1] as '>='];
    return { evalSync: (context) => typeof context.score === 'number' && test(context.score) };
  }
  const field = /^\s*event\.data\.([A-Za-z_][A-Za-z0-9_]*)\s*==\s*'([^'\\]*)'\s*$/.exec(source);
  if (field) {
    const [, name, value] = field as unknown as [string, string, string];
    // jexl's == is JavaScript's loose equality (0 == '' holds there), so the shortcut's is too.
    return { evalSync: (context) => (context.event as { data?: Record<string, unknown> } | undefined)?.data?.[name] == value };
  }
  return undefined;
}

/** For tests: the same condition through jexl alone. */
export function holdsByJexl(source: string, context: Record<string, unknown>): boolean {
  try {
    return Boolean(jexl.compile(source).evalSync(context));
  } catch {
    return false;
  }
}

/**
 * The condition's tokens as jexl's lexer (dist/Lexer.js) splits them, as far as the checks below
 * need: string literals with jexl's own pattern (a quote preceded by a backslash does not end
 * one), identifiers with jexl's character set, and every other character on its own.
 */
const TOKENS =
  /(?<string>'(?:\\'|[^'])*'|"(?:\\"|[^"])*")|(?<space>\s+)|(?<name>[a-zA-Zа-яА-Я_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u00FF$][a-zA-Zа-яА-Я0-9_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u00FF$]*)|(?<other>[\s\S])/g;

type Token = { kind: 'string' | 'name' | 'other'; text: string };

function tokens(source: string): Token[] {
  const list: Token[] = [];
  for (const match of source.matchAll(TOKENS)) {
    const groups = match.groups!;
    if (groups.string !== undefined) list.push({ kind: 'string', text: groups.string });
    else if (groups.name !== undefined) list.push({ kind: 'name', text: groups.name });
    else if (groups.other !== undefined) list.push({ kind: 'other', text: groups.other });
  }
  return list;
}

/** A string literal's value, unescaped as jexl does it. */
function unquote(literal: string): string {
  const quote = literal[0]!;
  return literal.slice(1, -1).replace(new RegExp(`\\\\${quote}`, 'g'), quote).replace(/\\\\/, '\\');
}

/** The tokens of argument `index` of the call whose `(` is at `open`, or undefined when there is no such argument. */
function argument(list: Token[], open: number, index: number): Token[] | undefined {
  let depth = 0;
  let current = 0;
  const collected: Token[] = [];
  for (let i = open + 1; i < list.length; i++) {
    const { kind, text } = list[i]!;
    if (kind === 'other' && depth === 0 && (text === ',' || text === ')')) {
      if (current === index) return collected;
      if (text === ')') return undefined;
      current++;
      continue;
    }
    if (kind === 'other' && (text === '(' || text === '[' || text === '{')) depth++;
    if (kind === 'other' && (text === ')' || text === ']' || text === '}')) depth--;
    if (current === index) collected.push(list[i]!);
  }
  return undefined;
}

/** The functions whose second argument is a time window. */
const WINDOWED: readonly string[] = ['count', 'has'];

/**
 * How deeply a condition may nest brackets — ( [ { — and ternaries (each `?` counts for good):
 * jexl's parser takes time in the square of the nesting (20,000 parentheses took half a minute
 * and gigabytes), while a real condition nests two or three levels.
 */
export const MAX_CONDITION_NESTING = 32;

/** A syntax or function-name problem with the condition, or undefined when it is well formed. */
export function conditionProblem(source: string): string | undefined {
  const list = tokens(source);
  let depth = 0;
  let ternaries = 0;
  for (const { kind, text } of list) {
    if (kind !== 'other') continue;
    if (text === '(' || text === '[' || text === '{') depth++;
    else if (text === ')' || text === ']' || text === '}') depth--;
    else if (text === '?') ternaries++;
    if (depth + ternaries > MAX_CONDITION_NESTING) return `nested more than ${MAX_CONDITION_NESTING} levels deep (brackets and ? : count)`;
  }
  try {
    compiled(source);
  } catch (error) {
    return (error as Error).message;
  }
  for (let i = 0; i < list.length; i++) {
    const { kind, text: name } = list[i]!;
    const next = list[i + 1];
    if (kind !== 'name' || next?.kind !== 'other' || next.text !== '(') continue;
    if (!(CONDITION_FUNCTIONS as readonly string[]).includes(name)) {
      return `unknown function ${name}(); available: ${CONDITION_FUNCTIONS.join(', ')}`;
    }
    // A window written as a literal is checked here: at run time one that is not a duration would mean all time.
    const window = WINDOWED.includes(name) ? argument(list, i + 1, 1) : undefined;
    if (window?.length === 1 && window[0]!.kind === 'string') {
      const ms = parseDuration(unquote(window[0]!.text));
      if (ms === undefined || ms <= 0) return `${name}() window ${window[0]!.text} is not a duration like '14d' or '12h'`;
    }
    // So is a pattern: at run time one RE2 refuses would never match.
    const pattern = name === 'matches' ? argument(list, i + 1, 1) : undefined;
    if (pattern?.length === 1 && pattern[0]!.kind === 'string') {
      const problem = patternProblem(unquote(pattern[0]!.text));
      if (problem) return `matches() pattern ${pattern[0]!.text} is not an RE2 regular expression: ${problem}`;
    }
  }
  return undefined;
}

/** Evaluates a condition to a boolean; a condition that fails at run time counts as false. */
export function holds(source: string, context: Record<string, unknown>, behaviour: BehaviourView): boolean {
  current = behaviour;
  try {
    return Boolean(compiled(source).evalSync(context));
  } catch {
    return false;
  } finally {
    current = NO_BEHAVIOUR;
  }
}
