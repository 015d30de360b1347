// The campaign simulator: runs the real interpreter over synthetic leads in virtual time and
// counts what happens. Leads are drawn from a profile (attributes and behaviour probabilities);
// randomness comes from a seeded generator, so one seed always gives one result.
import { abDecision, evaluateAbTest, planAbTest, type AbPlan, type VariantStats } from './ab-test';
import { holds } from './conditions';
import { stepLabels } from './scenario';
import { initialState, stepInPlace, type EnrolmentState } from './interpreter';
import { DEFAULT_PROFILE, type SimulationProfile, type Weighted } from './profile';
import { eachStep } from './step-graph';
import type { Campaign, Command, EmailHoldReason, Input, LeadSnapshot } from './types';
import { unreachable } from './unreachable';

export interface StepStats {
  /** The step's label, when it has one, and its subject as written (an A/B step's first variant's). */
  label?: string;
  subject: string;
  sent: number;
  /** Human opens (machine opens are counted apart and, as in the engine, score nothing). */
  opened: number;
  clicked: number;
  /** Unsubscribes from this email. */
  unsubscribed: number;
  machineOpened: number;
  bounced: number;
  /** Times the email did not go, by reason: skipped for good (no_consent, send_by, sent_before) or deferred (window, cap). */
  notSent: Partial<Record<EmailHoldReason, number>>;
}

export interface SimulationResult {
  leads: number;
  days: number;
  seed: number;
  funnel: {
    /** Leads whose entry event did not satisfy entry.where. */
    notEnrolled: number;
    enrolled: number;
    reachedWarm: number;
    reachedHot: number;
    handedOff: number;
    accepted: number;
    recycled: number;
    converted: number;
    unsubscribed: number;
    exited: Record<string, number>;
  };
  steps: Record<string, StepStats>;
  /** Emails sent on each virtual day of the run (day 0 first). */
  sendsByDay: number[];
  abTests: Record<string, { variants: VariantStats[]; winner?: string; pValue: number; decidedAfterSends?: number; reason: string; plan: AbPlan }>;
  /** Days from enrolment to the first handoff, for leads handed off. */
  timeToQualifyDays: { count: number; p10?: number; p50?: number; p90?: number; mean?: number };
  /** Interpreter steps run (for the benchmark). */
  steps_run: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** mulberry32: a small, fast, seedable generator; plenty for synthetic leads (and scripted tests). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, weighted: Weighted<T>): T {
  const total = weighted.weights.reduce((sum, w) => sum + w, 0);
  let point = random() * total;
  for (let i = 0; i < weighted.values.length; i++) {
    point -= weighted.weights[i]!;
    if (point < 0) return weighted.values[i]!;
  }
  return weighted.values[weighted.values.length - 1]!;
}

interface Pending {
  at: number;
  input: Input;
}

export interface SimulationOptions {
  leads: number;
  days: number;
  seed?: number;
  profile?: SimulationProfile;
  start?: number;
  /**
   * Also wake every lead at the start of each virtual day, as a polling engine would. Only the
   * benchmark sets it, as the baseline the event-driven wake-ups are compared with. Results differ
   * slightly: a daily wake-up notices a stage drop from decay alone sooner than the next input does.
   */
  pollDaily?: boolean;
}

export function simulate(campaign: Campaign, options: SimulationOptions): SimulationResult {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const seed = options.seed ?? 1;
  // A fixed Monday 00:00 UTC start keeps runs comparable; the calendar still applies.
  const start = options.start ?? Date.UTC(2026, 0, 5);
  const end = start + options.days * DAY;
  const result: SimulationResult = {
    leads: options.leads,
    days: options.days,
    seed,
    funnel: { notEnrolled: 0, enrolled: 0, reachedWarm: 0, reachedHot: 0, handedOff: 0, accepted: 0, recycled: 0, converted: 0, unsubscribed: 0, exited: {} },
    steps: {},
    sendsByDay: Array.from({ length: options.days }, () => 0),
    abTests: {},
    timeToQualifyDays: { count: 0 },
    steps_run: 0,
  };
  const qualifyDays: number[] = [];
  const abStats = new Map<string, Map<string, VariantStats>>();
  const verdicts = new Map<string, string>();
  const entryType = profile.entry.type ?? campaign.entry.on;
  const labels = stepLabels(campaign);
  const written = writtenSubjects(campaign);
  const statsOf = (path: string): StepStats =>
    (result.steps[path] ??= {
      ...(labels.has(path) && { label: labels.get(path) }),
      subject: written.get(path) ?? '',
      sent: 0,
      opened: 0,
      clicked: 0,
      unsubscribed: 0,
      machineOpened: 0,
      bounced: 0,
      notSent: {},
    });

  for (let n = 0; n < options.leads; n++) {
    const random = seededRandom((seed * 0x9e3779b1) ^ Math.imul(n + 1, 0x85ebca6b));
    const enrolAt = start + Math.floor(random() * Math.min(options.days, 30) * DAY);
    const lead: LeadSnapshot = {
      id: `sim-${seed}-${n}`,
      email: `lead${n}@sim.example`,
      attributes: {
        first_name: `Lead${n}`,
        company: { name: `Company ${n % 997}`, employees: pick(random, profile.attributes.employees) },
        role: pick(random, profile.attributes.role),
        region: pick(random, profile.attributes.region),
        authority: random() < profile.attributes.authority,
        timeline_months: pick(random, profile.attributes.timelineMonths),
        ...Object.fromEntries(Object.entries(profile.attributes.custom).map(([name, distribution]) => [name, pick(random, distribution)])),
      },
      timezone: pick(random, profile.attributes.timezone),
      consent: { [campaign.consent]: random() < profile.consentRate },
    };
    // Enrolled as the engine enrols: only when the entry event satisfies entry.where.
    const entryEvent = { id: 'entry', type: entryType, at: enrolAt, data: profile.entry.data };
    if (campaign.entry.where && !holds(campaign.entry.where, { event: entryEvent, lead: lead.attributes }, { now: enrolAt, events: [] })) {
      result.funnel.notEnrolled++;
      continue;
    }
    // As a new enrolment of the engine's current version: its offset on the window's openings, the sales desk, track re-entry.
    const state: EnrolmentState = initialState(campaign, lead, enrolAt, { windowJitter: true, salesDesk: true, trackReentry: true, entryData: profile.entry.data });
    result.funnel.enrolled++;
    let reachedWarm = false;
    let reachedHot = false;
    let qualified = false;
    let eventCounter = 0;
    let wakeAt: number | undefined;
    const queue: Pending[] = [];
    const schedule = (at: number, input: Input) => {
      if (at > end) return;
      let i = queue.length;
      while (i > 0 && queue[i - 1]!.at > at) i--;
      queue.splice(i, 0, { at, input });
    };
    const event = (at: number, type: string, data: Record<string, unknown>, machine = false) =>
      schedule(at, { type: 'event', event: { id: `s${++eventCounter}`, type, at, data, ...(machine && { machine }) } });

    const handle = (commands: Command[], now: number) => {
      for (const command of commands) {
        switch (command.type) {
          case 'send': {
            let variant = command.ab?.variant;
            if (command.ab) {
              const winner = verdicts.get(command.ab.testKey);
              if (winner) variant = winner;
              recordAbSend(command.ab.testKey, command.ab.variants.map((v) => v.key), variant!);
            }
            const stats = statsOf(command.stepPath);
            stats.sent++;
            const day = Math.floor((now - start) / DAY);
            if (day < result.sendsByDay.length) result.sendsByDay[day]!++;
            // Tracking's data for the email's opens and clicks (api/routes/tracking.ts), so conditions see the same.
            const tracked = { send_key: command.sendKey, template: command.template, step: command.stepPath, campaign: campaign.id };
            if (random() < profile.email.bounceRate) {
              stats.bounced++;
              schedule(now + 60_000, { type: 'send_result', sendKey: command.sendKey, status: 'bounced' });
              break;
            }
            if (random() < profile.email.machineOpenRate) {
              stats.machineOpened++;
              event(now + 5 * 60_000, 'email.opened', { ...tracked, url: null }, true);
            }
            const lift = variant ? (profile.email.variantLift[variant] ?? 1) : 1;
            if (random() < profile.email.openRate * lift) {
              const openedAt = now + random() * profile.email.openWithinHours * HOUR;
              stats.opened++;
              if (command.ab) abStats.get(command.ab.testKey)!.get(variant!)!.opens++;
              event(openedAt, 'email.opened', { ...tracked, url: null });
              if (random() < profile.email.clickRate) {
                stats.clicked++;
                if (command.ab) abStats.get(command.ab.testKey)!.get(variant!)!.clicks++;
                event(openedAt + 2 * 60_000, 'email.clicked', { ...tracked, url: 'https://sim.example/' });
              }
            }
            for (const reaction of profile.dated) {
              if (reaction.afterEmail === command.template && random() < reaction.chance) event(now + random() * reaction.withinHours! * HOUR, reaction.type, reaction.data);
            }
            if (random() < profile.email.unsubscribeRate) {
              stats.unsubscribed++;
              event(now + random() * 48 * HOUR, 'unsubscribed', {});
            }
            break;
          }
          case 'wake_at':
            // One timer per lead, as in the workflow: a new wake-up replaces the one pending.
            if (command.at !== wakeAt) {
              wakeAt = command.at;
              schedule(command.at, { type: 'wake' });
            }
            break;
          case 'stage_changed':
            if (command.to === 'warm' && !reachedWarm) reachedWarm = true;
            if (command.to === 'hot' && !reachedHot) reachedHot = reachedWarm = true;
            break;
          case 'handoff': {
            if (!qualified) qualifyDays.push((now - enrolAt) / DAY);
            qualified = true;
            result.funnel.handedOff++;
            const answerAt = now + random() * profile.sales.respondWithinHours * HOUR;
            const outcome = pick(random, profile.sales.outcomes);
            schedule(answerAt, { type: 'sales_response', handoffKey: command.handoffKey, outcome });
            if (outcome === 'accepted') {
              result.funnel.accepted++;
              const converts = random() < profile.sales.convertRate;
              schedule(answerAt + (1 + random() * 20) * DAY, { type: 'sales_response', handoffKey: command.handoffKey, outcome: converts ? 'converted' : 'disqualified' });
            }
            if (outcome === 'not_ready') result.funnel.recycled++;
            break;
          }
          case 'exit':
            result.funnel.exited[command.reason] = (result.funnel.exited[command.reason] ?? 0) + 1;
            if (command.reason === 'unsubscribed') result.funnel.unsubscribed++;
            if (command.reason === 'converted') result.funnel.converted++;
            break;
          case 'sales_reminder':
          case 'sales_escalation':
            break; // mail to sales: nothing the funnel counts
          case 'update_lead':
          case 'withdraw_consent':
          case 'suppress':
            break; // the enrolment's state has the change already; there is no lead record here
          case 'notify':
          case 'webhook':
            break; // told to people and systems inside the company: nothing the funnel counts
          case 'email_not_sent': {
            const notSent = statsOf(command.stepPath).notSent;
            notSent[command.reason] = (notSent[command.reason] ?? 0) + 1;
            break;
          }
          default:
            unreachable(command, 'command');
        }
      }
    };

    const apply = (input: Input, now: number) => {
      result.steps_run++;
      handle(stepInPlace(campaign, state, input, now), now);
    };
    apply({ type: 'start' }, enrolAt);
    apply({ type: 'event', event: entryEvent }, enrolAt);
    // Behaviour on a day counted from enrolment, at some hour of it.
    for (const behaviour of profile.dated) {
      if (behaviour.day !== undefined && random() < behaviour.chance) event(enrolAt + behaviour.day * DAY + random() * DAY, behaviour.type, behaviour.data);
    }
    // Daily behaviour, drawn day by day against the stage the lead is in that day.
    for (let day = enrolAt; day < end && !state.exited; day += DAY) {
      if (options.pollDaily) apply({ type: 'wake' }, day);
      while (queue.length && queue[0]!.at < day + DAY && !state.exited) {
        const next = queue.shift()!;
        if (next.input.type === 'wake') {
          if (next.at !== wakeAt) continue; // replaced by a later wake-up
          wakeAt = undefined;
        }
        apply(next.input, next.at);
      }
      if (state.exited) break;
      // One draw a day picks at most one behaviour (the chances are small, so two on one day are negligible).
      let draw = random();
      for (const behaviour of profile.daily) {
        draw -= behaviour.chance[state.stage];
        if (draw < 0) {
          event(day + DAY + random() * DAY, behaviour.type, behaviour.data);
          break;
        }
      }
    }
    if (reachedWarm) result.funnel.reachedWarm++;
    if (reachedHot) result.funnel.reachedHot++;
  }

  function recordAbSend(testKey: string, keys: string[], variant: string) {
    let tests = abStats.get(testKey);
    if (!tests) {
      tests = new Map(keys.map((key) => [key, { variant: key, sends: 0, opens: 0, clicks: 0 }]));
      abStats.set(testKey, tests);
    }
    tests.get(variant)!.sends++;
    if (verdicts.has(testKey)) return;
    // Looked at on every send, as the engine does (the sequential test stays valid however often);
    // worded only once decided.
    const stats = [...tests.values()];
    if (!abDecision(stats, campaign.ab).winner) return;
    const verdict = evaluateAbTest(stats, campaign.ab);
    if (verdict.winner) {
      verdicts.set(testKey, verdict.winner);
      const total = [...tests.values()].reduce((sum, v) => sum + v.sends, 0);
      result.abTests[testKey] = { variants: [], winner: verdict.winner, pValue: verdict.pValue, decidedAfterSends: total, reason: verdict.reason, plan: planAbTest(keys.length, campaign.ab) };
    }
  }

  for (const [testKey, tests] of abStats) {
    const variants = [...tests.values()];
    const decided = result.abTests[testKey];
    const verdict = evaluateAbTest(variants, campaign.ab);
    result.abTests[testKey] = decided ? { ...decided, variants } : { variants, pValue: verdict.pValue, reason: verdict.reason, plan: planAbTest(variants.length, campaign.ab) };
  }
  qualifyDays.sort((a, b) => a - b);
  const quantile = (q: number) => qualifyDays[Math.min(qualifyDays.length - 1, Math.floor(q * qualifyDays.length))];
  result.timeToQualifyDays = qualifyDays.length
    ? { count: qualifyDays.length, p10: quantile(0.1), p50: quantile(0.5), p90: quantile(0.9), mean: qualifyDays.reduce((s, d) => s + d, 0) / qualifyDays.length }
    : { count: 0 };
  return result;
}

/** Each email step's and trigger's subject as written (an A/B step's first variant's), by path. */
function writtenSubjects(campaign: Campaign): Map<string, string> {
  const subjects = new Map<string, string>();
  eachStep(campaign.tracks, (step, path) => step.kind === 'email' && subjects.set(path, step.subject));
  campaign.triggers.forEach((trigger, i) => subjects.set(`triggers[${i}]`, trigger.subject));
  return subjects;
}
