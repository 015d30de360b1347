// The simulator's scripted mode: a scenario's leads (campaign/scenario.ts) run through the
// interpreter alone, as the engine would run them — entry on `entry.on` and `entry.where`, the
// entering event given after the start, engine version 4's enrolment (window offset per lead,
// the sales desk, track re-entry), opens and clicks shaped as tracking stores them, every email
// reported sent, wake-ups when the interpreter asks. tests/e2e/differential.test.ts holds its
// histories against the real engine's for the same script.
import { holds } from './conditions';
import { initialState, stepInPlace, type EnrolmentState } from './interpreter';
import { actionsInOrder, emailMatches, scenarioEnd, stepLabels, type LeadHistory, type Scenario, type ScenarioLead } from './scenario';
import type { Campaign, Input, LeadEvent, LeadSnapshot } from './types';

export interface ScenarioSimulationOptions {
  start: number;
  /** The leads' ids (the window offset is a function of the id); absent: `scenario-<name>`. */
  leadIds?: ReadonlyMap<string, string>;
}

export function simulateScenario(campaign: Campaign, scenario: Scenario, options: ScenarioSimulationOptions): Map<string, LeadHistory> {
  const histories = new Map<string, LeadHistory>();
  const end = scenarioEnd(scenario, options.start, campaign.timezone);
  const labels = stepLabels(campaign);
  for (const lead of scenario.leads) histories.set(lead.name, simulateLead(campaign, lead, options.leadIds?.get(lead.name) ?? `scenario-${lead.name}`, options.start, end, labels));
  return histories;
}

function simulateLead(campaign: Campaign, lead: ScenarioLead, id: string, start: number, end: number, labels: Map<string, string>): LeadHistory {
  const history: LeadHistory = { emails: [], stages: [], handoffs: [], exits: [] };
  const snapshot: LeadSnapshot = {
    id,
    email: lead.email,
    attributes: { ...lead.attributes, email_domain: lead.email.split('@')[1] },
    timezone: lead.timezone ?? campaign.timezone,
    consent: lead.consent ? { [campaign.consent]: true } : {},
  };
  let state: EnrolmentState | undefined;
  let wakeAt: number | undefined;
  const sendKeys: string[] = [];

  const apply = (input: Input, now: number) => {
    const commands = stepInPlace(campaign, state!, input, now);
    const results: Input[] = [];
    for (const command of commands) {
      switch (command.type) {
        case 'send':
          history.emails.push({ at: now, template: command.template, step: command.stepPath, ...(labels.has(command.stepPath) && { label: labels.get(command.stepPath) }), subject: command.subject, status: 'sent' });
          sendKeys.push(command.sendKey);
          results.push({ type: 'send_result', sendKey: command.sendKey, status: 'sent' });
          break;
        case 'wake_at':
          wakeAt = command.at;
          break;
        case 'stage_changed':
          history.stages.push({ at: now, from: command.from, to: command.to });
          break;
        case 'handoff':
          history.handoffs.push({ at: now, owner: null });
          break;
        case 'exit':
          history.exits.push({ at: now, reason: command.reason });
          break;
        default:
          break; // side effects beyond the lead's own journey (sales mail, lead data, webhooks, notices)
      }
    }
    for (const result of results) apply(result, now);
  };
  /** The wake-ups due before `until`, each at its time. */
  const wakeUntil = (until: number) => {
    while (state && !state.exited && wakeAt !== undefined && wakeAt <= until) {
      const at = wakeAt;
      wakeAt = undefined;
      apply({ type: 'wake' }, at);
    }
  };

  for (const { action, index, at } of actionsInOrder({ name: '', leads: [lead] }, start, campaign.timezone)) {
    wakeUntil(at);
    let event: LeadEvent;
    if (action.kind === 'event') event = { id: `scenario-${index}`, type: action.type, at, data: action.data, machine: false };
    else {
      const i = history.emails.findIndex((email) => emailMatches(email, action.email));
      if (i < 0) throw new Error(`${action.at.text}: the lead has received no email "${action.email}" to ${action.kind}`);
      const email = history.emails[i]!;
      const kind = action.kind;
      event = {
        id: `scenario-${index}`,
        type: kind === 'open' ? 'email.opened' : 'email.clicked',
        at,
        data: { send_key: sendKeys[i], template: email.template, step: email.step, campaign: campaign.id, url: kind === 'click' ? 'https://scenario.example/' : null },
        machine: false,
      };
    }
    if (!state) {
      if (event.type !== campaign.entry.on) continue;
      if (campaign.entry.where && !holds(campaign.entry.where, { event, lead: snapshot.attributes }, { now: at, events: [] })) continue;
      state = initialState(campaign, snapshot, at, { windowJitter: true, salesDesk: true, trackReentry: true, entryData: event.data });
      apply({ type: 'start' }, at);
    }
    if (state.exited) continue;
    apply({ type: 'event', event }, at);
  }
  wakeUntil(end);
  return history;
}
