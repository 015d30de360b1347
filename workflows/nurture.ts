// One enrolment of one lead in one campaign version. The campaign interpreter decides; this
// workflow only feeds it inputs (signals, timers, activity results) and carries out its
// commands with activities. Everything here is deterministic: time is the workflow clock.
//
// Code changes and running enrolments: what an enrolment is from its start (its keys, its start
// check) follows `engineVersion` in its input; a change to how a running enrolment carries out a
// command is guarded by wf.patched(), so histories recorded before it replay the old way
// (tests/replay replays recorded ones).
import * as wf from '@temporalio/workflow';
import { describeState, initialState, step, type EnrolmentState, type HandoffState } from '../campaign/interpreter';
import { migrateState } from '../campaign/migration';
import { answerRefusal, type SalesOutcome } from '../campaign/sales-answers';
import type { Campaign, Command, EnrolmentStatus, Input, LeadEvent, LeadSnapshot, Person, SendOutcome } from '../campaign/types';
import { unreachable } from '../campaign/unreachable';
import type { NurtureActivities } from '../activities';
import type { OpenedHandoff } from '../activities/handoff';
import type { SendEmailRequest } from '../activities/send';

/**
 * The engine version new enrolments start with. 1 (absent): keys derived from the workflow id,
 * which a lead who enters again reuses. 2: sends, handoffs and their links keyed by the
 * enrolment's own id; campaign status and erasure checked when the workflow starts; the lead's
 * own offset on send-window openings. 3: handoffs routed by the campaign's rules and kept by the
 * sales desk (assignment, notices, SLA on the sales calendar); the workflow no longer times them.
 * 4: a stage the score brings the lead back to resumes its track where it was left (or restarts,
 * or skips what was sent: the campaign's track_reentry) instead of always restarting; the entering
 * event's data comes with the start (dates taken from it); score and stage are written once per
 * burst of inputs. 5: the timer of a wake time is started once and never cancelled, instead of
 * being cancelled and started again around every input (two history events fewer per input; and
 * Temporal's time-skipping test server strands a run whose workflow task cancels a timer that
 * fired while the task was with the worker, sdk-java issues 2606 and 3088).
 */
export const ENGINE_VERSION = 5;

/** The timer of a wake time, and whether it has fired. */
interface WakeTimer {
  at: number;
  fired: boolean;
}

export interface NurtureInput {
  campaign: Campaign;
  campaignVersion: number;
  lead: LeadSnapshot;
  /** See ENGINE_VERSION; absent in enrolments started before it existed. */
  engineVersion?: number;
  /** The data of the event that enrols the lead, for dates taken from it (`event.data.seminar_at`); absent for a launch. */
  entryData?: Record<string, unknown>;
  /** Set when the workflow continues as new: everything it had. */
  carried?: CarriedState;
}

export { workflowIdFor } from '../campaign/enrolment-id';

/** The input of a new enrolment on `campaignVersion` of `campaign`. */
export function enrolmentInput(campaign: Campaign, campaignVersion: number, lead: LeadSnapshot, entry?: LeadEvent): NurtureInput {
  return { campaign, campaignVersion, lead, engineVersion: ENGINE_VERSION, ...(entry && { entryData: entry.data ?? {} }) };
}

/**
 * Where a handoff went, as the openHandoff activity answered (its status and deadlines are the
 * interpreter's, in the enrolment state).
 */
export interface HandoffAssignment {
  id: string;
  /** Null while nobody could be assigned (see the handoff's unassigned reason). */
  owner: Person | null;
  manager: Person | null;
}

/** A requested move to another campaign version, applied by the main loop between two inputs. */
interface Migration {
  type: 'migrate';
  campaign: Campaign;
  campaignVersion: number;
}
type InboxItem = Input | Migration;

interface CarriedState {
  state: EnrolmentState;
  enrolmentId: number;
  inbox: InboxItem[];
  wakeAt?: number;
  /** By handoff key. */
  assignments: Record<string, HandoffAssignment>;
  recorded: Recorded;
  /** The number of the last campaign status change applied (absent before engine version 2). */
  statusSeq?: number;
}

interface Recorded {
  stage: string;
  score: number;
  status: EnrolmentStatus | '';
}

export interface SalesResponse {
  handoffId: string;
  outcome: SalesOutcome;
  note?: string;
  /** Not ready: when the lead returns to nurture (ms), instead of the campaign's delay. */
  recycleAt?: number;
}

export const leadEventSignal = wf.defineSignal<[LeadEvent]>('leadEvent');
export const consentSignal = wf.defineSignal<[{ purpose: string; granted: boolean }]>('consent');
// Unnumbered pause and resume, as API processes before campaignStatusSignal send them (during a
// rolling deploy) and as recorded histories hold them; nothing here sends them any more.
const pauseSignal = wf.defineSignal('pause');
const resumeSignal = wf.defineSignal('resume');
export const exitSignal = wf.defineSignal<[{ reason: string }]>('exit');
/**
 * The campaign's status changed. Numbered: a change older than the last one applied is ignored,
 * so overlapping fan-outs (pause, then resume at once) cannot leave an enrolment behind.
 */
export const campaignStatusSignal = wf.defineSignal<[{ status: 'active' | 'paused' | 'archived'; seq: number }]>('campaignStatus');
/** The mailer's word on an email queued by queueEmail (named by enrolment: the workflow id outlives one). */
export const sendResultSignal = wf.defineSignal<[{ enrolmentId: number; sendKey: string; status: SendOutcome; variant?: string }]>('sendResult');
/** A sales answer, as an update so that the caller learns at once whether the workflow took it. */
export const salesResponseUpdate = wf.defineUpdate<{ accepted: true }, [SalesResponse]>('respondToHandoff');
/**
 * Moves the enrolment to another version of its campaign (see campaign/migration.ts). Accepted
 * once queued: the switch happens between two inputs, in order with the signals around it.
 */
export const migrateVersionUpdate = wf.defineUpdate<{ campaignVersion: number }, [{ campaign: Campaign; campaignVersion: number }]>('migrateVersion');
export const stateQuery = wf.defineQuery<EnrolmentView>('state');

export type EnrolmentView = Omit<ReturnType<typeof describeState>, 'handoff'> & {
  workflowId: string;
  enrolmentId?: number;
  campaignVersion: number;
  /** The open handoff with the rep it went to. */
  handoff: (HandoffState & Partial<HandoffAssignment>) | null;
  /** Inputs received (events, answers, wake-ups…) that the workflow has not taken yet. */
  pendingInputs: number;
};

const records = wf.proxyActivities<NurtureActivities>({
  startToCloseTimeout: '30 seconds',
  // Database outages are waited out, however long they last.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// The earlier send activity (enrolments whose history awaits it): it completes when the mailer
// has handed the email to SMTP; an SMTP 4xx fails the attempt and this policy schedules the next
// one. Since 'sends-reported-by-signal' emails are queued by `records.queueEmail` instead and
// their outcome comes back as a signal: the decision loop never waits on SMTP or a backlog.
const mail = wf.proxyActivities<NurtureActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

// The handoff webhook runs beside the decision loop with a bounded retry (about 20 minutes): a
// receiver that is down or refuses is recorded on the handoff's timeline and never holds up the lead.
const webhooks = wf.proxyActivities<NurtureActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 8 },
});

/** A run that continued as new under earlier code carried its handoffs as records with a key. */
function carriedAssignments(carried: CarriedState): Record<string, HandoffAssignment> {
  if (carried.assignments) return { ...carried.assignments };
  const records = (carried as { handoffs?: (HandoffAssignment & { key: string })[] }).handoffs ?? [];
  return Object.fromEntries(records.map(({ key, id, owner, manager }) => [key, { id, owner, manager }]));
}

/** Past this many history events the workflow continues as new, carrying its state. */
export const HISTORY_LIMIT = 5000;

export async function nurture(input: NurtureInput): Promise<EnrolmentView> {
  // Both change when the enrolment is migrated to another version (migrateVersionUpdate).
  let campaign = input.campaign;
  let campaignVersion = input.campaignVersion;
  const engineVersion = input.engineVersion ?? 1;
  const { workflowId } = wf.workflowInfo();
  const carried = input.carried;
  // Since engine version 2 a lead's send window opens a few minutes after the hour (its own
  // deterministic offset), so a time zone's leads do not all wake at 09:00:00.000.
  let state = carried?.state ?? initialState(campaign, input.lead, Date.now(), { windowJitter: engineVersion >= 2, salesDesk: engineVersion >= 3, trackReentry: engineVersion >= 4, entryData: input.entryData });
  const inbox: InboxItem[] = carried ? [...carried.inbox] : [{ type: 'start' }];
  let wakeAt = carried?.wakeAt;
  /** The timer of wakeAt since engine version 5 (see inputBefore). */
  let wakeTimer: WakeTimer | undefined;
  const assignments = carried ? carriedAssignments(carried) : {};
  let recorded: Recorded = carried?.recorded ?? { stage: '', score: Number.NaN, status: '' };
  let enrolmentId = carried?.enrolmentId;
  let statusSeq = carried?.statusSeq ?? 0;
  /** Work running beside the decision loop (webhooks); the run ends only after it. */
  let background = 0;

  const view = (): EnrolmentView => {
    const described = describeState(campaign, state, Date.now());
    const handoff = described.handoff && { ...described.handoff, ...assignments[described.handoff.key] };
    return { ...described, handoff, workflowId, enrolmentId, campaignVersion, pendingInputs: inbox.length };
  };
  const handoffKeyOf = (handoffId: string) => Object.keys(assignments).find((key) => assignments[key]!.id === handoffId);
  /** Keys of sends and handoffs: unique per enrolment since engine version 2 (a lead may enter again). */
  const keyBase = () => (engineVersion >= 2 ? `enrolment-${enrolmentId}` : workflowId);
  const handoffIdOf = (handoffKey: string) => (engineVersion >= 2 ? `enrolment-${enrolmentId}-${handoffKey}` : `${workflowId}/${handoffKey}`);
  const applyStatus = (status: 'active' | 'paused' | 'archived', seq: number) => {
    if (seq <= statusSeq) return;
    statusSeq = seq;
    inbox.push(status === 'paused' ? { type: 'pause' } : status === 'active' ? { type: 'resume' } : { type: 'exit', reason: 'campaign archived' });
  };

  wf.setHandler(leadEventSignal, (event) => void inbox.push({ type: 'event', event }));
  wf.setHandler(consentSignal, ({ purpose, granted }) => void inbox.push({ type: 'consent', purpose, granted }));
  wf.setHandler(pauseSignal, () => void inbox.push({ type: 'pause' }));
  wf.setHandler(resumeSignal, () => void inbox.push({ type: 'resume' }));
  wf.setHandler(exitSignal, ({ reason }) => void inbox.push({ type: 'exit', reason }));
  wf.setHandler(campaignStatusSignal, ({ status, seq }) => applyStatus(status, seq));
  wf.setHandler(sendResultSignal, (report) => {
    if (report.enrolmentId !== enrolmentId) return; // an earlier enrolment's email
    inbox.push({ type: 'send_result', sendKey: report.sendKey, status: report.status, variant: report.variant });
  });
  wf.setHandler(
    salesResponseUpdate,
    (response) => {
      inbox.push({
        type: 'sales_response',
        handoffKey: handoffKeyOf(response.handoffId)!,
        outcome: response.outcome,
        note: response.note,
        ...(response.recycleAt !== undefined && { recycleAt: response.recycleAt }),
      });
      return { accepted: true as const };
    },
    {
      validator: (response) => {
        const key = handoffKeyOf(response.handoffId);
        if (!key) throw new Error(`no handoff ${response.handoffId} in this enrolment`);
        if (state.exited) throw new Error('the enrolment has ended');
        // Only the enrolment's current handoff is open; a recycled lead's earlier one is closed.
        const status = state.handoff?.key === key ? state.handoff.status : 'not_ready';
        const refusal = answerRefusal(response.handoffId, status, response.outcome);
        if (refusal) throw new Error(refusal);
      },
    },
  );
  // The version the enrolment will be on once every queued migration is applied.
  const targetVersion = () => {
    for (let i = inbox.length - 1; i >= 0; i--) {
      const item = inbox[i]!;
      if (item.type === 'migrate') return item.campaignVersion;
    }
    return campaignVersion;
  };
  wf.setHandler(
    migrateVersionUpdate,
    (request) => {
      // Queued rather than applied here: the main loop may be half-way through carrying out the
      // commands of an input decided under the current version.
      inbox.push({ type: 'migrate', campaign: request.campaign, campaignVersion: request.campaignVersion });
      return { campaignVersion: request.campaignVersion };
    },
    {
      validator: (request) => {
        if (request.campaign.id !== campaign.id) throw new Error(`this enrolment is in campaign ${campaign.id}, not ${request.campaign.id}`);
        if (request.campaignVersion === targetVersion()) throw new Error(`the enrolment is already on version ${request.campaignVersion}`);
        if (state.exited) throw new Error('the enrolment has ended');
      },
    },
  );
  wf.setHandler(stateQuery, view);

  const start = { workflowId, campaignId: campaign.id, campaignVersion, leadId: input.lead.id, at: Date.now() };
  if (enrolmentId === undefined && engineVersion >= 2) {
    // What happened before this workflow ran is not lost: a pause or archive of the campaign
    // (its signal found no workflow to reach) and the lead's erasure.
    const begun = await records.beginEnrolment(start);
    enrolmentId = begun.enrolmentId;
    if (begun.leadErased) inbox.push({ type: 'exit', reason: 'erased' });
    else if (begun.campaignStatus !== 'active') applyStatus(begun.campaignStatus === 'draft' ? 'paused' : begun.campaignStatus, begun.statusSeq);
    else statusSeq = Math.max(statusSeq, begun.statusSeq); // a newer change may have been signalled meanwhile
  }
  enrolmentId ??= await records.recordEnrolment(start);

  try {
    for (;;) {
      if (inbox.length === 0) {
        const woken = engineVersion >= 5 ? await inputBefore(wakeAt) : await inputBeforeCancellingTimer(wakeAt);
        if (!woken) {
          wakeAt = undefined;
          inbox.push({ type: 'wake' });
        }
      }
      let next = inbox.shift()!;
      if (next.type === 'migrate') next = await migrate(next);
      if (next.type === 'sales_response') await recordAnswer(next);

      const decidedAt = Date.now();
      const result = step(campaign, state, next, decidedAt);
      state = result.state;
      const feedback: Input[] = [];
      let exitReason: string | undefined;
      for (const command of result.commands) {
        if (command.type === 'wake_at') wakeAt = command.at;
        else if (command.type === 'exit') exitReason = command.reason;
        else {
          const answer = await perform(command, decidedAt);
          if (answer) feedback.push(answer);
        }
      }
      inbox.unshift(...feedback);
      // Since engine version 4 a burst of inputs costs one write of the score and stage, made once
      // the inputs waiting have been taken (the last event of the burst waits for no write per
      // event before it); a stage change, a handoff or an exit is written at once.
      const decisive = exitReason !== undefined || result.commands.some((command) => command.type === 'stage_changed' || command.type === 'handoff');
      if (engineVersion < 4 || inbox.length === 0 || decisive) await recordProgress(result.commands);

      if (exitReason !== undefined) {
        await records.recordExit({ enrolmentId, reason: exitReason, at: Date.now() });
        await wf.condition(() => background === 0 && wf.allHandlersFinished());
        // A webhook step just before the exit (a sunset's) has its outcome on the timeline too.
        for (const late of inbox) if (late.type === 'webhook_result') state = step(campaign, state, late, Date.now()).state;
        return view();
      }
      const info = wf.workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > HISTORY_LIMIT) {
        await wf.condition(() => background === 0 && wf.allHandlersFinished());
        await wf.continueAsNew<typeof nurture>({
          campaign,
          campaignVersion,
          lead: input.lead,
          ...(input.engineVersion !== undefined && { engineVersion: input.engineVersion }),
          carried: { state, enrolmentId, inbox, wakeAt, assignments, recorded, ...(engineVersion >= 2 && { statusSeq }) },
        });
      }
    }
  } catch (error) {
    // Whatever ends the run by mistake (a bug, a refused activity), the enrolment's row is closed
    // with the reason, so the lead's later events are not routed to a dead run and it may enter again.
    if (error instanceof wf.TemporalFailure && !state.exited) {
      const reason = wf.isCancellation(error) ? 'cancelled' : `failed: ${failureMessage(error)}`;
      await wf.CancellationScope.nonCancellable(() => records.recordExit({ enrolmentId: enrolmentId!, reason, at: Date.now() }));
    }
    throw error;
  }

  /** Waits for an input or for `at` as engine versions 1–4 do: the timer is cancelled when an input comes first, and started again for the next wait. */
  async function inputBeforeCancellingTimer(at: number | undefined): Promise<boolean> {
    if (at === undefined) return wf.condition(() => inbox.length > 0).then(() => true);
    const due = at - Date.now();
    return due > 0 && wf.condition(() => inbox.length > 0, due);
  }

  /**
   * Waits for an input or for `at` (engine version 5): true when an input came first. The wake
   * time's timer is started once and kept while inputs come and go. It is never cancelled: when
   * the wake time changes, the old timer is left to fire and wakes nobody (one idle workflow task
   * later). Temporal's time-skipping test server refuses a cancel of a timer that fired while the
   * workflow task was with the worker, which the worker cannot know, and strands the run
   * (sdk-java issues 2606 and 3088).
   */
  async function inputBefore(at: number | undefined): Promise<boolean> {
    if (wakeTimer?.at !== at) wakeTimer = undefined;
    if (at !== undefined && at <= Date.now()) return false;
    if (at !== undefined && !wakeTimer) {
      const timer: WakeTimer = { at, fired: false };
      // Not cancellable: a cancelled workflow ends at the condition below, and its timer goes with it.
      void wf.CancellationScope.nonCancellable(() => wf.sleep(at - Date.now())).then(() => void (timer.fired = true));
      wakeTimer = timer;
    }
    await wf.condition(() => inbox.length > 0 || wakeTimer?.fired === true);
    if (inbox.length > 0) return true;
    wakeTimer = undefined;
    return false;
  }

  /** Switches to the requested version and returns the input that lets the interpreter carry on under it. */
  async function migrate(request: Migration): Promise<Input> {
    const fromVersion = campaignVersion;
    state = migrateState(campaign, request.campaign, state, Date.now());
    campaign = request.campaign;
    campaignVersion = request.campaignVersion;
    await records.recordCampaignVersion({ enrolmentId: enrolmentId!, campaignVersion, at: Date.now() });
    return { type: 'migrated', fromVersion, toVersion: campaignVersion };
  }

  async function recordAnswer(answer: Extract<Input, { type: 'sales_response' }>) {
    const assignment = assignments[answer.handoffKey];
    if (!assignment) return;
    await records.recordSalesResponse({ handoffId: assignment.id, outcome: answer.outcome, note: answer.note, at: Date.now() });
  }

  async function recordProgress(commands: Command[]) {
    const now = view();
    const status: EnrolmentStatus = now.exited ? 'exited' : now.paused ? 'paused' : state.handoffCount > 0 ? 'handed_off' : 'active';
    const stageChange = commands.find((command) => command.type === 'stage_changed');
    if (now.stage === recorded.stage && now.score === recorded.score && status === recorded.status && !stageChange) return;
    await records.recordProgress({
      enrolmentId: enrolmentId!,
      status,
      stage: now.stage,
      score: now.score,
      at: Date.now(),
      stageChange: stageChange && { from: stageChange.from, to: stageChange.to },
      qualified: commands.some((command) => command.type === 'handoff'),
    });
    recorded = { stage: now.stage, score: now.score, status };
  }

  /** The email's request, as every send shares it. */
  function emailRequest(fields: Pick<SendEmailRequest, 'idempotencyKey' | 'kind' | 'template' | 'subject'> & Partial<SendEmailRequest>): SendEmailRequest {
    return {
      requestedAt: Date.now(),
      from: campaign.from,
      campaign: { id: campaign.id, version: campaignVersion, name: campaign.name },
      enrolmentId,
      leadId: input.lead.id,
      ...fields,
    };
  }

  /** Carries out one command of the interpreter's decision taken at `decidedAt`. */
  async function perform(command: Exclude<Command, { type: 'wake_at' | 'exit' }>, decidedAt: number): Promise<Input | undefined> {
    switch (command.type) {
      case 'send': {
        const request = emailRequest({
          // The instant the interpreter counted the frequency cap at, which the database checks it
          // at again: not the later one at which an earlier command of the decision let this go.
          requestedAt: decidedAt,
          idempotencyKey: `${keyBase()}:${command.sendKey}`,
          kind: command.kind,
          template: command.template,
          subject: command.subject,
          stepPath: command.stepPath,
          ab: command.ab && { ...command.ab, evaluation: campaign.ab },
          consentPurpose: campaign.consent,
          frequencyCap: campaign.frequencyCap,
        });
        if (sendsReportedBySignal()) {
          // Queued, not awaited: the outcome comes back as an input (sendResultSignal) unless it is known now.
          const queued = await records.queueEmail({ ...request, report: { workflowId, sendKey: command.sendKey } });
          if (queued.status === 'queued') return undefined;
          return { type: 'send_result', sendKey: command.sendKey, status: queued.status, variant: queued.variant };
        }
        const result = await sendOrFail(request);
        return { type: 'send_result', sendKey: command.sendKey, status: result.status, variant: result.variant };
      }
      case 'stage_changed':
        return undefined; // recorded with the progress after this step
      case 'email_not_sent':
        return undefined; // on the timeline already; counted by the simulator
      case 'handoff':
        await openHandoff(command);
        return undefined;
      case 'update_lead':
        // Its lead.updated event comes back as an input; the state has the change already.
        await records.updateLead({ leadId: input.lead.id, set: command.set, tag: command.tag, untag: command.untag });
        return undefined;
      case 'withdraw_consent':
        await records.withdrawConsent({ leadId: input.lead.id, purpose: command.purpose, ...origin(command.stepPath) });
        return undefined;
      case 'suppress':
        await records.suppressLead({ leadId: input.lead.id, reason: command.reason, ...origin(command.stepPath) });
        return undefined;
      case 'notify':
        // Not marketing email: no consent purpose, so no window, cap or consent applies; one email per address.
        for (const to of command.to) {
          await sendSalesMail(
            emailRequest({
              idempotencyKey: `${keyBase()}:notify:${command.key}:${to}`,
              kind: 'internal_notice',
              template: command.template,
              subject: command.subject,
              stepPath: command.stepPath,
              to: { email: to },
              data: { step: command.step, stage: command.stage, score: command.score },
            }),
          );
        }
        return undefined;
      case 'webhook':
        postStepWebhook(command);
        return undefined;
      case 'sales_reminder':
      case 'sales_escalation': {
        const handoff = assignments[command.handoffKey];
        if (!handoff) return undefined;
        const escalation = command.type === 'sales_escalation';
        const to = escalation ? handoff.manager : handoff.owner;
        if (!to) return undefined; // nobody owns it: the unassigned alert went to whoever can act
        await sendSalesMail(
          emailRequest({
            idempotencyKey: `${keyBase()}:${command.handoffKey}:${command.type}:${command.due}`,
            kind: command.type,
            template: escalation ? 'sales-escalation' : 'sales-reminder',
            subject: escalation
              ? 'Escalation: {{lead.first_name}} {{lead.last_name}} was not contacted in time'
              : 'Reminder: contact {{lead.first_name}} {{lead.last_name}} before the deadline',
            to,
            data: { owner: handoff.owner, manager: handoff.manager },
            handoff: { id: handoff.id, deadline: command.due, timezone: campaign.timezone },
          }),
        );
        await records.recordHandoffEvent({ handoffId: handoff.id, kind: command.type, detail: { due: command.due }, at: Date.now() });
        return undefined;
      }
      default:
        return unreachable(command, 'command');
    }
  }

  async function openHandoff(command: Extract<Command, { type: 'handoff' }>) {
    const handoffId = handoffIdOf(command.handoffKey);
    const opened: OpenedHandoff = await records.openHandoff({
      handoffId,
      enrolmentId: enrolmentId!,
      leadId: input.lead.id,
      campaignId: campaign.id,
      score: command.score,
      reasons: command.reasons,
      breakdown: command.breakdown,
      firstContactDue: command.firstContactDue,
      outcomeDue: command.outcomeDue,
      assign: command.config.assign,
      at: Date.now(),
      ...(command.route && {
        desk: {
          route: command.route,
          sla: command.config.sla,
          template: command.config.notify.template,
          from: campaign.from,
          campaign: { id: campaign.id, version: campaignVersion, name: campaign.name },
        },
      }),
    });
    if (opened.leadErased) {
      inbox.unshift({ type: 'exit', reason: 'erased' });
      return;
    }
    assignments[command.handoffKey] = { id: handoffId, owner: opened.owner, manager: opened.manager };
    const notice = {
      reasons: command.reasons,
      score: Math.round(command.score),
      breakdown: command.breakdown,
      recent_activity: opened.recentActivity,
      owner: opened.owner,
    };
    const handoff = { id: handoffId, deadline: command.firstContactDue, timezone: campaign.timezone };
    if (command.route) {
      // The sales desk told the owner (or the manager) in the same transaction.
    } else if (opened.owner) {
      await sendSalesMail(
        emailRequest({
          idempotencyKey: `${keyBase()}:${command.handoffKey}:notice`,
          kind: 'sales_notice',
          template: command.config.notify.template,
          subject: 'New {{lead.role}} lead: {{lead.first_name}} {{lead.last_name}} ({{lead.company.name}}) — score {{score}}',
          to: opened.owner,
          data: notice,
          handoff,
        }),
      );
      await records.recordHandoffEvent({ handoffId, kind: 'notice_sent', detail: { to: opened.owner.email }, at: Date.now() });
    } else if (opened.alertTo) {
      // Nobody could take the lead: whoever can fix the team hears of it, with the answer links.
      await sendSalesMail(
        emailRequest({
          idempotencyKey: `${keyBase()}:${command.handoffKey}:alert`,
          kind: 'sales_alert',
          template: 'sales-alert',
          subject: 'Unassigned lead: {{lead.first_name}} {{lead.last_name}} ({{lead.company.name}}) — score {{score}}',
          to: opened.alertTo,
          data: { ...notice, reason: opened.unassignedReason, pool: command.config.assign.pool },
          handoff,
        }),
      );
      await records.recordHandoffEvent({ handoffId, kind: 'alert_sent', detail: { to: opened.alertTo.email }, at: Date.now() });
    }
    if (command.config.notify.webhook) {
      const delivery = {
        deliveryId: handoffId,
        event: 'handoff.created',
        payload: {
          handoff: handoffId,
          lead: { id: input.lead.id, ...opened.lead },
          ...notice,
          ...(opened.unassignedReason && { unassigned_reason: opened.unassignedReason }),
          first_contact_due: new Date(command.route ? opened.firstContactDue! : command.firstContactDue).toISOString(),
        },
      };
      if (webhookOffDecisionPath()) postWebhookBeside(handoffId, delivery);
      else await records.postWebhook(delivery);
    }
  }

  /** Posts the webhook beside the decision loop; its outcome goes on the handoff's timeline. */
  function postWebhookBeside(handoffId: string, delivery: Parameters<NurtureActivities['postWebhook']>[0]) {
    background++;
    void (async () => {
      try {
        const outcome = await webhooks.postWebhook(delivery).then(
          (result) => (result === 'delivered' ? { kind: 'webhook_delivered', detail: {} } : undefined),
          (error: unknown) => ({ kind: 'webhook_failed', detail: { error: failureMessage(error) } }),
        );
        if (outcome) await records.recordHandoffEvent({ handoffId, ...outcome, at: Date.now() });
      } finally {
        background--;
      }
    })();
  }

  /** Posts a webhook step's event beside the decision loop; its outcome comes back as an input for the timeline. */
  function postStepWebhook(command: Extract<Command, { type: 'webhook' }>) {
    background++;
    void (async () => {
      try {
        const result: Input = await webhooks
          .postStepWebhook({
            leadId: input.lead.id,
            deliveryId: `${keyBase()}:webhook:${command.key}`,
            event: command.event,
            step: command.step,
            stage: command.stage,
            score: command.score,
            ...origin(command.stepPath),
          })
          .then(
            (outcome) => ({ type: 'webhook_result', stepPath: command.stepPath, outcome }),
            (error: unknown) => ({ type: 'webhook_result', stepPath: command.stepPath, outcome: 'failed', error: failureMessage(error) }),
          );
        inbox.push(result);
      } finally {
        background--;
      }
    })();
  }

  /** The campaign step an action comes from. */
  function origin(stepPath: string) {
    return { campaign: { id: campaign.id, version: campaignVersion, name: campaign.name }, stepPath };
  }

  /** Sales mail (notice, reminder, escalation, alert): queued without waiting for SMTP. */
  async function sendSalesMail(request: SendEmailRequest): Promise<void> {
    if (sendsReportedBySignal()) await records.queueEmail(request);
    else await sendOrFail(request);
  }

  /** A send whose retries ran out (e.g. SMTP deferring for days) reports 'failed'. */
  async function sendOrFail(request: SendEmailRequest): Promise<{ status: SendOutcome; variant?: string }> {
    try {
      return await mail.sendEmail(request);
    } catch (error) {
      if (error instanceof wf.ActivityFailure) return { status: 'failed' };
      throw error;
    }
  }

  // Changes to how a running enrolment carries out commands. Enrolments of engine version 2 start
  // with them; earlier ones take them at their next command that is not replayed.
  function sendsReportedBySignal(): boolean {
    return engineVersion >= 2 || wf.patched('sends-reported-by-signal');
  }
  function webhookOffDecisionPath(): boolean {
    return engineVersion >= 2 || wf.patched('webhook-off-decision-path');
  }
}

/** The innermost message of an activity failure (the receiver's answer, not "Activity task failed"). */
function failureMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return current?.message ?? String(error);
}
