// Conditions: jexl expressions over the lead, score, stage and event, with behaviour functions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conditionProblem, holds, holdsByJexl } from '../../campaign/conditions';
import { DAY } from './support';

const NOW = Date.parse('2026-11-24T01:00:00Z');
const events = [
  { type: 'page.viewed', at: NOW - 2 * DAY, data: { page: 'pricing' } },
  { type: 'page.viewed', at: NOW - 20 * DAY, data: { page: 'pricing' } },
  { type: 'page.viewed', at: NOW - DAY, data: { page: 'blog' } },
  { type: 'page.viewed', at: NOW - DAY, data: { page: 'pricing' }, machine: true },
  { type: 'email.opened', at: NOW - 3 * DAY, data: { template: 'welcome' } },
  { type: 'email.clicked', at: NOW - 3 * DAY, data: { template: 'pricing' }, machine: true },
  { type: 'asset.downloaded', at: NOW - 4.5 * DAY, data: { asset: 'whitepaper' } },
  { type: 'page.viewed', at: NOW + DAY, data: { page: 'pricing' } }, // in the future: not yet seen
];
const behaviour = { now: NOW, events };
const lead = { company: { employees: 250 }, role: 'Director', region: 'kanto' };
const check = (source: string) => holds(source, { lead, score: 60, stage: 'warm' }, behaviour);

describe('condition functions', () => {
  it('count human events by type, window and data', () => {
    expect(check("count('page.viewed') == 3")).toBe(true);
    expect(check("count('page.viewed', '14d') == 2")).toBe(true);
    expect(check("count('page.viewed', '14d', { page: 'pricing' }) == 1")).toBe(true);
    expect(check("count('page.viewed', '30d', { page: 'pricing' }) == 2")).toBe(true);
    expect(check("has('asset.downloaded', '7d', { asset: 'whitepaper' })")).toBe(true);
    expect(check("has('asset.downloaded', '4d')")).toBe(false);
  });

  it('opened / clicked by template ignore machine events', () => {
    expect(check("opened('welcome')")).toBe(true);
    expect(check("opened('pricing')")).toBe(false);
    expect(check('clicked()')).toBe(false); // the only click was a scanner's
  });

  it('days_since gives days since the latest such event, a large number when never', () => {
    expect(check("days_since('asset.downloaded') == 4.5")).toBe(true);
    expect(check("days_since('webinar.attended') > 10000")).toBe(true);
  });

  it('reads attributes, score and stage, with lower/upper transforms', () => {
    expect(check("lead.company.employees >= 100 && lead.role|lower == 'director' && score >= 50 && stage == 'warm'")).toBe(true);
    expect(check("lead.region in ['kansai', 'chubu']")).toBe(false);
    expect(check('lead.missing.deeply > 3')).toBe(false); // a failing condition counts as false
  });
});

describe('string functions', () => {
  const student = (domain: string, extra = '') => holds(`endsWith(lower(lead.email_domain), '.ac.jp')${extra}`, { lead: { email_domain: domain } }, behaviour);

  it('startsWith, endsWith and lower read text, and are false on anything else', () => {
    expect(student('u-tokyo.AC.JP')).toBe(true);
    expect(student('acme.co.jp')).toBe(false);
    expect(check("startsWith(lead.region, 'kan') && !startsWith(lead.company, 'kan') && !endsWith(lead.missing, '')")).toBe(true);
  });

  it('matches takes an RE2 pattern: case flags work, and a pattern that backtracks elsewhere runs in linear time', () => {
    expect(holds("matches(lead.email_domain, '(?i)[.]ac[.]jp$')", { lead: { email_domain: 'kyoto-u.AC.jp' } }, behaviour)).toBe(true);
    expect(holds("matches(lead.email_domain, '(?i)\\.ac\\.jp$')", { lead: { email_domain: 'kyoto-u.AC.jp' } }, behaviour)).toBe(true); // one backslash escapes
    expect(holds("matches(lead.email_domain, '^ac[.]')", { lead: { email_domain: 'kyoto-u.ac.jp' } }, behaviour)).toBe(false);
    // (a+)+$ on "aaa…a!" takes exponential time in a backtracking engine (JavaScript's own).
    const started = performance.now();
    expect(holds("matches(lead.text, '(a+)+$')", { lead: { text: `${'a'.repeat(50_000)}!` } }, behaviour)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a quoted pattern RE2 refuses is an error at validation, naming it', () => {
    expect(conditionProblem("matches(lead.email_domain, '(ac')")).toBe("matches() pattern '(ac' is not an RE2 regular expression: error parsing regexp: missing closing ): `(ac`");
    expect(conditionProblem("matches(lead.name, '(a)\\\\1')")).toMatch(/^matches\(\) pattern '\(a\)\\\\1' is not an RE2 regular expression: error parsing regexp: invalid escape sequence/);
  });
});

describe('condition checking', () => {
  it('accepts the language and names what is wrong', () => {
    expect(conditionProblem("count('page.viewed', '14d') >= 2 && score > 10")).toBeUndefined();
    expect(conditionProblem('score >= ')).toMatch(/./);
    expect(conditionProblem("fetch('http://x')")).toMatch(/^unknown function fetch\(\); available: count, has, opened, clicked, days_since, startsWith, endsWith, lower, matches$/);
  });

  it('a literal window of count() or has() must be a duration', () => {
    expect(conditionProblem("count('page.viewed', '2 weeks') >= 2")).toBe("count() window '2 weeks' is not a duration like '14d' or '12h'");
    expect(conditionProblem('has("demo.requested", "")')).toBe('has() window "" is not a duration like \'14d\' or \'12h\'');
    expect(conditionProblem("has('demo.requested', '0d')")).toBe("has() window '0d' is not a duration like '14d' or '12h'");
    expect(conditionProblem("count('page.viewed', '14d', { page: 'pricing' }) >= 1 && count('page.viewed', 'soon') > 0")).toBe(
      "count() window 'soon' is not a duration like '14d' or '12h'",
    );
    // Durations as everywhere else (spaces and case ignored); a window computed at run time is not checked.
    expect(conditionProblem("count('page.viewed', '1d 12H', { page: 'p(x)' }) >= 1")).toBeUndefined();
    expect(conditionProblem("count('page.viewed') >= 1 && has('page.viewed', lead.window)")).toBeUndefined();
  });

  it('text inside quotes is never taken for a function call', () => {
    expect(conditionProblem("lead.title == 'CEO (founder)'")).toBeUndefined();
    expect(conditionProblem('lead.title == "CEO (founder)"')).toBeUndefined();
    expect(conditionProblem("lead.note == 'it\\'s f(x)' && lead.quote == \"say \\\"g(y)\\\"\"")).toBeUndefined();
    expect(holds("lead.note == 'it\\'s f(x)'", { lead: { note: "it's f(x)" } }, behaviour)).toBe(true); // the same escape as jexl's
    expect(conditionProblem("lead.title == 'CEO (founder)' && fetch('x(y)')")).toBe('unknown function fetch(); available: count, has, opened, clicked, days_since, startsWith, endsWith, lower, matches');
  });

  it('cannot reach JavaScript: no constructors, no calls on values', () => {
    // jexl's grammar has no calls on values at all: only the registered functions can be called.
    expect(conditionProblem("lead.constructor.constructor('return process')()")).toMatch(/unexpected/);
    expect(check("lead.constructor.constructor('return 1')() == 1")).toBe(false);
  });
});

describe('the fast paths agree with jexl', () => {
  it('score comparisons', () => {
    fc.assert(
      fc.property(fc.constantFrom('>=', '>', '<=', '<'), fc.integer({ min: -50, max: 200 }), fc.oneof(fc.integer({ min: -50, max: 200 }), fc.double({ min: -50, max: 200, noNaN: true })), (op, limit, score) => {
        const source = `score ${op} ${limit}`;
        expect(holds(source, { score }, behaviour)).toBe(holdsByJexl(source, { score }));
      }),
      { numRuns: 300 },
    );
  });

  it('event data equality', () => {
    fc.assert(
      fc.property(fc.constantFrom('page', 'asset', 'section'), fc.constantFrom('pricing', 'whitepaper', 'product', ''), fc.option(fc.dictionary(fc.constantFrom('page', 'asset', 'section'), fc.oneof(fc.constantFrom('pricing', 'whitepaper', 'product', ''), fc.integer()))), (field, value, data) => {
        const source = `event.data.${field} == '${value}'`;
        const event = data === null ? {} : { data };
        expect(holds(source, { event }, behaviour)).toBe(holdsByJexl(source, { event }));
      }),
      // A CI run found the first: jexl's == is loose (0 == '' holds), the shortcut's was strict.
      { numRuns: 300, examples: [['asset', '', { asset: 0 }], ['page', 'pricing', { page: 'pricing' }]] },
    );
  });
});
