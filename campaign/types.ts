// The campaign language's compiled form and the interpreter's inputs and outputs. A `Campaign`
// is plain JSON (durations in ms, holidays expanded to dates, conditions kept as source text)
// so that it can be stored as an immutable version and passed to a workflow as it is.
import type { SalesOutcome } from './sales-answers';

export type Stage = 'cold' | 'warm' | 'hot';
export const STAGES: readonly Stage[] = ['cold', 'warm', 'hot'];

/** A problem (or, from campaign/lint.ts, a warning) at a path of the campaign as written. */
export interface CampaignError {
  path: string;
  message: string;
  line?: number;
  column?: number;
  /** What was probably meant ("did you mean …?"). */
  suggestion?: string;
}

export interface Variant {
  key: string;
  weight: number;
  subject?: string;
  template?: string;
}

export interface EmailStep {
  kind: 'email';
  label?: string;
  template: string;
  subject: string;
  /** Sent at most once in an enrolment, whatever brings the lead back to it (a goto, a restarted track). */
  once?: true;
  /** This step's own window (`any`: at once, whatever the campaign's window says). */
  sendWindow?: SendWindow | 'any';
  /** Not sent after this moment: skipped, with the reason on the timeline. */
  sendBy?: DateRef;
  /** An A/B test: the lead's variant replaces template and/or subject. */
  variants?: Variant[];
}
export interface WaitStep {
  kind: 'wait';
  label?: string;
  /** Wait this long … */
  durationMs?: number;
  /** … or until the send window opens … */
  untilWindow?: boolean;
  /** … or until this instant (epoch ms) … */
  untilDate?: number;
  /** … or until this time of day (HH:MM, the lead's time zone), the next time it comes … */
  untilTime?: string;
  /** … or until a date taken from the entry event or the lead. */
  untilRef?: DateRef;
}

/**
 * A moment taken from the data: `event.data.seminar_at - 1d 10:00` is the day before the date in
 * the entry event's `seminar_at`, at 10:00 on the lead's clock. An ISO date-time, a date (its
 * start on the lead's clock) or epoch milliseconds.
 */
export interface DateRef {
  /** The source text, for messages and the timeline. */
  text: string;
  /** `event`: the event that enrolled the lead; `lead`: its attributes. */
  source: 'event' | 'lead';
  /** The field, as a path into `event.data` or the attributes. */
  path: string[];
  offsetMs: number;
  /** HH:MM on the lead's clock, on the date reached. */
  timeOfDay?: string;
}
export interface WaitForStep {
  kind: 'wait_for';
  label?: string;
  event: string;
  where?: string;
  timeoutMs: number;
  includeMachine: boolean;
  then: Step[];
  else: Step[];
}
export interface BranchStep {
  kind: 'branch';
  label?: string;
  if: string;
  then: Step[];
  else: Step[];
}
export interface ScoreStep {
  kind: 'score';
  label?: string;
  points: number;
  reason: string;
}
export interface GotoStep {
  kind: 'goto';
  label?: string;
  /** A labelled step (anywhere in the tracks) or a stage's track. */
  target: { label: string } | { stage: Stage };
}
export interface HandoffStep {
  kind: 'handoff';
  label?: string;
}
export interface ExitStep {
  kind: 'exit';
  label?: string;
  reason: string;
}
/**
 * Changes the lead's data (`set:`, `tag:`, `untag:` in a campaign): attributes set (null clears
 * one) and tags added or removed in the `tags` attribute (a list, usable in conditions as
 * `'vip' in lead.tags`). Conditions after the step see the change at once; the lead's record
 * is changed too, and with it every enrolment of the lead.
 */
export interface LeadStep {
  kind: 'lead';
  label?: string;
  set?: Record<string, unknown>;
  tag?: string[];
  untag?: string[];
}
/**
 * Withdraws the lead's consent for a purpose (`withdraw_consent:`), recorded in the consent
 * history like any other withdrawal: no marketing email for that purpose goes to the lead again,
 * from any campaign, until consent is given anew.
 */
export interface WithdrawConsentStep {
  kind: 'withdraw_consent';
  label?: string;
  purpose: string;
}
/**
 * Suppresses the lead's address for good (`suppress:`, a sunset policy): nothing is mailed to it
 * again from any campaign, and the enrolment ends, as it does whenever an address is suppressed.
 */
export interface SuppressStep {
  kind: 'suppress';
  label?: string;
  reason: string;
}
/** Tells people inside the company (`notify:`): not marketing email, so no consent, window or cap applies. */
export interface NotifyStep {
  kind: 'notify';
  label?: string;
  to: string[];
  template: string;
  subject: string;
}
/** Posts an event of the campaign's choosing to the webhook (`webhook:`), signed as the handoff's is. */
export interface WebhookStep {
  kind: 'webhook';
  label?: string;
  event: string;
}
export type Step =
  | EmailStep
  | WaitStep
  | WaitForStep
  | BranchStep
  | ScoreStep
  | GotoStep
  | HandoffStep
  | ExitStep
  | LeadStep
  | WithdrawConsentStep
  | SuppressStep
  | NotifyStep
  | WebhookStep;

/** The attribute that holds a lead's tags. */
export const TAGS_ATTRIBUTE = 'tags';

/** The attributes after a LeadStep's change: set (null clears), then tags added and removed (kept sorted, each once). */
export function changedAttributes(attributes: Record<string, unknown>, change: Pick<LeadStep, 'set' | 'tag' | 'untag'>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...attributes };
  for (const [key, value] of Object.entries(change.set ?? {})) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  if (change.tag?.length || change.untag?.length) {
    const current = Array.isArray(next[TAGS_ATTRIBUTE]) ? (next[TAGS_ATTRIBUTE] as unknown[]).filter((tag): tag is string => typeof tag === 'string') : [];
    const tags = [...new Set([...current, ...(change.tag ?? [])])].filter((tag) => !(change.untag ?? []).includes(tag)).sort();
    next[TAGS_ATTRIBUTE] = tags;
  }
  return next;
}

export interface FitRule {
  if: string;
  points: number;
  label: string;
}
export interface BehaviourRule {
  on: string;
  /** Condition on the event (`event.data.page == 'pricing'`). */
  where?: string;
  points: number;
  label: string;
  /** At most this many points from this rule (before decay). */
  max?: number;
}
export interface Scoring {
  fit: FitRule[];
  behaviour: BehaviourRule[];
  decay?: { halfLifeMs?: number; expireAfterMs?: number };
  /** The score never exceeds this. */
  max?: number;
}

export interface Trigger {
  on: string;
  where?: string;
  template: string;
  subject: string;
  cooldownMs: number;
}

export interface SendWindow {
  /** ISO weekdays (1 = Monday … 7 = Sunday). */
  days: number[];
  /** Minutes after midnight. */
  start: number;
  end: number;
  /** 'lead' uses the lead's time zone, falling back to `timezone`. */
  useLeadTimezone: boolean;
  timezone: string;
  /** Holiday calendar name (e.g. 'JP') and its dates (YYYY-MM-DD). */
  holidays?: { country: string; dates: string[] };
  /**
   * `send_window.spread`: enrolments with window jitter see the window open up to this much later
   * (0: no jitter). Absent: the default (`windowSpreadMs`), and existing versions keep their hash.
   */
  spreadMs?: number;
}

/**
 * Lead attributes a rep must cover to be chosen (paths like `lead.region`): reps whose
 * territories, products or languages include the lead's value (case-insensitive).
 */
export interface RepMatch {
  territory?: string;
  product?: string;
  language?: string;
}

/** One routing rule: when its condition holds (or it has none), it chooses a pool and/or a group of reps. */
export interface RoutingRule {
  /** A condition of the campaign language; absent: always. */
  when?: string;
  pool?: string;
  match?: RepMatch;
  /** Only these reps (emails). */
  reps?: string[];
}

/** Who gets a handoff: the reps of a pool, by availability-aware weighted round robin. */
export interface AssignmentRule {
  /** Reps of this pool share the leads (unless a rule chooses another). */
  pool: string;
  /** 'round_robin': in turn within the pool; 'territory': in turn among reps whose territory matches. */
  strategy: 'round_robin' | 'territory';
  /** Lead attribute naming the territory, e.g. 'region' (dots reach into objects). */
  territoryBy?: string;
  /** Prefer reps covering these lead attributes (else the whole pool). */
  match?: RepMatch;
  /** Ordered: the first whose condition holds decides the pool, match and reps. */
  rules?: RoutingRule[];
}

/** Where the interpreter routed a handoff: the pool and the lead's values to match, resolved at handoff time. */
export interface HandoffRoute {
  pool: string;
  /** The lead's values (lower case), e.g. { territory: 'apac' }. */
  match: { territory?: string; product?: string; language?: string };
  reps?: string[];
  /** Which rule chose it ('default' when none did). */
  rule: string;
}

/**
 * An SLA duration: business time on the sales calendar (the pool's, or the owner's own hours)
 * or plain calendar time ('24h').
 */
export type SlaDuration = { business: true; days: number; hours: number } | { business: false; ms: number };

/** A sales rep or manager, as mail addresses them. */
export interface Person {
  name: string;
  email: string;
}

export interface HandoffConfig {
  assign: AssignmentRule;
  notify: { template: string; webhook: boolean };
  sla: {
    /** First contact due after this much business time (ms of the send window's working time): enrolments before the sales desk. */
    firstContactBusinessMs: number;
    /** The same on the sales calendar (absent in campaigns stored before the sales desk). */
    firstContact?: SlaDuration;
    /** A reminder this long before the deadline. */
    remindBeforeMs: number;
    /** After acceptance, the outcome is due within this (calendar time). */
    outcomeMs?: number;
    /** 'manager' (the pool's), an email address, or 'pool:<name>' (the handoff moves to that pool). */
    escalateTo: string;
    /** Hand the lead to the next available rep when first contact is missed / the owner is away. */
    reassign?: { missedFirstContact: boolean; ownerAway: boolean };
  };
  onNotReady: { action: 'recycle'; stage: Stage; afterMs: number; resetScore: boolean } | { action: 'exit' };
  onDisqualified: { action: 'exit' };
}

/** How a campaign's A/B tests decide (campaign/ab-test.ts: a sequential test, valid at every look). */
export interface AbSettings {
  metric: 'opens' | 'clicks';
  /** Sends per variant before any verdict. */
  minSample: number;
  /** e.g. 0.95: the chance of declaring a winner when no variant is better is at most 1 − confidence. */
  confidence: number;
  /** The smallest relative lift worth finding (0.2: 20 % more opens or clicks); the test is tuned to it. */
  minLift?: number;
  /** The metric's rate expected per send (absent: typical human rates, see DEFAULT_EXPECTED_RATE). */
  expectedRate?: number;
}

export interface Campaign {
  id: string;
  name: string;
  from: { name?: string; email: string };
  entry: { on: string; where?: string; reentryAfterMs?: number; reentry: 'never' | 'after' | 'always' };
  /** Consent purpose required for every marketing email. */
  consent: string;
  scoring: Scoring;
  stages: { warm: number; hot: number; hysteresis: number };
  triggers: Trigger[];
  tracks: Record<Stage, Step[]>;
  /** What a lead finds when the score brings it back into a stage (absent: resume, in every track). */
  trackReentry?: Partial<Record<Stage, TrackReentry>>;
  sendWindow: SendWindow;
  /** The campaign's own time zone (SLA, reports). */
  timezone: string;
  frequencyCap?: { max: number; windowMs: number };
  qualify?: { all?: string[]; any?: string[] };
  handoff?: HandoffConfig;
  exitOn: string[];
  ab: AbSettings;
}

/**
 * Re-entering a stage's track after the score moved the lead away and back: `resume` where it
 * left off (a wait under way included), `restart` from the top, or `skip_sent`: from the top,
 * but no email step of the track is sent twice in the enrolment.
 */
export const TRACK_REENTRY = ['resume', 'restart', 'skip_sent'] as const;
export type TrackReentry = (typeof TRACK_REENTRY)[number];
export const DEFAULT_TRACK_REENTRY: TrackReentry = 'resume';

/** The event types that end an enrolment when a campaign's exit_on does not say. */
export const DEFAULT_EXIT_ON = ['unsubscribed', 'bounced', 'converted'] as const;

export interface LeadSnapshot {
  id: string;
  email: string;
  attributes: Record<string, unknown>;
  timezone?: string;
  consent: Record<string, boolean>;
}

/**
 * The event the database stores when a lead's attributes change (API upsert, lead_attributes on an
 * event, CSV import): its data holds the new attributes and the keys that changed. Running
 * enrolments take the new attributes from it, in order with the lead's other events.
 */
export const LEAD_UPDATED = 'lead.updated';

export interface LeadEvent {
  id: string;
  type: string;
  at: number;
  data?: Record<string, unknown>;
  /** A machine open or a scanner click: ignored for scoring, branching and A/B by default. */
  machine?: boolean;
}

/** What became of an email: its final status (an email still queued or being sent has none yet). */
/** How an email ended. 'cancelled': its campaign was paused or archived before it went out. */
export const SEND_OUTCOMES = ['sent', 'bounced', 'failed', 'unconfirmed', 'skipped_no_consent', 'suppressed', 'capped', 'cancelled'] as const;
export type SendOutcome = (typeof SEND_OUTCOMES)[number];

/**
 * Marketing email (step, trigger) goes to the lead with consent; sales mail goes to reps and
 * managers; an internal notice (a campaign's notify step) to the addresses the step names.
 */
export type EmailKind = 'step' | 'trigger' | 'sales_notice' | 'sales_reminder' | 'sales_escalation' | 'sales_alert' | 'internal_notice';

/** An enrolment as reports see it. */
export type EnrolmentStatus = 'active' | 'paused' | 'handed_off' | 'exited';

export type Input =
  | { type: 'start' }
  | { type: 'event'; event: LeadEvent }
  | { type: 'wake' }
  | { type: 'consent'; purpose: string; granted: boolean }
  | { type: 'send_result'; sendKey: string; status: SendOutcome; variant?: string }
  /** `recycleAt`: a not-ready lead returns to nurture then (the rep's date) instead of after `on_not_ready.after`. */
  | { type: 'sales_response'; handoffKey: string; outcome: SalesOutcome; note?: string; recycleAt?: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'exit'; reason: string }
  /**
   * Given once after `migrateState` moved the enrolment to another campaign version: re-evaluates
   * score, stage and qualification under the new rules and carries on with the current step.
   */
  | { type: 'migrated'; fromVersion: number; toVersion: number }
  /** What became of a webhook step's delivery (posted beside the decision loop): noted on the timeline. */
  | { type: 'webhook_result'; stepPath: string; outcome: WebhookStepOutcome; error?: string };

export const EMAIL_SKIP_REASONS = ['no_consent', 'send_by', 'sent_before'] as const;
export type EmailHoldReason = (typeof EMAIL_SKIP_REASONS)[number] | 'window' | 'cap';

export type WebhookStepOutcome = 'delivered' | 'not_configured' | 'lead_erased' | 'failed';

export interface ScoreItem {
  label: string;
  points: number;
}

export interface AbAssignment {
  testKey: string;
  variant: string;
  variants: Variant[];
}

export type Command =
  | {
      type: 'send';
      sendKey: string;
      kind: Extract<EmailKind, 'step' | 'trigger'>;
      stepPath: string;
      template: string;
      subject: string;
      stage: Stage;
      ab?: AbAssignment;
    }
  | { type: 'wake_at'; at: number }
  | { type: 'stage_changed'; from: Stage; to: Stage; score: number }
  | {
      type: 'handoff';
      handoffKey: string;
      reasons: string[];
      score: number;
      breakdown: ScoreItem[];
      firstContactDue: number;
      outcomeDue?: number;
      config: HandoffConfig;
      /** Enrolments whose SLA the sales desk keeps: where the campaign's rules routed the lead. */
      route?: HandoffRoute;
    }
  | { type: 'update_lead'; stepPath: string; set?: Record<string, unknown>; tag?: string[]; untag?: string[] }
  /**
   * An email step (or a queued trigger email) that did not go now, and why: skipped for good
   * (no consent, its send_by passed, sent before) or deferred until `until` (the window, the cap).
   * Information only: the simulator counts them; the engine carries out nothing for it.
   */
  | { type: 'email_not_sent'; stepPath: string; reason: EmailHoldReason; until?: number }
  | { type: 'withdraw_consent'; stepPath: string; purpose: string }
  | { type: 'suppress'; stepPath: string; reason: string }
  /** `key`: unique per visit of the step in the enrolment (the emails' and the delivery's idempotency); `step`: its label, else its path. */
  | { type: 'notify'; key: string; stepPath: string; step: string; to: string[]; template: string; subject: string; stage: Stage; score: number }
  | { type: 'webhook'; key: string; stepPath: string; step: string; event: string; stage: Stage; score: number }
  | { type: 'sales_reminder'; handoffKey: string; due: number }
  | { type: 'sales_escalation'; handoffKey: string; due: number; escalateTo: string }
  | { type: 'exit'; reason: string };
