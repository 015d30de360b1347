// Campaign files: every shipped campaign validates, and broken ones say what and where.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { campaignHash, formatCampaignError, parseCampaign } from '../../campaign';

const CAMPAIGNS_DIR = fileURLToPath(new URL('../../campaigns', import.meta.url));
const demo = readFileSync(`${CAMPAIGNS_DIR}/saas-whitepaper-nurture.yaml`, 'utf8');

describe('shipped campaigns', () => {
  for (const file of readdirSync(CAMPAIGNS_DIR).filter((f) => /\.(ya?ml|json)$/.test(f))) {
    it(`${file} validates`, () => {
      const result = parseCampaign(readFileSync(`${CAMPAIGNS_DIR}/${file}`, 'utf8'));
      expect(result.ok ? [] : result.errors.map(formatCampaignError)).toEqual([]);
    });
  }

  it('the same campaign written as JSON compiles to the same version', () => {
    const fromYaml = parseCampaign(demo);
    const fromJson = parseCampaign(JSON.stringify(parseYaml(demo)), { format: 'json' });
    expect(fromYaml.ok && fromJson.ok).toBe(true);
    if (fromYaml.ok && fromJson.ok) expect(campaignHash(fromJson.campaign)).toBe(campaignHash(fromYaml.campaign));
  });

  it('expands the Japanese holiday calendar', () => {
    const result = parseCampaign(demo);
    expect(result.ok && result.campaign.sendWindow.holidays?.dates).toContain('2026-11-23');
  });
});

/** The demo with one line replaced, so each broken case differs from a valid file in one place. */
function broken(find: string, replace: string): string {
  if (!demo.includes(find)) throw new Error(`test setup: "${find}" not in the demo`);
  return demo.replace(find, replace);
}

const lineOf = (text: string, fragment: string) => text.slice(0, text.indexOf(fragment)).split('\n').length;

describe('broken campaigns', () => {
  const cases: { name: string; text: string; path: string; message: RegExp; lineOfFragment?: string }[] = [
    { name: 'bad wait_for timeout', text: broken('timeout: 3d', 'timeout: soon'), path: 'tracks.cold[1].wait_for.timeout', message: /expected a duration like 5d/, lineOfFragment: 'timeout: soon' },
    { name: 'bad wait', text: broken('- wait: 7d', '- wait: 7 fortnights'), path: 'tracks.cold[2].wait', message: /expected a duration/, lineOfFragment: '7 fortnights' },
    { name: 'unsafe condition', text: broken('"lead.company.employees >= 100", points: 15', '"process.exit(1)", points: 15'), path: 'scoring.fit[0].if', message: /unknown function exit\(\)/ },
    { name: 'syntax error in condition', text: broken('"score >= 75"', '"score >= "'), path: 'qualify.all[0]', message: /invalid condition/ },
    { name: 'stages out of order', text: broken('stages: { warm: 50, hot: 75', 'stages: { warm: 80, hot: 75'), path: 'stages.hot', message: /must be above stages.warm/ },
    { name: 'unknown time zone', text: broken('timezone: Asia/Tokyo', 'timezone: Mars/Olympus'), path: 'timezone', message: /unknown time zone/ },
    { name: 'unknown holiday calendar', text: broken('holidays: JP', 'holidays: XX'), path: 'send_window.holidays', message: /no holiday calendar/ },
    { name: 'bad hours', text: broken('"09:00-18:00"', '"18:00-09:00"'), path: 'send_window.hours', message: /expected a range/ },
    { name: 'unknown step', text: broken('- wait: 5d', '- sleep: 5d'), path: 'tracks.hot[1]', message: /expected a step/ },
    { name: 'unknown field', text: broken('frequency_cap:', 'frequency_kap:'), path: 'frequency_kap', message: /unknown field/ },
    { name: 'bad SLA', text: broken('first_contact: 1 business day', 'first_contact: tomorrow'), path: 'handoff.sla.first_contact', message: /business time like "3 business days".*or calendar time like "24h"/ },
    { name: 'escalation to nobody', text: broken('escalate_to: manager', 'escalate_to: the boss'), path: 'handoff.sla.escalate_to', message: /expected 'manager', an email address or 'pool:<name>', got "the boss"/ },
    { name: 'unknown reassignment', text: broken('escalate_to: manager', 'escalate_to: manager, reassign: [when_bored]'), path: 'handoff.sla.reassign[0]', message: /expected missed_first_contact or owner_away/ },
    { name: 'match on a non-attribute', text: broken('territory_by: region }', 'territory_by: region, match: { territory: "lead region" } }'), path: 'handoff.assign.match.territory', message: /a lead attribute such as lead.region/ },
    { name: 'unknown match field', text: broken('territory_by: region }', 'territory_by: region, match: { shoe_size: lead.size } }'), path: 'handoff.assign.match.shoe_size', message: /unknown field; expected one of territory, product, language/ },
    { name: 'routing rule with a broken condition', text: broken('territory_by: region }', 'territory_by: region, rules: [{ when: "score >", pool: enterprise }] }'), path: 'handoff.assign.rules[0].when', message: /invalid condition/ },
    { name: 'routing rule choosing nothing', text: broken('territory_by: region }', 'territory_by: region, rules: [{ when: "score > 90" }] }'), path: 'handoff.assign.rules[0]', message: /a rule chooses a pool, a match or reps/ },
    { name: 'bad recycle stage', text: broken('recycle_to: warm', 'recycle_to: lukewarm'), path: 'handoff.on_not_ready.recycle_to', message: /expected one of cold, warm, hot/ },
    { name: 'bad event type', text: broken('on: asset.downloaded, where', 'on: "Asset Downloaded", where'), path: 'entry.on', message: /an event type like page.viewed/ },
    { name: 'multi-line subject', text: broken('"Plans and pricing, explained in one page"', '"Plans\\nBcc: everyone@example.com"'), path: 'tracks.warm[4].email.subject', message: /one line/ },
    { name: 'missing consent', text: broken('consent: marketing_email\n', ''), path: 'consent', message: /is required/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.path}`, () => {
      const result = parseCampaign(c.text);
      expect(result.ok).toBe(false);
      const errors = result.ok ? [] : result.errors;
      const error = errors.find((e) => e.path === c.path);
      expect(error, errors.map(formatCampaignError).join('\n')).toBeDefined();
      expect(error!.message).toMatch(c.message);
      expect(error!.line).toBeGreaterThan(0);
      if (c.lineOfFragment) expect(error!.line).toBe(lineOf(c.text, c.lineOfFragment));
    });
  }

  it('a goto to a missing label names the step', () => {
    const result = parseCampaign(broken('    - wait: 5d\n', '    - goto: nowhere\n'));
    expect(!result.ok && result.errors.map(formatCampaignError)).toEqual([expect.stringMatching(/^tracks\.hot\[1\]\.goto \(line \d+\): no step is labelled "nowhere"$/)]);
  });

  it('a handoff step needs a handoff section', () => {
    const minimal = [
      'id: tiny',
      'name: Tiny',
      'from: { email: a@b.example }',
      'entry: { on: form.submitted }',
      'consent: marketing_email',
      'scoring: {}',
      'stages: { warm: 10, hot: 20 }',
      'tracks:',
      '  cold:',
      '    - handoff: now',
    ].join('\n');
    const result = parseCampaign(minimal);
    expect(!result.ok && result.errors.map(formatCampaignError)).toEqual(['tracks.cold[0].handoff (line 10): a handoff step needs a handoff section (assign, sla) in the campaign']);
    expect(parseCampaign(minimal.replace('    - handoff: now', '    - exit: done')).ok).toBe(true);
  });

  it('invalid YAML gives the line', () => {
    const result = parseCampaign('id: x\nname: [unclosed\n');
    expect(!result.ok && result.errors[0]).toMatchObject({ path: '(file)', line: expect.any(Number) });
  });

  it('invalid JSON says so', () => {
    const result = parseCampaign('{"id": ', { format: 'json' });
    expect(!result.ok && result.errors[0]!.message).toMatch(/invalid JSON/);
    const named = parseCampaign('{"id": ', { format: 'json', source: 'spring.json' });
    expect(!named.ok && named.errors[0]!.message).toMatch(/^invalid JSON in spring\.json: /);
  });
});

describe('closed validation gaps', () => {
  /** Every problem of a campaign text as `path: message`. */
  const problems = (text: string) => {
    const result = parseCampaign(text);
    return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
  };

  const misspelt: { mapping: string; find: string; replace: string; problem: string }[] = [
    { mapping: 'from', find: 'email: marketing@acme.example }', replace: 'email: marketing@acme.example, reply_to: sales@acme.example }', problem: 'from.reply_to: unknown field; expected one of email, name' },
    { mapping: 'entry', find: 'reentry: after 90d }', replace: 'reentry: after 90d, re_entry: always }', problem: 'entry.re_entry: unknown field; expected one of on, where, reentry' },
    { mapping: 'frequency_cap', find: '{ max: 3, per: 7d }', replace: '{ max: 3, period: 7d, per: 7d }', problem: 'frequency_cap.period: unknown field; expected one of max, per' },
    { mapping: 'goto: { stage }', find: '    - wait: 5d\n', replace: '    - goto: { stage: warm, restart: true }\n', problem: 'tracks.hot[1].goto.restart: unknown field; expected one of stage' },
    { mapping: 'branch: { if }', find: '    - wait: 5d\n', replace: '    - branch: { if: "score > 90", unless: "score > 99" }\n', problem: 'tracks.hot[1].branch.unless: unknown field; expected one of if' },
    { mapping: 'handoff.assign', find: 'territory_by: region }', replace: 'territory_by: region, team: east }', problem: 'handoff.assign.team: unknown field; expected one of strategy, pool, territory_by, match, rules' },
    { mapping: 'handoff.notify', find: 'webhook: true }', replace: 'webhook: true, slack: true }', problem: 'handoff.notify.slack: unknown field; expected one of template, webhook' },
    { mapping: 'handoff.sla', find: 'outcome: 48h,', replace: 'outcome_logged: 48h,', problem: 'handoff.sla.outcome_logged: unknown field; expected one of first_contact, remind_before, outcome, escalate_to, reassign' },
    { mapping: 'handoff.on_not_ready', find: 'reset_score: true }', replace: 'reset: true }', problem: 'handoff.on_not_ready.reset: unknown field; expected one of recycle_to, after, reset_score' },
  ];
  for (const c of misspelt) {
    it(`a misspelt key in ${c.mapping} is an error`, () => {
      const text = broken(c.find, c.replace);
      expect(problems(text)).toEqual([c.problem]);
      const result = parseCampaign(text);
      expect(!result.ok && result.errors[0]!.line).toBe(lineOf(text, c.replace.trim()));
    });
  }

  it('send_window.hours that is not a string is an error, not all day', () => {
    expect(problems(broken('hours: "09:00-18:00"', 'hours: 9'))).toEqual(['send_window.hours: expected hours like "09:00-18:00", got 9']);
    expect(problems(broken('hours: "09:00-18:00"', 'hours: [9, 18]'))).toEqual(['send_window.hours: expected hours like "09:00-18:00", got [9,18]']);
    // Left out, hours still default to all day.
    const result = parseCampaign(broken('hours: "09:00-18:00", ', ''));
    expect(result.ok && [result.campaign.sendWindow.start, result.campaign.sendWindow.end]).toEqual([0, 24 * 60]);
  });

  it('a count() window that is not a duration is an error at the condition', () => {
    const text = broken("\"count('page.viewed', '14d', { page: 'pricing' }) >= 1\"", "\"count('page.viewed', '2 weeks', { page: 'pricing' }) >= 1\"");
    expect(problems(text)).toEqual(["qualify.all[2]: invalid condition: count() window '2 weeks' is not a duration like '14d' or '12h'"]);
  });

  it('text inside quotes is not taken for a function call', () => {
    const text = broken('"lead.company.employees >= 100", points: 15', `"lead.title == 'CEO (founder)'", points: 15`);
    expect(problems(text)).toEqual([]);
  });

  it('an empty qualify list is an error, not a qualification that never holds', () => {
    const qualify = "qualify:\n  all:\n    - \"score >= 75\"\n    - \"lead.company.employees >= 100\"\n    - \"count('page.viewed', '14d', { page: 'pricing' }) >= 1\"\n";
    expect(problems(broken(qualify, 'qualify: []\n'))).toEqual(['qualify: expected at least one condition']);
    expect(problems(broken(qualify, 'qualify: { all: ["score >= 75"], any: [] }\n'))).toEqual(['qualify.any: expected at least one condition']);
    expect(problems(broken(qualify, 'qualify: { all: [], any: ["score >= 75"] }\n'))).toEqual([]);
  });
});

describe('handoff routing and SLA on the sales calendar', () => {
  it('compiles routing rules, a match, a calendar SLA, reassignment and an escalation target', () => {
    const text = broken(
      'assign: { strategy: territory, pool: sales-japan, territory_by: region }',
      `assign:
    pool: sales-japan
    match: { territory: lead.region, language: lead.language }
    rules:
      - { when: "score >= 90 && lead.company.employees >= 500", pool: enterprise }
      - { when: "lead.product == 'analytics'", match: { product: lead.product } }
      - { when: "lead.vip == true", reps: [Kenji@Acme.example] }`,
    ).replace('sla: { first_contact: 1 business day, remind_before: 2h, outcome: 48h, escalate_to: manager }', 'sla: { first_contact: 24h, outcome: 48h, escalate_to: "pool:enterprise", reassign: [missed_first_contact, owner_away] }');
    const result = parseCampaign(text);
    expect(result.ok ? [] : result.errors.map(formatCampaignError)).toEqual([]);
    if (!result.ok) return;
    expect(result.campaign.handoff!.assign).toEqual({
      strategy: 'round_robin',
      pool: 'sales-japan',
      match: { territory: 'lead.region', language: 'lead.language' },
      rules: [
        { when: 'score >= 90 && lead.company.employees >= 500', pool: 'enterprise' },
        { when: "lead.product == 'analytics'", match: { product: 'lead.product' } },
        { when: 'lead.vip == true', reps: ['Kenji@Acme.example'] },
      ],
    });
    expect(result.campaign.handoff!.sla).toMatchObject({ firstContact: { business: false, ms: 86_400_000 }, escalateTo: 'pool:enterprise', reassign: { missedFirstContact: true, ownerAway: true } });
  });

  it.each([
    ['3 business days', { business: true, days: 3, hours: 0 }],
    ['24 business hours', { business: true, days: 0, hours: 24 }],
    ['1 business day 4 business hours', { business: true, days: 1, hours: 4 }],
    ['2d', { business: false, ms: 2 * 86_400_000 }],
  ])('reads first_contact %s', (value, expected) => {
    const result = parseCampaign(broken('first_contact: 1 business day', `first_contact: ${value}`));
    expect(result.ok && result.campaign.handoff!.sla.firstContact).toEqual(expected);
  });
});
