// The bounds on a campaign's text (CAMPAIGN_TEXT_LIMITS): size, nesting, aliases, what aliases
// expand to, and the parser's own costs (duplicate keys, collection keys, runs of syntax errors,
// deeply nested conditions). Each is refused as a problem on `(file)` (with its line when there
// is one), quickly, and never by an exception.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CAMPAIGN_TEXT_LIMITS, parseCampaign, type CampaignResult } from '../../campaign';
import { MAX_CONDITION_NESTING } from '../../campaign/conditions';

const DEMO = readFileSync(new URL('../../campaigns/saas-whitepaper-nurture.yaml', import.meta.url), 'utf8');
const DEMO_LINES = DEMO.split('\n').length; // the line after the demo's last one
const { maxDepth, maxAliases, maxLength } = CAMPAIGN_TEXT_LIMITS;

/** The demo campaign with a `description` (free-form, not compiled) appended. */
const withDescription = (yaml: string) => `${DEMO}description: ${yaml}\n`;

function problems(result: CampaignResult) {
  return result.ok ? [] : result.errors;
}

function timed(text: string, options?: Parameters<typeof parseCampaign>[1]) {
  const started = performance.now();
  const result = parseCampaign(text, options);
  return { result, ms: performance.now() - started };
}

describe('size', () => {
  it(`refuses a text longer than ${maxLength} characters before reading it`, () => {
    const { result, ms } = timed(withDescription('x'.repeat(maxLength)));
    expect(problems(result)).toEqual([{ path: '(file)', message: expect.stringMatching(/^the campaign is too large: 26\d,\d{3} characters, the most accepted is 262,144$/) }]);
    expect(ms).toBeLessThan(50);
  });

  it('names the file when given', () => {
    expect(problems(parseCampaign('x'.repeat(maxLength + 1), { source: 'big.yaml' }))[0]!.message).toMatch(/^the campaign in big\.yaml is too large/);
  });
});

describe('nesting', () => {
  const flow = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

  it(`accepts ${maxDepth} levels (the campaign's mapping and ${maxDepth - 1} brackets)`, () => {
    expect(parseCampaign(withDescription(flow(maxDepth - 1))).ok).toBe(true);
  });

  it(`refuses level ${maxDepth + 1} at its line, in flow and block style`, () => {
    const line = DEMO_LINES;
    expect(problems(parseCampaign(withDescription(flow(maxDepth))))).toEqual([
      { path: '(file)', message: `the campaign is nested too deeply: more than ${maxDepth} levels`, line },
    ]);
    const dashes = `${DEMO}description:\n${'- '.repeat(maxDepth)}x\n`;
    expect(problems(parseCampaign(dashes))).toMatchObject([{ message: /nested too deeply/, line: line + 1 }]);
    const indented = `${DEMO}description:\n${Array.from({ length: maxDepth }, (_, i) => `${' '.repeat(i + 1)}k:`).join('\n')} x\n`;
    expect(problems(parseCampaign(indented))).toMatchObject([{ message: /nested too deeply/, line: line + maxDepth }]);
  });

  it('refuses a quarter of a megabyte of brackets at the first level too deep, in microseconds rather than seconds', () => {
    for (const bracket of ['[', '{']) {
      const { result, ms } = timed(bracket.repeat(maxLength - 1));
      expect(problems(result)).toMatchObject([{ message: /nested too deeply/, line: 1 }]);
      expect(ms).toBeLessThan(50);
    }
  });

  it('counts JSON text the same way', () => {
    const json = (levels: number) => JSON.stringify({ ...JSON.parse(JSON.stringify(parseDocument(DEMO).toJS())), description: JSON.parse(flow(levels)) }, null, 1);
    expect(parseCampaign(json(maxDepth - 1), { format: 'json' }).ok).toBe(true);
    expect(problems(parseCampaign(json(maxDepth), { format: 'json' }))).toMatchObject([{ path: '(file)', message: /nested too deeply: more than 64 levels/, line: expect.any(Number) }]);
    // Brackets inside strings are text.
    expect(parseCampaign(JSON.stringify({ ...parseDocument(DEMO).toJS(), description: '['.repeat(500) }), { format: 'json' }).ok).toBe(true);
  });
});

describe('aliases', () => {
  /** The classic billion laughs: nine aliases per level, nine levels, a few hundred bytes. */
  const billionLaughs = (() => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    return `${DEMO}description:\n${levels.map((line) => `  ${line}`).join('\n')}\n`;
  })();

  it('refuses an alias bomb with a clear problem, quickly, without throwing', () => {
    const { result, ms } = timed(billionLaughs);
    expect(problems(result)).toEqual([
      { path: '(file)', message: `the aliases of the campaign expand too much (more than ${maxAliases} expansions): an alias bomb?`, line: DEMO_LINES + 2 },
    ]);
    expect(ms).toBeLessThan(500);
  });

  it(`accepts ${maxAliases} aliases and refuses one more at its line`, () => {
    const aliases = (n: number) => `${DEMO}anchors:\n  - &text hello\ndescription:\n${Array.from({ length: n }, () => '  - *text').join('\n')}\n`;
    // `anchors` is not a campaign key: the aliases were read, and the campaign was checked.
    expect(problems(parseCampaign(aliases(maxAliases)))).toMatchObject([{ path: 'anchors', message: /unknown field/ }]);
    expect(problems(parseCampaign(aliases(maxAliases + 1)))).toEqual([
      { path: '(file)', message: `the campaign has too many aliases: more than ${maxAliases}`, line: DEMO_LINES + 2 + maxAliases + 1 },
    ]);
  });

  it('refuses aliases that expand the campaign beyond the expanded size', () => {
    const big = `"${'x'.repeat(100_000)}"`;
    const { result, ms } = timed(`${DEMO}anchors: [&big ${big}]\ndescription: [${Array(20).fill('*big').join(', ')}]\n`);
    expect(problems(result)).toEqual([{ path: '(file)', message: 'the aliases of the campaign expand it beyond 1,048,576 characters', line: DEMO_LINES + 1 }]);
    expect(ms).toBeLessThan(500);
  });

  it('answers an alias without its anchor as a problem', () => {
    expect(problems(parseCampaign(`${DEMO}description: *nowhere\n`))).toMatchObject([{ path: '(file)', message: /^invalid YAML: .*nowhere/ }]);
  });
});

describe("the parser's own costs", () => {
  it('finds duplicate keys in linear time: 20,000 keys in one mapping', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1`).join('\n');
    const { result, ms } = timed(`${DEMO}description:\n${keys}\n`);
    expect(result.ok).toBe(true);
    expect(ms).toBeLessThan(3000); // yaml's own uniqueKeys check took 3.7 s here
    expect(problems(parseCampaign(`${DEMO}description:\n${keys}\n  k7: 2\n`))).toEqual([
      { path: '(file)', message: 'invalid YAML: Map keys must be unique', line: DEMO_LINES + 20_001, column: 3 },
    ]);
  });

  it('reports duplicate keys exactly when yaml would', () => {
    const key = fc.constantFrom('a', 'b', '"a"', "'b'", '1', '"1"', 'null', '~', '', 'true', '0x1');
    const mapping = fc.array(fc.tuple(key, fc.constantFrom('1', 'x', '[1]')), { maxLength: 6 }).map((pairs) => `{ ${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')} }`);
    fc.assert(
      fc.property(mapping, (text) => {
        const yaml = parseDocument(text, { uniqueKeys: true }).errors.some((error) => error.code === 'DUPLICATE_KEY');
        const ours = problems(parseCampaign(`description: ${text}\n`)).some((error) => error.message === 'invalid YAML: Map keys must be unique');
        expect(ours).toBe(yaml);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses mapping keys that are collections or aliases', () => {
    expect(problems(parseCampaign(`${DEMO}description:\n  ? [a, b]\n  : 1\n`))).toEqual([
      { path: '(file)', message: 'invalid YAML: a mapping key must be a plain value, not a collection or an alias', line: DEMO_LINES + 1, column: 5 },
    ]);
  });

  it('stops at 100 syntax errors, naming the first', () => {
    const { result, ms } = timed(`${DEMO}${'}\n'.repeat(100_000)}`);
    expect(problems(result)).toEqual([
      { path: '(file)', message: 'invalid YAML: more than 100 syntax errors, the first on line 76: Unexpected flow-map-end token in YAML stream', line: DEMO_LINES },
    ]);
    expect(ms).toBeLessThan(500);
  });

  it(`refuses a condition nested more than ${MAX_CONDITION_NESTING} levels (jexl's parser takes the square of the nesting)`, () => {
    const nested = (levels: number) => DEMO.replace('- "score >= 75"', `- "${'('.repeat(levels)}score >= 75${')'.repeat(levels)}"`);
    expect(parseCampaign(nested(MAX_CONDITION_NESTING)).ok).toBe(true);
    const { result, ms } = timed(nested(20_000));
    expect(problems(result)).toMatchObject([{ path: 'qualify.all[0]', message: `invalid condition: nested more than ${MAX_CONDITION_NESTING} levels deep (brackets and ? : count)` }]);
    expect(ms).toBeLessThan(500); // 32 s and gigabytes before
  });
});

describe('any text', () => {
  const fragments = ['[', ']', '{', '}', ',', ':', ': ', '- ', '? ', '\n', '\n', '  ', ' ', 'a', 'id', '"', "'", '#', '|\n', '>\n', '&x ', '*x', '*y', '&y ', '!t ', '---\n', '...\n', '\t', '\\', ':x', 'k: ', '  - ', '<<: *x\n', '%YAML 1.2\n'];
  it('gives a result, never an exception', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 120 }), (parts) => {
        const result = parseCampaign(parts.join(''));
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) for (const error of result.errors) expect(error.message).toEqual(expect.any(String));
      }),
      { numRuns: 2000 },
    );
  });
});
