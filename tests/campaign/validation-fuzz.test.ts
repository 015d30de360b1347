// Validation never throws: whatever is changed in a campaign, the answer is a compiled campaign
// or a list of problems that each name a path and say what is wrong.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { initialState, parseCampaign, stepInPlace, validateCampaign, type CampaignResult } from '../../campaign';
import { DAY, lead, TUESDAY_10_JST } from './support';

const text = readFileSync(fileURLToPath(new URL('../../campaigns/saas-whitepaper-nurture.yaml', import.meta.url)), 'utf8');
const demo = parseYaml(text) as Record<string, unknown>;

/** Every path to a value inside a JSON value, e.g. ['tracks', 'cold', 1, 'wait_for', 'timeout']. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (!value || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, v]) => paths(v, [...prefix, key]))];
}
const allPaths = paths(demo).filter((p) => p.length > 0);

function replaced(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  if (replacement === undefined && path.length === 1) delete copy[path[0]!];
  else copy[path[0]!] = replaced(copy[path[0]!], path.slice(1), replacement);
  return copy;
}

function expectWellFormed(result: CampaignResult) {
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(error.path).toMatch(/\S/);
    expect(error.message).toMatch(/\S/);
  }
}

const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('3d', 'soon', 'score >= ', "count('x'", 'weekdays', '25:00-26:00', 'Mars/Olympus', 'next_window', 'now', 'warm'),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('on', 'if', 'email', 'wait', 'x'), fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxKeys: 2 }),
);

describe('validation under random damage', () => {
  it('one value replaced anywhere: never throws, errors always say where and what, and what validates runs', () => {
    fc.assert(
      fc.property(fc.constantFrom(...allPaths), junk, (path, value) => {
        const result = validateCampaign(replaced(demo, path, value));
        expectWellFormed(result);
        if (!result.ok) return;
        const state = initialState(result.campaign, lead(), TUESDAY_10_JST);
        stepInPlace(result.campaign, state, { type: 'start' }, TUESDAY_10_JST);
        stepInPlace(result.campaign, state, { type: 'event', event: { id: 'p', type: 'page.viewed', at: TUESDAY_10_JST + DAY, data: { page: 'pricing' } } }, TUESDAY_10_JST + DAY);
        stepInPlace(result.campaign, state, { type: 'wake' }, TUESDAY_10_JST + 30 * DAY);
      }),
      { numRuns: 300 },
    );
  });

  it('lines of the YAML file dropped: never throws, and problems inside the file carry a line', () => {
    const lines = text.split('\n');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: lines.length - 1 }), { minLength: 1, maxLength: 3 }), (drop) => {
        const result = parseCampaign(lines.filter((_, i) => !drop.includes(i)).join('\n'));
        expectWellFormed(result);
        if (!result.ok) for (const error of result.errors) expect(error.line).toBeGreaterThan(0);
      }),
      { numRuns: 100 },
    );
  });
});
