// The campaign interpreter: a deterministic state machine, (state, input, now) → (state,
// commands). It owns every decision — score, stage, which step runs, when to send, when to
// wake, when to hand off — and does no I/O, so the same code runs in a Temporal workflow, in
// the simulator and in tests, and a replay always decides the same.
import { assignVariant } from './ab';
import { addBusinessTime, atTimeOfDay, isWindowOpen, nextTimeOfDay, nextWindowOpening, startOfLocalDate, windowOffsetMs, windowZone } from './calendar';
import { canonicalJson } from './canonical-json';
import { holds } from './conditions';
import { eventPoints, fitPoints, pruneBehaviour, scoreBreakdown, type BehaviourPoints } from './scoring';
import { acceptsAnswer, type HandoffStatus, type SalesOutcome } from './sales-answers';
import { routeHandoff } from './sales-routing';
import { nextStage, stageThreshold } from './stages';
import type { Campaign, Command, DateRef, Input, LeadEvent, LeadSnapshot, ScoreItem, SendOutcome, SendWindow, Stage, Step, TrackReentry, WebhookStepOutcome } from './types';
import { changedAttributes, DEFAULT_TRACK_REENTRY, LEAD_UPDATED } from './types';
import { unreachable } from './unreachable';

/** A position in a track: indexes into nested blocks, e.g. [2, 'then', 0]. */
export type StepPath = (number | 'then' | 'else')[];

export interface HandoffState {
  key: string;
  /** A disqualified or converted handoff ends the enrolment, so its state stays in one of these. */
  status: Extract<HandoffStatus, 'pending' | 'accepted' | 'not_ready'>;
  at: number;
  firstContactDue: number;
  remindAt: number;
  reminded: boolean;
  escalated: boolean;
  outcomeDue?: number;
  outcomeEscalated: boolean;
  /** Not ready: nurture resumes in this stage at this time. */
  recycleAt?: number;
  /** The sales desk keeps this handoff's SLA (reminder, escalation, reassignment): no timers here. */
  desk?: true;
}

export type Waiting =
  | { kind: 'timer'; until: number }
  | { kind: 'window'; until: number }
  | { kind: 'cap'; until: number }
  | { kind: 'event'; until: number; path: StepPath };

export interface EnrolmentState {
  lead: LeadSnapshot;
  startedAt: number;
  stage: Stage;
  fit: ScoreItem[];
  behaviour: BehaviourPoints[];
  adjustments: BehaviourPoints[];
  ruleTotals: Record<string, number>;
  track: Stage;
  /** Where the track is; null once it has run to its end. */
  path: StepPath | null;
  waiting?: Waiting;
  visits: Record<string, number>;
  /** Recent human and machine events, for conditions (bounded). */
  events: LeadEvent[];
  /** Recently seen event ids, for deduplication (bounded). */
  seen: string[];
  /** Times of recent marketing sends, for the frequency cap (bounded). */
  sentAt: number[];
  sends: { key: string; template: string; at: number; status?: string; variant?: string }[];
  triggerFiredAt: Record<string, number>;
  pendingTriggers: { index: number; eventId: string }[];
  paused: boolean;
  exited?: { reason: string; at: number };
  handoff?: HandoffState;
  handoffCount: number;
  history: { at: number; what: string }[];
  nextWake?: number;
  /**
   * This lead's send window opens this much later (closing unchanged), so that the leads waiting
   * for one opening do not all wake at once. Absent (enrolments started without window jitter,
   * and their carried states): no offset.
   */
  windowOffsetMs?: number;
  /** Handoffs are routed here and their SLA kept by the sales desk (absent: enrolments before it). */
  salesDesk?: true;
  /**
   * A stage the score brings the lead back to resumes, restarts or skips what was sent, as the
   * campaign's `trackReentry` says (absent: enrolments before it, whose tracks always restart).
   */
  trackReentry?: true;
  /** Where the lead left each track the score moved it away from, for `resume`. */
  trackPositions?: Partial<Record<Stage, { path: StepPath | null; waiting?: Waiting }>>;
  /** The data of the event that enrolled the lead, for dates taken from it (`event.data.…`). */
  entryData?: Record<string, unknown>;
}

export interface InitialStateOptions {
  /** Give the lead its offset on the send window's openings (`windowOffsetMs`). Off: the window as written. */
  windowJitter?: boolean;
  /** Leave handoffs' SLA to the sales desk, and route them here (`EnrolmentState.salesDesk`). */
  salesDesk?: boolean;
  /** Re-enter tracks as the campaign's `trackReentry` says (`EnrolmentState.trackReentry`). */
  trackReentry?: boolean;
  /** The data of the event that enrols the lead (`EnrolmentState.entryData`). */
  entryData?: Record<string, unknown>;
}

export const LIMITS = { events: 200, seen: 400, sends: 50, history: 30, pendingTriggers: 20, stepsPerInput: 500 };

export function initialState(campaign: Campaign, lead: LeadSnapshot, now: number, options: InitialStateOptions = {}): EnrolmentState {
  return {
    lead: { id: lead.id, email: lead.email, attributes: lead.attributes, timezone: lead.timezone, consent: { ...lead.consent } },
    startedAt: now,
    stage: 'cold',
    fit: fitPoints(campaign, lead.attributes),
    behaviour: [],
    adjustments: [],
    ruleTotals: {},
    track: 'cold',
    path: campaign.tracks.cold.length ? [0] : null,
    visits: {},
    events: [],
    seen: [],
    sentAt: [],
    sends: [],
    triggerFiredAt: {},
    pendingTriggers: [],
    paused: false,
    handoffCount: 0,
    history: [],
    ...(options.windowJitter && { windowOffsetMs: windowOffsetMs(campaign.sendWindow, lead.id) }),
    ...(options.salesDesk && { salesDesk: true as const }),
    ...(options.trackReentry && { trackReentry: true as const }),
    ...(options.entryData && { entryData: options.entryData }),
  };
}

/** The pure step: the given state is not changed. */
export function step(campaign: Campaign, state: EnrolmentState, input: Input, now: number): { state: EnrolmentState; commands: Command[] } {
  const copy = JSON.parse(JSON.stringify(state)) as EnrolmentState;
  return { state: copy, commands: stepInPlace(campaign, copy, input, now) };
}

/** The same step, changing `state` in place: for the simulator, which runs millions of them. */
export function stepInPlace(campaign: Campaign, state: EnrolmentState, input: Input, now: number): Command[] {
  const run = new Run(campaign, state, now);
  run.apply(input);
  return run.finish();
}

export function pathString(track: Stage, path: StepPath): string {
  let text = `tracks.${track}`;
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : `.${part}`;
  return text;
}

export function currentScore(campaign: Campaign, state: EnrolmentState, now: number) {
  return scoreBreakdown(campaign, state, now);
}

export function stepAt(steps: Step[], path: StepPath): Step | undefined {
  let block = steps;
  let found: Step | undefined;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    if (typeof part === 'number') {
      found = block[part];
      if (!found) return undefined;
    } else {
      if (!found || (found.kind !== 'branch' && found.kind !== 'wait_for')) return undefined;
      block = found[part];
    }
  }
  return found;
}

/** The path just after `path`, climbing out of finished blocks; null at the end of the track. */
function pathAfter(steps: Step[], path: StepPath): StepPath | null {
  const next = [...path];
  for (;;) {
    next[next.length - 1] = (next[next.length - 1] as number) + 1;
    if (stepAt(steps, next)) return next;
    if (next.length === 1) return null;
    next.splice(next.length - 2, 2);
  }
}

function labelPath(campaign: Campaign, label: string): { track: Stage; path: StepPath } | undefined {
  const search = (steps: Step[], prefix: StepPath): StepPath | undefined => {
    for (let i = 0; i < steps.length; i++) {
      const here = [...prefix, i];
      const s = steps[i]!;
      if (s.label === label) return here;
      if (s.kind === 'branch' || s.kind === 'wait_for') {
        const inner = search(s.then, [...here, 'then']) ?? search(s.else, [...here, 'else']);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  for (const track of ['cold', 'warm', 'hot'] as Stage[]) {
    const path = search(campaign.tracks[track], []);
    if (path) return { track, path };
  }
  return undefined;
}

function pushBounded<T>(list: T[], item: T, limit: number) {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

const WEBHOOK_OUTCOMES: Record<WebhookStepOutcome, string> = {
  delivered: 'delivered',
  not_configured: 'not posted: no WEBHOOK_URL is configured',
  lead_erased: 'not posted: the lead was erased',
  failed: 'failed',
};

/** One input's worth of decisions. */
class Run {
  readonly commands: Command[] = [];
  private steps = 0;
  /** The score at `now`, computed once until the points change (the simulator runs millions of steps). */
  private scored: { score: number; breakdown: ScoreItem[] } | undefined;
  private behaviourView: { now: number; events: LeadEvent[] } | undefined;

  constructor(
    private readonly c: Campaign,
    private readonly s: EnrolmentState,
    private readonly now: number,
  ) {}

  apply(input: Input) {
    const s = this.s;
    // Exit is final; only the outcome of a webhook posted before it is still noted.
    if (s.exited && input.type !== 'webhook_result') return;
    switch (input.type) {
      case 'start':
        this.note('enrolled');
        break;
      case 'event':
        if (!this.receive(input.event)) return;
        break;
      case 'wake':
        this.wake();
        break;
      case 'consent':
        s.lead.consent[input.purpose] = input.granted;
        this.note(`consent ${input.purpose} ${input.granted ? 'granted' : 'withdrawn'}`);
        break;
      case 'send_result':
        this.sendResult(input.sendKey, input.status, input.variant);
        break;
      case 'sales_response':
        this.salesResponse(input.handoffKey, input.outcome, input.recycleAt);
        break;
      case 'pause':
        s.paused = true;
        this.note('paused');
        break;
      case 'resume':
        s.paused = false;
        this.note('resumed');
        this.wake();
        break;
      case 'exit':
        this.exit(input.reason);
        break;
      case 'webhook_result':
        this.note(`${input.stepPath}: webhook ${WEBHOOK_OUTCOMES[input.outcome]}${input.error ? `: ${input.error}` : ''}`);
        return;
      case 'migrated':
        // The state already fits the new version (migrateState); the evaluation below applies its
        // thresholds and qualification at once, and a deadline that passed meanwhile is handled.
        this.note(`moved from campaign version ${input.fromVersion} to ${input.toVersion}`);
        this.wake();
        break;
      default:
        unreachable(input, 'input');
    }
    this.evaluate();
    this.runTrack();
    this.flushTriggers();
  }

  finish(): Command[] {
    const s = this.s;
    s.behaviour = pruneBehaviour(this.c, s.behaviour, this.now);
    s.nextWake = s.exited ? undefined : this.nextWake();
    if (s.nextWake !== undefined) this.commands.push({ type: 'wake_at', at: s.nextWake });
    return this.commands;
  }

  // ——— inputs ———

  /** Records an event; false when it was seen before (a duplicate changes nothing). */
  private receive(event: LeadEvent): boolean {
    const s = this.s;
    if (s.seen.includes(event.id)) return false;
    pushBounded(s.seen, event.id, LIMITS.seen);
    // Kept for conditions without the attributes it carries (they are the lead's, just below).
    pushBounded(s.events, event.type === LEAD_UPDATED ? this.updateAttributes(event) : event, LIMITS.events);
    if (event.type === 'unsubscribed') s.lead.consent[this.c.consent] = false;
    if (this.c.exitOn.includes(event.type)) {
      this.exit(event.type);
      return true;
    }
    for (const points of eventPoints(this.c, event, s.lead.attributes, s.ruleTotals)) s.behaviour.push(points);
    this.rescore();

    const waiting = s.waiting;
    if (waiting?.kind === 'event' && s.path) {
      const w = stepAt(this.c.tracks[s.track], waiting.path);
      // An event after the timeout does not count, even when it is handled before the wake-up.
      const inTime = this.now < waiting.until;
      if (inTime && w?.kind === 'wait_for' && w.event === event.type && (w.includeMachine || !event.machine)) {
        if (!w.where || holds(w.where, this.context({ event }), this.behaviour())) {
          s.waiting = undefined;
          this.enterBlock(waiting.path, 'then');
        }
      }
    }
    // No trigger is queued while marketing is held (paused, or with sales), so none fires stale later.
    if (this.marketingAllowed() && !event.machine) {
      this.c.triggers.forEach((trigger, index) => {
        if (trigger.on !== event.type) return;
        if (trigger.where && !holds(trigger.where, this.context({ event }), this.behaviour())) return;
        const last = s.triggerFiredAt[index];
        if (last !== undefined && this.now - last < trigger.cooldownMs) return;
        if (s.pendingTriggers.some((pending) => pending.index === index)) return;
        pushBounded(s.pendingTriggers, { index, eventId: event.id }, LIMITS.pendingTriggers);
      });
    }
    return true;
  }

  private wake() {
    const s = this.s;
    const w = s.waiting;
    if (w && this.now >= w.until) {
      s.waiting = undefined;
      if (w.kind === 'event') this.enterBlock(w.path, 'else');
    }
    const h = s.handoff;
    if (!h) return;
    if (h.status === 'pending' && !h.desk) {
      if (!h.reminded && this.now >= h.remindAt && this.now < h.firstContactDue) {
        h.reminded = true;
        this.commands.push({ type: 'sales_reminder', handoffKey: h.key, due: h.firstContactDue });
      }
      if (!h.escalated && this.now >= h.firstContactDue) {
        h.escalated = h.reminded = true;
        this.commands.push({ type: 'sales_escalation', handoffKey: h.key, due: h.firstContactDue, escalateTo: this.c.handoff!.sla.escalateTo });
        this.note(`handoff ${h.key}: first contact overdue, escalated`);
      }
    }
    if (h.status === 'accepted' && !h.desk && h.outcomeDue !== undefined && !h.outcomeEscalated && this.now >= h.outcomeDue) {
      h.outcomeEscalated = true;
      this.commands.push({ type: 'sales_escalation', handoffKey: h.key, due: h.outcomeDue, escalateTo: this.c.handoff!.sla.escalateTo });
      this.note(`handoff ${h.key}: outcome overdue, escalated`);
    }
    if (h.status === 'not_ready' && h.recycleAt !== undefined && this.now >= h.recycleAt) this.recycle();
  }

  /**
   * The lead's attributes changed (a lead.updated event): the keys it names take their new values,
   * conditions see them from now on, fit is scored again, and the timeline says what the change
   * did to the score. Returns the event as kept for conditions: the keys, not the attributes.
   */
  private updateAttributes(event: LeadEvent): LeadEvent {
    const s = this.s;
    const data = event.data ?? {};
    const changed = Array.isArray(data.changed) ? data.changed.map(String) : [];
    const attributes = data.attributes;
    if (attributes && typeof attributes === 'object' && !Array.isArray(attributes)) {
      // Only the keys that changed: the lead's other keys may have moved on since (a step of this
      // enrolment changed them, and its own event is still on its way).
      const next = { ...s.lead.attributes };
      for (const key of changed) {
        if (key in attributes) next[key] = (attributes as Record<string, unknown>)[key];
        else delete next[key];
      }
      this.changeAttributes(next, `attributes changed (${changed.join(', ') || 'none named'})`);
    }
    return { ...event, data: { changed } };
  }

  /** New attributes for the lead: fit scored again, and the timeline says what that did (nothing when they are the same). */
  private changeAttributes(attributes: Record<string, unknown>, why: string) {
    const s = this.s;
    if (canonicalJson(attributes) === canonicalJson(s.lead.attributes)) return;
    s.lead.attributes = attributes;
    const before = s.fit;
    s.fit = fitPoints(this.c, attributes);
    const labels = (items: ScoreItem[]) => new Set(items.map((item) => item.label));
    const gained = s.fit.filter((item) => !labels(before).has(item.label)).map((item) => `+${item.points} ${item.label}`);
    const lost = before.filter((item) => !labels(s.fit).has(item.label)).map((item) => `${-item.points} ${item.label}`);
    const total = (items: ScoreItem[]) => items.reduce((sum, item) => sum + item.points, 0);
    this.note(`${why}: fit ${total(before)} → ${total(s.fit)}${[...gained, ...lost].length ? ` (${[...gained, ...lost].join(', ')})` : ''}`);
  }

  private sendResult(sendKey: string, status: SendOutcome, variant?: string) {
    const s = this.s;
    const send = s.sends.find((candidate) => candidate.key === sendKey);
    if (send) {
      send.status = status;
      if (variant) send.variant = variant;
    }
    if (status === 'skipped_no_consent') s.lead.consent[this.c.consent] = false;
    if (status === 'bounced' || status === 'suppressed') {
      this.note(`email ${sendKey} ${status}`);
      if (this.c.exitOn.includes('bounced') || status === 'suppressed') this.exit(status);
    }
  }

  private salesResponse(handoffKey: string, outcome: SalesOutcome, recycleAt?: number) {
    const s = this.s;
    const h = s.handoff;
    const config = this.c.handoff;
    // An answer the handoff does not take (the same one twice, one to a closed handoff) changes nothing.
    if (!h || h.key !== handoffKey || !config || !acceptsAnswer(h.status, outcome)) return;
    this.note(`sales answered ${outcome}`);
    // Sales has the lead now: a trigger email still waiting for the window or the cap is dropped.
    s.pendingTriggers = [];
    switch (outcome) {
      case 'accepted':
        h.status = 'accepted';
        if (config.sla.outcomeMs !== undefined && !h.desk) h.outcomeDue = this.now + config.sla.outcomeMs;
        break;
      case 'not_ready':
        if (config.onNotReady.action === 'exit') return this.exit('not_ready');
        h.status = 'not_ready';
        // The rep's date when they gave one (never in the past), else the campaign's delay.
        h.recycleAt = recycleAt !== undefined ? Math.max(this.now, recycleAt) : this.now + config.onNotReady.afterMs;
        s.waiting = undefined;
        break;
      case 'disqualified':
      case 'converted':
        this.exit(outcome);
        break;
      default:
        unreachable(outcome, 'sales outcome');
    }
  }

  private recycle() {
    const s = this.s;
    const config = this.c.handoff!;
    if (config.onNotReady.action !== 'recycle') return;
    const stage = config.onNotReady.stage;
    if (config.onNotReady.resetScore) {
      // The score restarts at the recycle stage's threshold, so the lead stays in that stage.
      s.behaviour = [];
      s.ruleTotals = {};
      const fit = s.fit.reduce((sum, item) => sum + item.points, 0);
      s.adjustments = [{ label: 'recycled by sales', points: stageThreshold(this.c, stage) - fit, at: this.now }];
    }
    s.handoff = undefined;
    this.rescore();
    this.note(`recycled into ${stage}`);
    this.moveTo(stage);
  }

  // ——— decisions ———

  /** Score, stage and qualification after every change. */
  private evaluate() {
    const s = this.s;
    if (s.exited) return;
    const { score, breakdown } = this.score();
    const stage = nextStage(this.c, s.stage, score);
    if (stage !== s.stage && !this.recycling()) {
      this.commands.push({ type: 'stage_changed', from: s.stage, to: stage, score });
      this.note(`${s.stage} → ${stage} at score ${score}`);
      this.reenter(stage);
    }
    if (this.c.qualify && this.c.handoff && !s.handoff && this.qualifies()) this.startHandoff(score, breakdown, this.qualifyReasons());
  }

  private recycling(): boolean {
    return this.s.handoff?.status === 'not_ready';
  }

  /** Starts the stage's track from the top (an explicit move: goto a stage, recycled by sales). */
  private moveTo(stage: Stage) {
    const s = this.s;
    // A track left this way starts from the top when the lead comes back to it.
    if (s.trackPositions) delete s.trackPositions[s.track];
    s.stage = stage;
    s.track = stage;
    s.path = this.c.tracks[stage].length ? [0] : null;
    s.waiting = undefined;
  }

  /** The score moved the lead into `stage`: its track resumes, restarts or skips what was sent. */
  private reenter(stage: Stage) {
    const s = this.s;
    if (!s.trackReentry) return this.moveTo(stage);
    // Where the track being left stands, wait included, in case the lead comes back to it.
    s.trackPositions ??= {};
    s.trackPositions[s.track] = { path: s.path, ...(s.waiting && { waiting: s.waiting }) };
    const saved = s.trackPositions[stage];
    delete s.trackPositions[stage];
    s.stage = stage;
    s.track = stage;
    if (this.reentryOf(stage) === 'resume' && saved) {
      s.path = saved.path;
      s.waiting = saved.waiting;
      this.note(saved.path ? `tracks.${stage} resumes at ${pathString(stage, saved.path)}` : `tracks.${stage} was finished: nothing more to send`);
    } else {
      s.path = this.c.tracks[stage].length ? [0] : null;
      s.waiting = undefined;
    }
  }

  private reentryOf(track: Stage): TrackReentry {
    return this.c.trackReentry?.[track] ?? DEFAULT_TRACK_REENTRY;
  }

  /** An email step that must not go again: marked `once`, or in a skip_sent track. */
  private sentBefore(step: Extract<Step, { kind: 'email' }>, path: string): boolean {
    const s = this.s;
    if (!s.visits[path]) return false;
    return Boolean(step.once) || (Boolean(s.trackReentry) && this.reentryOf(s.track) === 'skip_sent');
  }

  private qualifies(): boolean {
    const q = this.c.qualify!;
    const context = this.context();
    const behaviour = this.behaviour();
    if (q.all && !q.all.every((condition) => holds(condition, context, behaviour))) return false;
    if (q.any && !q.any.some((condition) => holds(condition, context, behaviour))) return false;
    return Boolean(q.all?.length || q.any?.length);
  }

  private qualifyReasons(): string[] {
    const q = this.c.qualify!;
    const context = this.context();
    const behaviour = this.behaviour();
    return [...(q.all ?? []), ...(q.any ?? [])].filter((condition) => holds(condition, context, behaviour));
  }

  private startHandoff(score: number, breakdown: ScoreItem[], reasons: string[]) {
    const s = this.s;
    const config = this.c.handoff;
    if (!config || s.handoff) return;
    const key = `handoff-${++s.handoffCount}`;
    const calendar = { ...this.c.sendWindow, useLeadTimezone: false };
    // With the sales desk this is only an estimate on the send window; the desk sets the real
    // deadline on the sales team's calendar.
    const firstContactDue = addBusinessTime(calendar, this.c.timezone, this.now, config.sla.firstContactBusinessMs);
    s.handoff = {
      key,
      status: 'pending',
      at: this.now,
      firstContactDue,
      remindAt: firstContactDue - config.sla.remindBeforeMs,
      reminded: false,
      escalated: false,
      outcomeEscalated: false,
      ...(s.salesDesk && { desk: true as const }),
    };
    const route = s.salesDesk ? routeHandoff(config.assign, this.context(), this.behaviour()) : undefined;
    this.commands.push({ type: 'handoff', handoffKey: key, reasons, score, breakdown, firstContactDue, config, ...(route && { route }) });
    this.note(`qualified at score ${score}: handed off (${key})`);
  }

  private marketingAllowed(): boolean {
    const s = this.s;
    return !s.exited && !s.paused && s.handoff?.status !== 'accepted' && s.handoff?.status !== 'not_ready';
  }

  private runTrack() {
    const s = this.s;
    while (this.marketingAllowed() && !s.waiting && s.path) {
      if (++this.steps > LIMITS.stepsPerInput) {
        this.exit('step limit: the track loops without waiting');
        return;
      }
      const steps = this.c.tracks[s.track];
      const here = s.path;
      const current = stepAt(steps, here);
      if (!current) {
        s.path = null;
        return;
      }
      const path = pathString(s.track, here);
      switch (current.kind) {
        case 'email': {
          if (this.sentBefore(current, path)) {
            this.note(`${path}: skipped, sent before in this enrolment`);
            this.commands.push({ type: 'email_not_sent', stepPath: path, reason: 'sent_before' });
            s.path = pathAfter(steps, here);
            break;
          }
          if (!this.consented()) {
            this.note(`${path}: skipped, no consent`);
            this.commands.push({ type: 'email_not_sent', stepPath: path, reason: 'no_consent' });
            s.path = pathAfter(steps, here);
            break;
          }
          const blockedUntil = this.sendBlockedUntil(current.sendWindow);
          const deadline = current.sendBy && this.resolveDate(current.sendBy);
          if (deadline !== undefined && Math.max(this.now, blockedUntil?.until ?? this.now) > deadline) {
            this.note(`${path}: skipped, it could not go by ${current.sendBy!.text} (${new Date(deadline).toISOString()})`);
            this.commands.push({ type: 'email_not_sent', stepPath: path, reason: 'send_by' });
            s.path = pathAfter(steps, here);
            break;
          }
          if (blockedUntil !== undefined) {
            s.waiting = { kind: blockedUntil.kind, until: blockedUntil.until };
            this.commands.push({ type: 'email_not_sent', stepPath: path, reason: blockedUntil.kind, until: blockedUntil.until });
            return;
          }
          const visit = (s.visits[path] ?? 0) + 1;
          s.visits[path] = visit;
          const variant = current.variants && assignVariant(this.c.id, path, s.lead.id, current.variants);
          this.send({
            type: 'send',
            sendKey: `${path}#${visit}`,
            kind: 'step',
            stepPath: path,
            template: variant?.template ?? current.template,
            subject: variant?.subject ?? current.subject,
            stage: s.stage,
            ab: variant && { testKey: path, variant: variant.key, variants: current.variants! },
          });
          s.path = pathAfter(steps, here);
          break;
        }
        case 'wait': {
          const until = this.waitUntil(current);
          s.path = pathAfter(steps, here);
          if (until > this.now) {
            s.waiting = { kind: 'timer', until };
            return;
          }
          break;
        }
        case 'wait_for':
          s.waiting = { kind: 'event', until: this.now + current.timeoutMs, path: here };
          return;
        case 'branch':
          this.enterBlock(here, holds(current.if, this.context(), this.behaviour()) ? 'then' : 'else');
          break;
        case 'score':
          this.adjust(current.reason, current.points);
          s.path = pathAfter(steps, here);
          this.evaluate();
          break;
        case 'goto':
          if ('stage' in current.target) {
            const from = s.stage;
            const to = current.target.stage;
            // The score must hold the lead in its new stage, or the next input would move it straight
            // back (and restart the old track): when it does not, it is set to the stage's threshold.
            const score = this.score().score;
            if (nextStage(this.c, to, score) !== to) this.adjust(`moved to ${to} by ${path}`, stageThreshold(this.c, to) - score);
            if (from !== to) this.commands.push({ type: 'stage_changed', from, to, score: this.score().score });
            this.moveTo(to);
          } else {
            const target = labelPath(this.c, current.target.label)!;
            s.track = target.track;
            s.path = target.path;
          }
          break;
        case 'handoff': {
          s.path = pathAfter(steps, here);
          const { score, breakdown } = this.score();
          this.startHandoff(score, breakdown, [`handoff step ${path}`]);
          break;
        }
        case 'exit':
          this.exit(current.reason);
          return;
        case 'lead': {
          // Seen by the conditions after this step at once; the lead's record (and its other
          // enrolments) through the command, whose lead.updated comes back with the same data.
          const names = [...Object.keys(current.set ?? {}), ...(current.tag ?? []).map((tag) => `+${tag}`), ...(current.untag ?? []).map((tag) => `-${tag}`)];
          this.changeAttributes(changedAttributes(s.lead.attributes, current), `${path} changed the lead (${names.join(', ')})`);
          this.commands.push({ type: 'update_lead', stepPath: path, ...(current.set && { set: current.set }), ...(current.tag && { tag: current.tag }), ...(current.untag && { untag: current.untag }) });
          s.path = pathAfter(steps, here);
          this.rescore();
          this.evaluate();
          break;
        }
        case 'withdraw_consent':
          // Like an unsubscribe: the history records it, and marketing email for the purpose stops here at once.
          s.lead.consent[current.purpose] = false;
          this.commands.push({ type: 'withdraw_consent', stepPath: path, purpose: current.purpose });
          this.note(`${path}: consent ${current.purpose} withdrawn`);
          s.path = pathAfter(steps, here);
          break;
        case 'suppress':
          this.commands.push({ type: 'suppress', stepPath: path, reason: current.reason });
          this.exit('suppressed');
          return;
        case 'notify':
        case 'webhook': {
          const visit = (s.visits[path] ?? 0) + 1;
          s.visits[path] = visit;
          const about = { key: `${path}#${visit}`, stepPath: path, step: current.label ?? path, stage: s.stage, score: Math.round(this.score().score) };
          if (current.kind === 'notify') {
            this.commands.push({ type: 'notify', ...about, to: current.to, template: current.template, subject: current.subject });
            this.note(`${path}: notified ${current.to.join(', ')}`);
          } else {
            this.commands.push({ type: 'webhook', ...about, event: current.event });
            this.note(`${path}: webhook ${current.event} queued`);
          }
          s.path = pathAfter(steps, here);
          break;
        }
        default:
          unreachable(current, 'step');
      }
    }
  }

  /** Enters the then/else block of the branch or wait_for at `path` (or passes it when empty). */
  private enterBlock(path: StepPath, block: 'then' | 'else') {
    const s = this.s;
    const steps = this.c.tracks[s.track];
    const inner = [...path, block, 0];
    s.path = stepAt(steps, inner) ? inner : pathAfter(steps, path);
  }

  private waitUntil(wait: Extract<Step, { kind: 'wait' }>): number {
    if (wait.durationMs !== undefined) return this.now + wait.durationMs;
    if (wait.untilRef !== undefined) {
      const until = this.resolveDate(wait.untilRef);
      if (until === undefined) this.note(`no date for ${wait.untilRef.text}: not waiting`);
      return until ?? this.now;
    }
    if (wait.untilDate !== undefined) return wait.untilDate;
    if (wait.untilTime !== undefined) return nextTimeOfDay(this.zone(), this.now, wait.untilTime);
    return nextWindowOpening(this.c.sendWindow, this.zone(), this.now, this.windowOffset());
  }

  private flushTriggers() {
    const s = this.s;
    while (s.pendingTriggers.length && this.marketingAllowed()) {
      if (!this.consented()) {
        for (const pending of s.pendingTriggers) this.commands.push({ type: 'email_not_sent', stepPath: `triggers[${pending.index}]`, reason: 'no_consent' });
        s.pendingTriggers = [];
        return;
      }
      if (this.sendBlockedUntil()) return;
      const pending = s.pendingTriggers.shift()!;
      const trigger = this.c.triggers[pending.index]!;
      s.triggerFiredAt[pending.index] = this.now;
      this.send({
        type: 'send',
        sendKey: `trigger:${pending.index}:${pending.eventId}`,
        kind: 'trigger',
        stepPath: `triggers[${pending.index}]`,
        template: trigger.template,
        subject: trigger.subject,
        stage: s.stage,
      });
    }
  }

  private send(command: Extract<Command, { type: 'send' }>) {
    const s = this.s;
    this.commands.push(command);
    pushBounded(s.sentAt, this.now, Math.max(10, this.c.frequencyCap?.max ?? 0));
    pushBounded(s.sends, { key: command.sendKey, template: command.template, at: this.now }, LIMITS.sends);
    this.note(`sent ${command.template} (${command.sendKey})`);
  }

  /** Why a marketing email cannot go now (outside the window, over the cap) and until when. */
  /** When a send may go: the window (the campaign's, or a step's own, which has no spread) and the cap. */
  private sendBlockedUntil(stepWindow?: SendWindow | 'any'): { kind: 'window' | 'cap'; until: number } | undefined {
    const window = stepWindow ?? this.c.sendWindow;
    if (window !== 'any') {
      const zone = windowZone(window, this.s.lead.timezone);
      const offset = stepWindow ? 0 : this.windowOffset();
      if (!isWindowOpen(window, zone, this.now, offset)) return { kind: 'window', until: nextWindowOpening(window, zone, this.now, offset) };
    }
    const cap = this.c.frequencyCap;
    if (cap) {
      const recent = this.s.sentAt.filter((t) => t > this.now - cap.windowMs);
      if (recent.length >= cap.max) return { kind: 'cap', until: recent[recent.length - cap.max]! + cap.windowMs };
    }
    return undefined;
  }

  private nextWake(): number | undefined {
    const s = this.s;
    const candidates: number[] = [];
    if (s.waiting) candidates.push(s.waiting.until);
    if (s.pendingTriggers.length && this.marketingAllowed()) {
      const blocked = this.sendBlockedUntil();
      if (blocked) candidates.push(blocked.until);
    }
    const h = s.handoff;
    if (h?.status === 'pending' && !h.desk) {
      if (!h.reminded && h.remindAt < h.firstContactDue) candidates.push(Math.max(h.remindAt, this.now));
      if (!h.escalated) candidates.push(h.firstContactDue);
    }
    if (h?.status === 'accepted' && !h.desk && h.outcomeDue !== undefined && !h.outcomeEscalated) candidates.push(h.outcomeDue);
    if (h?.status === 'not_ready' && h.recycleAt !== undefined) candidates.push(h.recycleAt);
    // A wake-up in the past would fire at once; anything due is due now.
    return candidates.length ? Math.max(this.now, Math.min(...candidates)) : undefined;
  }

  private exit(reason: string) {
    const s = this.s;
    if (s.exited) return;
    s.exited = { reason, at: this.now };
    s.waiting = undefined;
    s.pendingTriggers = [];
    this.commands.push({ type: 'exit', reason });
    this.note(`exited: ${reason}`);
  }

  // ——— helpers ———

  /** Adjustments never decay, so one entry per reason says the same and keeps a looping track's state small. */
  private adjust(reason: string, points: number) {
    const same = this.s.adjustments.find((item) => item.label === reason);
    if (same) {
      same.points += points;
      same.at = this.now;
    } else this.s.adjustments.push({ label: reason, points, at: this.now });
    this.rescore();
  }

  private score() {
    this.scored ??= scoreBreakdown(this.c, this.s, this.now);
    return this.scored;
  }

  /** Call after any change to the points. */
  private rescore() {
    this.scored = undefined;
  }

  private consented(): boolean {
    return this.s.lead.consent[this.c.consent] === true;
  }

  private zone(): string {
    return windowZone(this.c.sendWindow, this.s.lead.timezone);
  }

  /** The moment a DateRef names for this lead, or undefined when its field holds no date. */
  private resolveDate(ref: DateRef): number | undefined {
    let value: unknown = ref.source === 'event' ? this.s.entryData : this.s.lead.attributes;
    for (const key of ref.path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    const zone = this.zone();
    let at: number | undefined;
    if (typeof value === 'number' && Number.isFinite(value)) at = value;
    else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) at = startOfLocalDate(zone, value);
    // A date-time in the data without its offset is read on the lead's clock, like a date.
    else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) at = startOfLocalDate(zone, value.slice(0, 10)) + (Date.parse(`1970-01-01T${value.slice(11)}Z`));
    else if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) at = Date.parse(value);
    if (at === undefined) return undefined;
    at += ref.offsetMs;
    return ref.timeOfDay ? atTimeOfDay(zone, at, ref.timeOfDay) : at;
  }

  /** The lead's offset on the window's openings (marketing sends and `wait: until next_window` only). */
  private windowOffset(): number {
    return this.s.windowOffsetMs ?? 0;
  }

  private context(extra: Record<string, unknown> = {}) {
    const { score } = this.score();
    return { lead: this.s.lead.attributes, score, stage: this.s.stage, ...extra };
  }

  private behaviour() {
    this.behaviourView ??= { now: this.now, events: this.s.events };
    return this.behaviourView;
  }

  private note(what: string) {
    pushBounded(this.s.history, { at: this.now, what }, LIMITS.history);
  }
}

export interface StateView {
  leadId: string;
  stage: Stage;
  score: number;
  breakdown: ScoreItem[];
  currentStep: string | null;
  waitingFor: string | null;
  nextWakeAt: number | null;
  paused: boolean;
  exited: boolean;
  exitReason: string | null;
  handoff: HandoffState | null;
  consent: Record<string, boolean>;
  history: { at: number; what: string }[];
}

export function describeState(campaign: Campaign, state: EnrolmentState, now: number): StateView {
  const { score, breakdown } = scoreBreakdown(campaign, state, now);
  const w = state.waiting;
  return {
    leadId: state.lead.id,
    stage: state.stage,
    score,
    breakdown,
    currentStep: state.path ? pathString(state.track, state.path) : null,
    waitingFor: w
      ? w.kind === 'event'
        ? `${(stepAt(campaign.tracks[state.track], w.path) as { event?: string } | undefined)?.event ?? 'event'} until ${new Date(w.until).toISOString()}`
        : `${w.kind} until ${new Date(w.until).toISOString()}`
      : null,
    nextWakeAt: state.nextWake ?? null,
    paused: state.paused,
    exited: Boolean(state.exited),
    exitReason: state.exited?.reason ?? null,
    handoff: state.handoff ?? null,
    consent: state.lead.consent,
    history: state.history,
  };
}
