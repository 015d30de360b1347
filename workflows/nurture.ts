// One enrolment of one lead in one campaign version. The campaign interpreter decides; this
// workflow only feeds it inputs (signals, timers, activity results) and carries out its
// commands with activities. Everything here is deterministic: time is the workflow clock.
import * as wf from '@temporalio/workflow';
import { describeState, initialState, step, type EnrolmentState, type HandoffState } from '../campaign/interpreter';
import { migrateState } from '../campaign/migration';
import { answerRefusal, type SalesOutcome } from '../campaign/sales-answers';
import type { Campaign, Command, EnrolmentStatus, Input, LeadEvent, LeadSnapshot, Person, SendOutcome } from '../campaign/types';
import { unreachable } from '../campaign/unreachable';
import type { NurtureActivities } from '../activities';
import type { SendEmailRequest } from '../activities/send';

export interface NurtureInput {
  campaign: Campaign;
  campaignVersion: number;
  lead: LeadSnapshot;
  /** Set when the workflow continues as new: everything it had. */
  carried?: CarriedState;
}

/**
 * Where a handoff went, as the openHandoff activity answered (its status and deadlines are the
 * interpreter's, in the enrolment state).
 */
export interface HandoffAssignment {
  id: string;
  owner: Person;
  manager: Person;
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
}

export const leadEventSignal = wf.defineSignal<[LeadEvent]>('leadEvent');
export const consentSignal = wf.defineSignal<[{ purpose: string; granted: boolean }]>('consent');
export const pauseSignal = wf.defineSignal('pause');
export const resumeSignal = wf.defineSignal('resume');
export const exitSignal = wf.defineSignal<[{ reason: string }]>('exit');
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

// The send activity completes when the mailer has handed the email to SMTP; an SMTP 4xx fails
// the attempt and this policy schedules the next one. An attempt whose worker died before it
// stored the email is only noticed by its timeout, so that stays short: a later attempt finds
// an email already stored by its idempotency key and waits for that one, never sending twice.
const mail = wf.proxyActivities<NurtureActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
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
  const { workflowId } = wf.workflowInfo();
  const carried = input.carried;
  let state = carried?.state ?? initialState(campaign, input.lead, Date.now());
  const inbox: InboxItem[] = carried ? [...carried.inbox] : [{ type: 'start' }];
  let wakeAt = carried?.wakeAt;
  const assignments = carried ? carriedAssignments(carried) : {};
  let recorded: Recorded = carried?.recorded ?? { stage: '', score: Number.NaN, status: '' };
  let enrolmentId = carried?.enrolmentId;

  const view = (): EnrolmentView => {
    const described = describeState(campaign, state, Date.now());
    const handoff = described.handoff && { ...described.handoff, ...assignments[described.handoff.key] };
    return { ...described, handoff, workflowId, enrolmentId, campaignVersion, pendingInputs: inbox.length };
  };
  const handoffKeyOf = (handoffId: string) => Object.keys(assignments).find((key) => assignments[key]!.id === handoffId);

  wf.setHandler(leadEventSignal, (event) => void inbox.push({ type: 'event', event }));
  wf.setHandler(consentSignal, ({ purpose, granted }) => void inbox.push({ type: 'consent', purpose, granted }));
  wf.setHandler(pauseSignal, () => void inbox.push({ type: 'pause' }));
  wf.setHandler(resumeSignal, () => void inbox.push({ type: 'resume' }));
  wf.setHandler(exitSignal, ({ reason }) => void inbox.push({ type: 'exit', reason }));
  wf.setHandler(
    salesResponseUpdate,
    (response) => {
      inbox.push({ type: 'sales_response', handoffKey: handoffKeyOf(response.handoffId)!, outcome: response.outcome, note: response.note });
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

  enrolmentId ??= await records.recordEnrolment({
    workflowId,
    campaignId: campaign.id,
    campaignVersion,
    leadId: input.lead.id,
    at: Date.now(),
  });

  for (;;) {
    if (inbox.length === 0) {
      const due = wakeAt === undefined ? undefined : wakeAt - Date.now();
      const woken = due === undefined ? await wf.condition(() => inbox.length > 0).then(() => true) : due <= 0 ? false : await wf.condition(() => inbox.length > 0, due);
      if (!woken) {
        wakeAt = undefined;
        inbox.push({ type: 'wake' });
      }
    }
    let next = inbox.shift()!;
    if (next.type === 'migrate') next = await migrate(next);
    if (next.type === 'sales_response') await recordAnswer(next);

    const result = step(campaign, state, next, Date.now());
    state = result.state;
    const feedback: Input[] = [];
    let exitReason: string | undefined;
    for (const command of result.commands) {
      if (command.type === 'wake_at') wakeAt = command.at;
      else if (command.type === 'exit') exitReason = command.reason;
      else {
        const answer = await perform(command);
        if (answer) feedback.push(answer);
      }
    }
    inbox.unshift(...feedback);
    await recordProgress(result.commands);

    if (exitReason !== undefined) {
      await records.recordExit({ enrolmentId, reason: exitReason, at: Date.now() });
      await wf.condition(wf.allHandlersFinished);
      return view();
    }
    const info = wf.workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > HISTORY_LIMIT) {
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof nurture>({
        campaign,
        campaignVersion,
        lead: input.lead,
        carried: { state, enrolmentId, inbox, wakeAt, assignments, recorded },
      });
    }
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

  async function perform(command: Exclude<Command, { type: 'wake_at' | 'exit' }>): Promise<Input | undefined> {
    switch (command.type) {
      case 'send': {
        const result = await sendOrFail({
          idempotencyKey: `${workflowId}:${command.sendKey}`,
          kind: command.kind,
          requestedAt: Date.now(),
          from: campaign.from,
          template: command.template,
          subject: command.subject,
          campaign: { id: campaign.id, version: campaignVersion, name: campaign.name },
          enrolmentId,
          leadId: input.lead.id,
          stepPath: command.stepPath,
          ab: command.ab && { ...command.ab, evaluation: campaign.ab },
          consentPurpose: campaign.consent,
          frequencyCap: campaign.frequencyCap,
        });
        return { type: 'send_result', sendKey: command.sendKey, status: result.status, variant: result.variant };
      }
      case 'stage_changed':
        return undefined; // recorded with the progress after this step
      case 'handoff':
        await openHandoff(command);
        return undefined;
      case 'sales_reminder':
      case 'sales_escalation': {
        const handoff = assignments[command.handoffKey];
        if (!handoff) return undefined;
        const escalation = command.type === 'sales_escalation';
        await sendOrFail({
          idempotencyKey: `${workflowId}:${command.handoffKey}:${command.type}:${command.due}`,
          kind: command.type,
          requestedAt: Date.now(),
          from: campaign.from,
          template: escalation ? 'sales-escalation' : 'sales-reminder',
          subject: escalation
            ? 'Escalation: {{lead.first_name}} {{lead.last_name}} was not contacted in time'
            : 'Reminder: contact {{lead.first_name}} {{lead.last_name}} before the deadline',
          campaign: { id: campaign.id, version: campaignVersion, name: campaign.name },
          enrolmentId,
          leadId: input.lead.id,
          to: escalation ? handoff.manager : handoff.owner,
          data: { owner: handoff.owner, manager: handoff.manager },
          handoff: { id: handoff.id, deadline: command.due, timezone: campaign.timezone },
        });
        await records.recordHandoffEvent({ handoffId: handoff.id, kind: command.type, detail: { due: command.due }, at: Date.now() });
        return undefined;
      }
      default:
        return unreachable(command, 'command');
    }
  }

  async function openHandoff(command: Extract<Command, { type: 'handoff' }>) {
    const handoffId = `${workflowId}/${command.handoffKey}`;
    const opened = await records.openHandoff({
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
    });
    assignments[command.handoffKey] = { id: handoffId, owner: opened.owner, manager: opened.manager };
    const notice = {
      reasons: command.reasons,
      score: Math.round(command.score),
      breakdown: command.breakdown,
      recent_activity: opened.recentActivity,
      owner: opened.owner,
    };
    await sendOrFail({
      idempotencyKey: `${workflowId}:${command.handoffKey}:notice`,
      kind: 'sales_notice',
      requestedAt: Date.now(),
      from: campaign.from,
      template: command.config.notify.template,
      subject: 'New {{lead.role}} lead: {{lead.first_name}} {{lead.last_name}} ({{lead.company.name}}) — score {{score}}',
      campaign: { id: campaign.id, version: campaignVersion, name: campaign.name },
      enrolmentId,
      leadId: input.lead.id,
      to: opened.owner,
      data: notice,
      handoff: { id: handoffId, deadline: command.firstContactDue, timezone: campaign.timezone },
    });
    await records.recordHandoffEvent({ handoffId, kind: 'notice_sent', detail: { to: opened.owner.email }, at: Date.now() });
    if (command.config.notify.webhook) {
      await records.postWebhook({
        deliveryId: handoffId,
        event: 'handoff.created',
        payload: { handoff: handoffId, lead: { id: input.lead.id, ...opened.lead }, ...notice, first_contact_due: new Date(command.firstContactDue).toISOString() },
      });
    }
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
}
