// The silent mistakes of a campaign file: each broken case says where (path and line), what, and
// what was probably meant. Errors refuse the file; warnings let it through (--strict refuses it).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatCampaignError, parseCampaign, type CampaignError, type CompileOptions } from '../../campaign';

const CAMPAIGNS_DIR = fileURLToPath(new URL('../../campaigns', import.meta.url));
const demo = readFileSync(`${CAMPAIGNS_DIR}/saas-whitepaper-nurture.yaml`, 'utf8');

/** The demo with one fragment replaced: each case differs from a valid file in one place. */
function broken(find: string, replace: string): string {
  if (!demo.includes(find)) throw new Error(`test setup: "${find}" not in the demo`);
  return demo.replace(find, replace);
}
const lineOf = (text: string, fragment: string) => text.slice(0, text.indexOf(fragment)).split('\n').length;

function warningsOf(text: string, options: CompileOptions = {}): CampaignError[] {
  const result = parseCampaign(text, options);
  if (!result.ok) throw new Error(`expected a valid campaign: ${result.errors.map(formatCampaignError).join('; ')}`);
  return result.warnings.map(({ column: _column, ...warning }) => warning);
}
function errorsOf(text: string): CampaignError[] {
  const result = parseCampaign(text);
  if (result.ok) throw new Error('expected the campaign to be refused');
  return result.errors.map(({ column: _column, ...error }) => error);
}

/** Event types and attributes the database has seen, as the API passes them. */
const SEEN: CompileOptions = {
  knownEventTypes: ['asset.downloaded', 'webinar.attended', 'page.viewed', 'form.submitted', 'email.opened', 'email.clicked'],
  knownAttributes: ['company', 'company.name', 'company.employees', 'role', 'region', 'first_name', 'last_name', 'email_domain', 'authority', 'timeline_months'],
};

describe('the shipped campaigns', () => {
  for (const file of readdirSync(CAMPAIGNS_DIR).filter((f) => /\.ya?ml$/.test(f))) {
    it(`${file} has no warning, offline and against the demo's data`, () => {
      const text = readFileSync(`${CAMPAIGNS_DIR}/${file}`, 'utf8');
      expect(warningsOf(text)).toEqual([]);
      expect(warningsOf(text, SEEN)).toEqual([]);
    });
  }
});

describe('warnings', () => {
  it('a misspelt entry event: did you mean the type the database has seen', () => {
    const text = broken('entry: { on: asset.downloaded,', 'entry: { on: asset.donwloaded,');
    expect(warningsOf(text, SEEN)).toEqual([
      { path: 'entry.on', line: lineOf(text, 'entry:'), message: 'unknown event type "asset.donwloaded"', suggestion: 'asset.downloaded' },
    ]);
  });

  it('two spellings of one type in the campaign, neither seen: one warning for the pair', () => {
    const text = broken('entry: { on: asset.downloaded,', 'entry: { on: asset.downloded,');
    expect(warningsOf(text)).toEqual([
      { path: 'entry.on', line: lineOf(text, 'entry:'), message: 'unknown event type "asset.downloded", close to asset.downloaded at scoring.behaviour[2].on: one of them is probably misspelt' },
    ]);
  });

  it('a type far from every known one is taken as new: no warning (an events catalogue would name it)', () => {
    const text = broken('- { on: webinar.attended, points: 20', '- { on: trade_show.visited, points: 20');
    expect(warningsOf(text, SEEN)).toEqual([]);
  });

  it('names that differ only in their numbers are different names, not typos', () => {
    const text = broken('- { on: webinar.attended, points: 20', '- { on: seminar_1.registered, points: 10 }\n    - { on: seminar_2.registered, points: 20');
    expect(warningsOf(text, SEEN)).toEqual([]);
  });

  it('an events catalogue: any other type is named, with the nearest listed one', () => {
    const catalogue = 'events: [asset.downloaded, webinar.attended, page.viewed]\n';
    expect(warningsOf(catalogue + demo)).toEqual([]);
    const text = catalogue + broken("count('page.viewed', '14d'", "count('page.veiwed', '14d'");
    expect(warningsOf(text)).toEqual([
      { path: 'qualify.all[2]', line: lineOf(text, "count('page.veiwed'"), message: 'event type "page.veiwed" is not in the campaign\'s events catalogue', suggestion: 'page.viewed' },
    ]);
  });

  it('misspelt lead attributes, in a condition and in a subject', () => {
    const text = broken('"lead.company.employees >= 100", points: 15', '"lead.compnay.employees >= 100", points: 15').replace(
      '"Slides and recording: {{lead.first_name}}',
      '"Slides and recording: {{lead.frist_name}}',
    );
    expect(warningsOf(text, SEEN)).toEqual([
      { path: 'scoring.fit[0].if', line: lineOf(text, 'lead.compnay'), message: 'unknown lead attribute lead.compnay.employees', suggestion: 'lead.company.employees' },
      { path: 'triggers[0].subject', line: lineOf(text, 'frist_name'), message: 'unknown lead attribute lead.frist_name', suggestion: 'lead.first_name' },
    ]);
    // Offline, the other uses in the campaign and the attributes every lead has still catch them.
    expect(warningsOf(text).map((w) => w.path)).toEqual(['scoring.fit[0].if', 'triggers[0].subject']);
  });

  it('stages and a qualification no score can reach, with the highest possible score', () => {
    // Without its content-download points (no maximum) the demo's highest score is 15 + 20 + 10 + 25 + 20… with maxima.
    const text = broken('- { on: asset.downloaded, points: 10, label: content downloads }', '- { on: asset.downloaded, points: 10, max: 10, label: content downloads }')
      .replace('- { on: webinar.attended, points: 20, label: webinar attended }', '- { on: webinar.attended, points: 20, max: 20, label: webinar attended }')
      .replace("- { on: page.viewed, where: \"event.data.page == 'pricing'\", points: 15, label: pricing page views }", "- { on: page.viewed, where: \"event.data.page == 'pricing'\", points: 15, max: 5, label: pricing page views }")
      .replace('stages: { warm: 50, hot: 75, hysteresis: 5 }', 'stages: { warm: 50, hot: 120, hysteresis: 5 }')
      .replace('- "score >= 75"', '- "score >= 110"');
    // 15 + 20 (fit) + 10 + 25 + 10 + 20 + 5 (behaviour maxima) = 105.
    expect(warningsOf(text)).toEqual([
      { path: 'stages.hot', line: lineOf(text, 'stages:'), message: 'no lead can reach hot: it needs 120 and the highest possible score is 105' },
      { path: 'qualify.all[0]', line: lineOf(text, '"score >= 110"'), message: 'no lead can qualify: "score >= 110" while the highest possible score is 105' },
    ]);
  });

  it('exit_on that drops the defaults says who would stay enrolled', () => {
    const text = broken('exit_on: [unsubscribed, bounced, converted]', 'exit_on: [converted, demo.booked]');
    expect(warningsOf(text, { knownEventTypes: [...SEEN.knownEventTypes!, 'demo.booked'] })).toEqual([
      {
        path: 'exit_on',
        line: lineOf(text, 'exit_on:'),
        message: 'replaces the default list, so a lead who has unsubscribed or bounced stays enrolled',
        suggestion: 'exit_on: [unsubscribed, bounced, converted, demo.booked]',
      },
    ]);
  });

  it('an A/B test whose confidence and lift need more sends than any campaign has', () => {
    const text = broken('ab: { metric: opens, min_sample: 200, confidence: 0.95 }', 'ab: { metric: clicks, min_sample: 200, confidence: 0.9999, min_lift: 0.03 }');
    const warnings = warningsOf(text);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: expect.any(Number), suggestion: 'a lower ab.confidence, a larger ab.min_lift, fewer variants, or metric: opens' });
    expect(formatCampaignError(warnings[0]!)).toMatch(/^tracks\.cold\[\d\]\.email \(line \d+\): this A\/B test will practically never declare a winner: it finds a 3% lift on 3% clicks \(3% → 3\.09%\) with 80% probability within [\d,]+ sends per variant/);
  });

  it('territory_by with round robin is ignored, and says what to write', () => {
    const text = broken('assign: { strategy: territory, pool: sales-japan, territory_by: region }', 'assign: { pool: sales-japan, territory_by: region }');
    expect(warningsOf(text)).toEqual([
      { path: 'handoff.assign.territory_by', line: lineOf(text, 'assign:'), message: 'is ignored: the strategy is round_robin', suggestion: 'match: { territory: region }' },
    ]);
  });
});

describe('errors', () => {
  it('a subject that does not compile as a template', () => {
    const text = broken('subject: "See Acme Analytics on your own data"', 'subject: "{{lead.last_name}様"');
    expect(errorsOf(text)).toEqual([
      { path: 'triggers[1].subject', line: lineOf(text, '様'), message: 'does not compile as a template: a {{ is not closed with }} (at character 17: "ad.last_name}様")' },
    ]);
    const block = broken('subject: "See Acme Analytics on your own data"', 'subject: "{{#if lead.first_name}}Hi"');
    expect(errorsOf(block)[0]!.message).toMatch(/^does not compile as a template: a \{\{#block\}\} is not closed with \{\{\/block\}\}/);
  });

  it('a goto loop without a wait, at the goto; the same loop with a wait passes', () => {
    const loop = broken('    - wait: 5d\n    - email: { template: pricing', '    - label: again\n      score: { add: 0 }\n    - goto: again\n    - email: { template: pricing');
    expect(errorsOf(loop)).toEqual([
      { path: 'tracks.hot[2].goto', line: lineOf(loop, 'goto: again'), message: 'this goto loops back without a wait or wait_for: every lead would go round at once until the step limit and exit; put a wait in the loop' },
    ]);
    const waiting = broken('    - wait: 5d\n    - email: { template: pricing', '    - label: again\n      wait: 5d\n    - goto: again\n    - email: { template: pricing');
    expect(parseCampaign(waiting).ok).toBe(true);
    // Across tracks and through a branch's arm.
    const branchLoop = broken('  hot:\n', '  hot:\n    - if: "score > 100"\n      then:\n        - goto: { stage: warm }\n').replace('  warm:\n', '  warm:\n    - if: "score > 100"\n      then:\n        - goto: { stage: hot }\n');
    expect(errorsOf(branchLoop).map((e) => e.path).sort()).toEqual(['tracks.hot[0].then[0].goto']);
  });

  it('durations past 10 years, a wait with both for and until, a date-time without its offset', () => {
    expect(errorsOf(broken('    - wait: 7d\n', '    - wait: 99999999999999999999999d\n'))).toEqual([
      { path: 'tracks.cold[2].wait', line: lineOf(demo, '    - wait: 7d'), message: '"99999999999999999999999d" is longer than 10 years' },
    ]);
    expect(errorsOf(broken('    - wait: 7d\n', '    - wait: { for: 7d, until: "2027-01-05T09:00:00+09:00" }\n'))).toEqual([
      { path: 'tracks.cold[2].wait', line: lineOf(demo, '    - wait: 7d'), message: 'give one of for, until or until_time, not for and until: only one would be used' },
    ]);
    expect(errorsOf(broken('    - wait: 7d\n', '    - wait: { until: "2027-01-05T09:00:00" }\n'))).toEqual([
      {
        path: 'tracks.cold[2].wait.until',
        line: lineOf(demo, '    - wait: 7d'),
        message: '"2027-01-05T09:00:00" has no UTC offset: write it like 2026-12-01T09:00:00+09:00 or end it with Z for UTC',
      },
    ]);
  });

  it('booleans are true or false, not text that would read as true', () => {
    expect(errorsOf(broken('reset_score: true', 'reset_score: "no"'))).toEqual([
      { path: 'handoff.on_not_ready.reset_score', line: lineOf(demo, 'on_not_ready:'), message: 'expected true or false, got "no"' },
    ]);
    expect(errorsOf(broken('webhook: true', 'webhook: "false"'))[0]).toMatchObject({ path: 'handoff.notify.webhook', message: 'expected true or false, got "false"' });
    expect(errorsOf(broken('timeout: 3d }', 'timeout: 3d, include_machine: yes }'))[0]).toMatchObject({ path: 'tracks.cold[1].wait_for.include_machine', message: 'expected true or false, got "yes"' });
  });

  it('an unknown field or step names the one it is close to', () => {
    expect(errorsOf(broken('reentry: after 90d', 'rentry: after 90d'))).toEqual([
      { path: 'entry.rentry', line: lineOf(demo, 'entry:'), message: 'unknown field; expected one of on, where, reentry', suggestion: 'reentry' },
    ]);
    const text = broken('    - wait: 14d\n', '    - wiat: 14d\n');
    expect(errorsOf(text)).toEqual([
      { path: 'tracks.cold[4]', line: lineOf(text, 'wiat'), message: 'expected a step: one of email, wait, wait_for, branch, score, goto, handoff, exit, set, tag, untag, withdraw_consent, suppress, notify, webhook', suggestion: 'wait' },
    ]);
    expect(formatCampaignError(errorsOf(text)[0]!)).toBe(
      `tracks.cold[4] (line ${lineOf(text, 'wiat')}): expected a step: one of email, wait, wait_for, branch, score, goto, handoff, exit, set, tag, untag, withdraw_consent, suppress, notify, webhook; did you mean wait?`,
    );
  });
});
