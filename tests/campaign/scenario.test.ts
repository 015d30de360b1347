// Scenario files of `nurture test`: what they accept and refuse, moments and deadlines in the
// campaign's zone, and how expectations judge a history (tests/cli/scenario.test.ts runs them on
// the engine).
import { describe, expect, it } from 'vitest';
import { actionsInOrder, checkExpectations, compileScenario, simulateScenario, validateCampaign, defaultScenarioStart, momentAt, parseMoment, parseScenario, type LeadHistory } from '../../campaign';

const TOKYO = 'Asia/Tokyo';
const START = Date.parse('2026-12-08T01:00:00Z'); // Tuesday 10:00 in Tokyo
const H = 3_600_000;
const D = 24 * H;

describe('scenario files', () => {
  it('reads leads, their actions in time order, and their expectations', () => {
    const parsed = parseScenario(`
name: one lead
start: 2026-12-08T10:00:00+09:00
leads:
  aiko:
    email: aiko@globex.example
    attributes: { role: director }
    do:
      - { at: day 2, event: page.viewed, data: { page: pricing } }
      - { at: "day 0 12:00", open: welcome }
      - { at: 36h, click: "tracks.cold[0]" }
    expect:
      - { email: welcome, by: day 0 }
      - { no_email: reminder }
      - { stage: warm, by: "day 1 18:00" }
      - { handoff: true, owner: kenji@acme.example }
      - { handoff: false }
      - { exit: converted, by: 10d }
`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const { scenario } = parsed;
    expect(scenario.start).toBe(START);
    const lead = scenario.leads[0]!;
    expect(lead).toMatchObject({ name: 'aiko', email: 'aiko@globex.example', consent: true, attributes: { role: 'director' } });
    // Kept as written; they run in the order of their instants.
    expect(lead.actions.map((a) => a.at.text)).toEqual(['day 2', 'day 0 12:00', '36h']);
    expect(actionsInOrder(scenario, START, TOKYO).map((a) => a.action.at.text)).toEqual(['day 0 12:00', '36h', 'day 2']);
    expect(lead.expect.map((e) => e.text)).toEqual(['email welcome by day 0', 'no email reminder', 'stage warm by day 1 18:00', 'handed off to kenji@acme.example', 'no handoff', 'exit converted by 10d']);
  });

  it('refuses what it cannot run, each at its place', () => {
    const result = compileScenario({ start: '2026-12-08 10:00', leads: { Aiko: { email: 'x', do: [{ at: 'soon', event: 'a.b' }, { at: 'day 1', open: 'welcome', click: 'welcome' }], expect: [{ stage: 'lukewarm' }, { handoff: 'yes' }, { sent: 'welcome' }], colour: 'red' } } });
    expect(result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'start: expected an ISO date-time with its UTC offset, like 2027-01-12T10:00:00+09:00',
      'leads.Aiko: a lead name is lower-case letters, digits, - and _',
      'leads.Aiko.colour: unknown field; expected one of email, attributes, timezone, consent, do, expect',
      'leads.Aiko.email: expected an email address',
      'leads.Aiko.do[0].at: expected a moment like "day 2", "day 2 14:30" or "36h", got "soon"',
      'leads.Aiko.do[1]: expected one of event, open or click',
      'leads.Aiko.expect[0].stage: expected one of cold, warm, hot',
      'leads.Aiko.expect[1].handoff: expected true or false',
      'leads.Aiko.expect[2]: expected one of email, no_email, stage, handoff or exit',
    ]);
  });

  it('places moments in the campaign\'s zone; a day\'s deadline runs to its midnight', () => {
    expect(momentAt(parseMoment('day 2')!, START, TOKYO)).toBe(START + 2 * D);
    expect(momentAt(parseMoment('day 1 09:30')!, START, TOKYO)).toBe(Date.parse('2026-12-09T00:30:00Z'));
    expect(momentAt(parseMoment('36h')!, START, TOKYO)).toBe(START + 36 * H);
    expect(parseMoment('day two')).toBeUndefined();
    // The default start: the first Tuesday 10:00 in the zone with no holiday that week.
    const window = { days: [1, 2, 3, 4, 5], start: 540, end: 1080, useLeadTimezone: false, timezone: TOKYO, holidays: { country: 'JP', dates: ['2026-12-10'] } };
    expect(defaultScenarioStart(window, TOKYO, Date.parse('2026-12-02T00:00:00Z'))).toBe(Date.parse('2026-12-15T01:00:00Z'));
  });
});

describe('judging a history', () => {
  const scenario = compileScenario({
    leads: {
      aiko: {
        email: 'aiko@globex.example',
        expect: [{ email: 'welcome', by: 'day 0' }, { email: 'pricing', by: 'day 1' }, { no_email: 'reminder' }, { stage: 'warm', by: 'day 1 12:00' }, { handoff: true, owner: 'ren@acme.example' }, { exit: 'converted' }],
      },
    },
  });
  if (!scenario.ok) throw new Error(JSON.stringify(scenario.errors));
  const lead = scenario.scenario.leads[0]!;
  const history: LeadHistory = {
    emails: [
      { at: START + 5 * H, template: 'welcome', step: 'tracks.cold[0]', subject: 'Hi', status: 'sent' },
      { at: START + 2 * D, template: 'pricing', step: 'tracks.warm[2]', label: 'prices', subject: 'Prices', status: 'sent' },
      { at: START + 3 * D, template: 'reminder', step: 'tracks.cold[1]', subject: 'Hello?', status: 'capped' },
    ],
    stages: [{ at: START + D + H, from: 'cold', to: 'warm' }],
    handoffs: [{ at: START + 3 * D, owner: 'kenji@acme.example' }],
    exits: [],
  };

  it('says for each expectation whether it held and what happened', () => {
    expect(checkExpectations(lead, history, START, TOKYO)).toEqual([
      { text: 'email welcome by day 0', passed: true, actual: 'sent day 0 15:00' },
      { text: 'email pricing by day 1', passed: false, actual: 'sent day 2 10:00' },
      // A capped email was not sent.
      { text: 'no email reminder', passed: true, actual: 'not sent' },
      { text: 'stage warm by day 1 12:00', passed: true, actual: 'cold → warm day 1 11:00' },
      { text: 'handed off to ren@acme.example', passed: false, actual: 'handed off day 3 10:00 to kenji@acme.example' },
      { text: 'exit converted', passed: false, actual: 'exits: still enrolled' },
    ]);
  });
});

describe('the simulator\'s scripted mode', () => {
  it('runs a lead\'s actions in the order of their instants, entering on entry.on and entry.where', () => {
    const campaign = validateCampaign({
      id: 'scripted', name: 'Scripted', from: { email: 'a@b.example' }, timezone: TOKYO,
      entry: { on: 'form.submitted', where: "event.data.form == 'demo'" }, consent: 'marketing_email',
      scoring: { behaviour: [{ on: 'page.viewed', points: 30, label: 'pages' }] }, stages: { warm: 30, hot: 100 },
      send_window: { days: 'every_day', spread: 0 },
      tracks: { cold: [{ email: { template: 'welcome', subject: 'Hi' } }], warm: [{ email: { template: 'pricing', subject: 'Prices' } }] },
    });
    if (!campaign.ok) throw new Error(JSON.stringify(campaign.errors));
    const scenario = compileScenario({
      leads: {
        // Written out of order: the page view at 10:00 follows the entry at 09:45.
        aiko: { email: 'aiko@globex.example', do: [{ at: 'day 0', event: 'page.viewed' }, { at: 'day 0 09:45', event: 'form.submitted', data: { form: 'demo' } }], expect: [] },
        // A form that is not the demo's does not enrol.
        hiro: { email: 'hiro@initech.example', do: [{ at: 'day 0', event: 'form.submitted', data: { form: 'newsletter' } }], expect: [] },
      },
    });
    if (!scenario.ok) throw new Error(JSON.stringify(scenario.errors));
    const histories = simulateScenario(campaign.campaign, scenario.scenario, { start: START });
    expect(histories.get('aiko')).toEqual({
      emails: [
        { at: START - 15 * 60_000, template: 'welcome', step: 'tracks.cold[0]', subject: 'Hi', status: 'sent' },
        { at: START, template: 'pricing', step: 'tracks.warm[0]', subject: 'Prices', status: 'sent' },
      ],
      stages: [{ at: START, from: 'cold', to: 'warm' }],
      handoffs: [],
      exits: [],
    });
    expect(histories.get('hiro')).toEqual({ emails: [], stages: [], handoffs: [], exits: [] });
  });
});
