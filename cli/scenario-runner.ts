// Runs a campaign test scenario on the real engine in virtual time: Temporal's official
// time-skipping test server, the real worker (workflows, activities, dispatcher, mailer, sales
// desk), PostgreSQL and an SMTP sink. Each lead's actions are stored as the API stores them
// (events; opens and clicks as tracked engagements of the email the lead received), the clock is
// moved to each moment, and the expectations are judged on what the database recorded.
import { randomBytes } from 'node:crypto';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  actionsInOrder,
  checkExpectations,
  defaultScenarioStart,
  emailMatches,
  formatMoment,
  scenarioEnd,
  stepLabels,
  type Campaign,
  type ExpectationResult,
  type LeadHistory,
  type Scenario,
  type ScenarioAction,
  type Stage,
} from '../campaign';
import { saveCampaignVersion, setCampaignStatus } from '../db/campaigns';
import { recordConsent } from '../db/consent';
import { outboxBacklog } from '../db/email-sends';
import { recordEngagement } from '../db/engagements';
import { storeEvents, storeTrackedEvent } from '../db/events';
import { campaignJourney } from '../db/lead-records';
import { upsertLead } from '../db/leads';
import type { Pool } from '../db/pool';
import { startSmtpSink } from '../devserver/smtp-sink';
import { startTimeSkippingServer } from '../devserver/temporal';
import { quietTemporalLogs } from '../runtime/temporal-logs';
import { startWorkerRuntime } from '../worker/runtime';
import { WORKFLOW_BUNDLE_OPTIONS } from '../worker/worker';
import { loadDemoSalesTeam } from './demo';

export interface LeadReport {
  name: string;
  email: string;
  leadId: string;
  /** The journey as recorded (times in epoch ms). */
  journey: LeadHistory;
  results: ExpectationResult[];
  /** What happened, one line per email, stage change, handoff and exit, in order. */
  history: string[];
}

export interface ScenarioReport {
  scenario: string;
  campaign: string;
  start: number;
  leads: LeadReport[];
  passed: boolean;
  /** Wall time of the run itself (after the servers started). */
  runMs: number;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Runs the scenario against a migrated, otherwise unused database (the campaign and leads are created in it). */
export async function runScenario(options: { campaign: Campaign; scenario: Scenario; pool: Pool; databaseUrl: string }): Promise<ScenarioReport> {
  const { campaign, scenario, pool } = options;
  // The report is the output: the SDK's own logs (worker state changes) only when they are errors.
  quietTemporalLogs();
  bundle ??= bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quietLogger });
  const [env, sink, workflowBundle] = await Promise.all([startTimeSkippingServer(), startSmtpSink(), bundle]);
  const secret = () => randomBytes(32).toString('base64url');
  const runtime = await startWorkerRuntime({
    connection: env.nativeConnection,
    client: env.client,
    pool,
    config: {
      temporalNamespace: 'default',
      taskQueue: `scenario-${randomBytes(4).toString('hex')}`,
      databaseUrl: options.databaseUrl,
      smtpUrl: sink.url,
      publicUrl: 'http://nurture.scenario',
      linkSecret: secret(),
      mailDomain: 'nurture.scenario',
      webhookSecret: secret(),
      dataSecret: secret(),
    },
    workflowBundle,
    mailerPollMs: 200,
    salesDesk: { everyMs: 250, clock: async () => new Date(await env.currentTimeMs()) },
  });
  try {
    const started = performance.now();
    const now = () => env.currentTimeMs();
    const advanceTo = async (at: number) => {
      const ms = at - (await now());
      if (ms > 0) await env.sleep(ms);
    };
    const settle = async () => {
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await runtime.salesDesk.runNow();
        await runtime.mailer.idle();
        quiet = (await outboxBacklog(pool)) === 0 ? quiet + 1 : 0;
      }
    };

    await loadDemoSalesTeam(pool);
    await saveCampaignVersion(pool, campaign);
    await setCampaignStatus(pool, campaign.id, 'active');
    const zone = campaign.timezone;
    // A day ahead at least, so that actions on day 0 before the start time are still to come.
    const start = scenario.start ?? defaultScenarioStart(campaign.sendWindow, zone, (await now()) + 86_400_000);
    const actions = actionsInOrder(scenario, start, zone);
    // The clock begins at the start, or at an earlier action on day 0 (`day 0 09:30` with a 10:00 start).
    const begin = Math.min(start, ...actions.map((action) => action.at));
    await advanceTo(begin);

    const leadIds = new Map<string, string>();
    for (const lead of scenario.leads) {
      const { lead: stored } = await upsertLead(pool, { email: lead.email, attributes: lead.attributes, timezone: lead.timezone ?? zone });
      if (lead.consent) await recordConsent(pool, { leadId: stored.id, purpose: campaign.consent, granted: true, source: `scenario:${scenario.name}`, at: new Date(begin) });
      leadIds.set(lead.name, stored.id);
    }

    const labels = stepLabels(campaign);
    // The actions of one moment together: the clock moves there once, and the engine settles once.
    for (let i = 0; i < actions.length; ) {
      const at = actions[i]!.at;
      await advanceTo(at);
      await settle();
      for (; i < actions.length && actions[i]!.at === at; i++) {
        const { lead, action, index } = actions[i]!;
        await perform(pool, campaign, labels, leadIds.get(lead.name)!, action, `${lead.name}-${index}`, await now());
      }
      await runtime.dispatcher.drain();
      await settle();
    }
    await advanceTo(scenarioEnd(scenario, start, zone));
    await settle();

    const leads: LeadReport[] = [];
    for (const lead of scenario.leads) {
      const history = await leadHistory(pool, leadIds.get(lead.name)!, campaign, labels);
      leads.push({
        name: lead.name,
        email: lead.email,
        leadId: leadIds.get(lead.name)!,
        journey: history,
        results: checkExpectations(lead, history, start, zone),
        history: historyLines(history, start, zone),
      });
    }
    return {
      scenario: scenario.name,
      campaign: campaign.id,
      start,
      leads,
      passed: leads.every((lead) => lead.results.every((result) => result.passed)),
      runMs: performance.now() - started,
    };
  } finally {
    await runtime.stop();
    await sink.close();
    await env.teardown();
  }
}

/** Stores the action as the API would: an event, or the engagement of an email the lead received. */
async function perform(pool: Pool, campaign: Campaign, labels: Map<string, string>, leadId: string, action: ScenarioAction, id: string, now: number) {
  if (action.kind === 'event') {
    await storeEvents(pool, [{ externalId: `scenario:${id}`, leadId, type: action.type, occurredAt: new Date(now), data: action.data }]);
    return;
  }
  const { emails } = await campaignJourney(pool, leadId, campaign.id);
  const send = emails.find((email) => email.status === 'sent' && emailMatches({ ...email, at: 0, ...(email.step && labels.has(email.step) && { label: labels.get(email.step) }) }, action.email));
  if (!send) throw new ScenarioError(`${action.at.text}: the lead has received no email "${action.email}" to ${action.kind} (received: ${emails.map((email) => email.template).join(', ') || 'none'})`);
  const kind = action.kind;
  await storeTrackedEvent(pool, `${kind}:scenario:${id}`, 0, async (tx) => {
    const engagementId = await recordEngagement(tx, { sendId: Number(send.id), kind, url: kind === 'click' ? 'https://scenario.example/' : null, ip: null, userAgent: 'nurture test', machine: false, machineReason: null, at: new Date(now) });
    return {
      externalId: `${kind}:${engagementId}`,
      leadId,
      type: kind === 'open' ? 'email.opened' : 'email.clicked',
      occurredAt: new Date(now),
      data: { send_key: send.sendKey, template: send.template, step: send.step, campaign: campaign.id, url: kind === 'click' ? 'https://scenario.example/' : null },
      machine: false,
    };
  });
}

async function leadHistory(pool: Pool, leadId: string, campaign: Campaign, labels: Map<string, string>): Promise<LeadHistory> {
  const journey = await campaignJourney(pool, leadId, campaign.id);
  return {
    emails: journey.emails.map((e) => ({ at: e.at.getTime(), template: e.template, step: e.step, ...(e.step && labels.has(e.step) && { label: labels.get(e.step) }), subject: e.subject, status: e.status })),
    stages: journey.stages.map((s) => ({ at: s.at.getTime(), from: s.from as Stage, to: s.to as Stage })),
    handoffs: journey.handoffs.map((h) => ({ at: h.at.getTime(), owner: h.owner })),
    exits: journey.exits.map((x) => ({ at: x.at.getTime(), reason: x.reason })),
  };
}

function historyLines(history: LeadHistory, start: number, zone: string): string[] {
  const day = (at: number) => formatMoment(at, start, zone);
  return [
    ...history.emails.map((e) => ({ at: e.at, line: `${day(e.at)}  email ${e.template} (${e.label ?? e.step}) "${e.subject}" ${e.status}` })),
    ...history.stages.map((s) => ({ at: s.at, line: `${day(s.at)}  stage ${s.from} → ${s.to}` })),
    ...history.handoffs.map((h) => ({ at: h.at, line: `${day(h.at)}  handed off to ${h.owner ?? 'nobody (unassigned)'}` })),
    ...history.exits.map((x) => ({ at: x.at, line: `${day(x.at)}  exited: ${x.reason}` })),
  ]
    .sort((a, b) => a.at - b.at)
    .map((item) => item.line);
}

/** A scenario that cannot be carried out as written (an open of an email never received). */
export class ScenarioError extends Error {}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
