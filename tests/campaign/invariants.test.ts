// Property tests: over random leads, event streams and campaign variations, the interpreter
// never breaks the invariants that protect leads and the product's promises.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  describeState,
  initialState,
  isWindowOpen,
  step,
  stepInPlace,
  windowZone,
  type Campaign,
  type Command,
  type Input,
  type LeadSnapshot,
  validateCampaign,
} from '../../campaign';
import { loadCampaign, DAY, HOUR, TUESDAY_10_JST } from './support';

const EVENT_TYPES = ['email.opened', 'email.clicked', 'page.viewed', 'asset.downloaded', 'webinar.attended', 'form.submitted', 'unsubscribed', 'converted'];
const PAGES = ['pricing', 'careers', 'product', 'blog'];

// Campaign variations: the two shipped campaigns with random caps, hysteresis and thresholds …
const shippedVariations = fc
  .record({
    file: fc.constantFrom('saas-whitepaper-nurture', 'hot-lead-seed002'),
    cap: fc.integer({ min: 1, max: 4 }),
    warm: fc.integer({ min: 10, max: 60 }),
    gap: fc.integer({ min: 5, max: 40 }),
    hysteresis: fc.integer({ min: 0, max: 10 }),
  })
  .map(({ file, cap, warm, gap, hysteresis }) =>
    loadCampaign(file, (text) =>
      text
        .replace(/^stages: .*$/m, `stages: { warm: ${warm}, hot: ${warm + gap}, hysteresis: ${Math.min(hysteresis, warm)} }`)
        .replace(/^frequency_cap: .*$/m, '')
        .replace(/^send_window: (.*)$/m, `send_window: $1\nfrequency_cap: { max: ${cap}, per: 7d }`),
    ),
  );

// … and random campaigns: random tracks of every step kind (nested one level), windows, zones,
// holidays, decay, caps, triggers, qualification and handoff, compiled by the real validator.
const leafStep = fc.oneof(
  fc.record({ email: fc.record({ template: fc.constantFrom('welcome', 'case-study', 'pricing'), subject: fc.constantFrom('Hello', 'News'), once: fc.constantFrom(undefined, true) }) }),
  fc.constant({ email: { template: 'welcome', subject: { A: 'Variant A', B: 'Variant B' } } }),
  fc.record({ wait: fc.constantFrom('30m', '5h', '1d', '3d', '9d') }),
  fc.constantFrom({ wait: { until: 'next_window' } }, { wait: { until_time: '10:30' } }, { wait: { until_time: '23:45' } }),
  fc.record({ score: fc.record({ add: fc.integer({ min: -30, max: 40 }), reason: fc.constant('adjusted') }) }),
  fc.constantFrom<Record<string, unknown>>({ goto: 'cold0' }, { goto: 'warm0' }, { goto: 'hot1' }, { goto: { stage: 'warm' } }, { goto: { stage: 'hot' } }),
  fc.constantFrom({ handoff: 'now' }, { exit: 'finished' }),
  fc.constantFrom<Record<string, unknown>>(
    { withdraw_consent: true },
    { suppress: 'sunset' },
    { notify: { to: 'ops@example.com', subject: 'Lead {{lead.first_name}}' } },
    { webhook: 'lead.sunset' },
  ),
);
const block = fc.array(leafStep, { maxLength: 3 });
const anyStep = fc.oneof(
  { weight: 3, arbitrary: leafStep },
  {
    weight: 1,
    arbitrary: fc.record({
      wait_for: fc.record({ event: fc.constantFrom('email.clicked', 'page.viewed'), timeout: fc.constantFrom('1h', '2d', '5d') }),
      then: block,
      else: block,
    }),
  },
  { weight: 1, arbitrary: fc.record({ if: fc.constantFrom('score >= 30', "count('page.viewed', '7d') >= 2", "opened('welcome')", 'lead.authority == true'), then: block, else: block }) },
);
const track = (stage: string) => fc.array(anyStep, { minLength: 2, maxLength: 6 }).map((steps) => steps.map((s, i) => ({ ...s, label: `${stage}${i}` })));
const isLoopWithoutWait = (error: { message: string }) => error.message.includes('loops back without a wait');

const randomCampaigns = fc
  .record({
    coldTrack: track('cold'),
    warmTrack: track('warm'),
    hotTrack: track('hot'),
    days: fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], { minLength: 1 }),
    startHour: fc.integer({ min: 0, max: 20 }),
    length: fc.integer({ min: 1, max: 10 }),
    windowZone: fc.constantFrom('lead', 'Asia/Tokyo', 'America/New_York'),
    holidays: fc.boolean(),
    decay: fc.constantFrom(undefined, { half_life: '10d' }, { expire_after: '20d' }),
    cap: fc.integer({ min: 1, max: 4 }),
    warm: fc.integer({ min: 10, max: 50 }),
    gap: fc.integer({ min: 5, max: 40 }),
    qualifyAt: fc.integer({ min: 30, max: 120 }),
    recycle: fc.constantFrom<Record<string, unknown> | string>('exit', { recycle_to: 'warm', after: '10d' }, { recycle_to: 'cold', after: '3d', reset_score: false }),
    trackReentry: fc.constantFrom<unknown>(undefined, 'resume', 'restart', 'skip_sent', { cold: 'skip_sent', warm: 'restart' }),
  })
  .map((r) => {
    const end = Math.min(24, r.startHour + r.length);
    const result = validateCampaign({
      id: 'random',
      name: 'Random',
      from: { email: 'a@b.example' },
      timezone: 'Asia/Tokyo',
      entry: { on: 'form.submitted' },
      consent: 'marketing_email',
      ...(r.trackReentry !== undefined && { track_reentry: r.trackReentry }),
      scoring: {
        fit: [{ if: 'lead.company.employees >= 100', points: 20 }],
        behaviour: [
          { on: 'page.viewed', where: "event.data.page == 'pricing'", points: 15 },
          { on: 'email.clicked', points: 5, max: 20 },
          { on: 'page.viewed', where: "event.data.page == 'careers'", points: -10 },
        ],
        ...(r.decay && { decay: r.decay }),
      },
      stages: { warm: r.warm, hot: r.warm + r.gap, hysteresis: 5 },
      triggers: [{ on: 'webinar.attended', send: 'webinar-followup', subject: 'Thanks', cooldown: '3d' }],
      tracks: { cold: r.coldTrack, warm: r.warmTrack, hot: r.hotTrack },
      send_window: {
        days: r.days,
        hours: `${String(r.startHour).padStart(2, '0')}:00-${String(end).padStart(2, '0')}:00`,
        timezone: r.windowZone,
        ...(r.holidays && { holidays: 'JP' }),
      },
      frequency_cap: { max: r.cap, per: '7d' },
      qualify: { all: [`score >= ${r.qualifyAt}`] },
      handoff: { assign: { pool: 'sales' }, sla: { first_contact: '2 business days', remind_before: '2h', outcome: '48h' }, on_not_ready: r.recycle },
    });
    return result;
  })
  // Validation refuses a goto loop without a wait (campaign/step-graph.ts): such draws are left out.
  .filter((result) => result.ok || !result.errors.every(isLoopWithoutWait))
  .map((result) => {
    if (!result.ok) throw new Error(`test generator made an invalid campaign: ${JSON.stringify(result.errors)}`);
    return result.campaign;
  });

const campaigns = fc.oneof(shippedVariations, randomCampaigns);

const leads = fc.record({
  id: fc.uuid(),
  email: fc.constant('lead@example.com'),
  attributes: fc.record({
    first_name: fc.string(),
    company: fc.record({ employees: fc.integer({ min: 1, max: 5000 }) }),
    role: fc.constantFrom('engineer', 'manager', 'director', 'vp', 'c_level', 'intern'),
    authority: fc.boolean(),
    timeline_months: fc.integer({ min: 0, max: 24 }),
  }),
  timezone: fc.constantFrom('Asia/Tokyo', 'America/New_York', 'Europe/Berlin', 'Pacific/Auckland', 'America/St_Johns', 'Australia/Lord_Howe', 'Nowhere/Invalid'),
  consent: fc.record({ marketing_email: fc.boolean() }),
});

/** A stream of inputs with time gaps; wakes are inserted by the driver whenever one is due. */
const inputs = fc.array(
  fc.record({
    gap: fc.integer({ min: 0, max: 5 * DAY }),
    input: fc.oneof(
      { weight: 8, arbitrary: fc.record({ type: fc.constantFrom(...EVENT_TYPES), page: fc.constantFrom(...PAGES), id: fc.integer({ min: 0, max: 40 }), machine: fc.boolean() }).map((e) => ({ kind: 'event' as const, ...e })) },
      { weight: 1, arbitrary: fc.record({ granted: fc.boolean() }).map((c) => ({ kind: 'consent' as const, ...c })) },
      { weight: 1, arbitrary: fc.constantFrom({ kind: 'pause' as const }, { kind: 'resume' as const }) },
      { weight: 1, arbitrary: fc.constantFrom('accepted', 'not_ready', 'disqualified', 'converted').map((outcome) => ({ kind: 'sales' as const, outcome })) },
    ),
  }),
  { maxLength: 40 },
);

type Stream = typeof inputs extends fc.Arbitrary<infer T> ? T : never;
type Step = { input: Input; now: number; commands: Command[]; consentBefore: boolean; exitedBefore: boolean; pausedBefore: boolean };

type Interpreter = Pick<typeof import('../../campaign/interpreter'), 'initialState' | 'step' | 'stepInPlace'>;

function drive(campaign: Campaign, lead: LeadSnapshot, stream: Stream, pure = false, interpreter: Interpreter = { initialState, step, stepInPlace }): Step[] {
  // Half the leads as enrolments since engine version 4 (tracks re-entered as the campaign says), half as before.
  let state = interpreter.initialState(campaign, lead, TUESDAY_10_JST, { trackReentry: lead.id < '8' });
  let now = TUESDAY_10_JST;
  const log: Step[] = [];
  const apply = (input: Input) => {
    const consentBefore = state.lead.consent[campaign.consent] === true;
    const exitedBefore = Boolean(state.exited);
    const pausedBefore = state.paused;
    let commands: Command[];
    if (pure) ({ state, commands } = interpreter.step(campaign, state, input, now));
    else commands = interpreter.stepInPlace(campaign, state, input, now);
    log.push({ input, now, commands, consentBefore, exitedBefore, pausedBefore });
  };
  apply({ type: 'start' });
  for (const { gap, input } of stream) {
    const target = now + gap;
    // Deliver every wake-up due before the next input, as a workflow's timer would.
    while (state.nextWake !== undefined && state.nextWake <= target) {
      now = Math.max(now, state.nextWake);
      apply({ type: 'wake' });
    }
    now = target;
    if (input.kind === 'event') apply({ type: 'event', event: { id: `e${input.id}`, type: input.type, at: now, data: { page: input.page, template: 'welcome' }, machine: input.machine } });
    else if (input.kind === 'consent') apply({ type: 'consent', purpose: campaign.consent, granted: input.granted });
    else if (input.kind === 'sales') {
      if (state.handoff) apply({ type: 'sales_response', handoffKey: state.handoff.key, outcome: input.outcome as never });
    } else apply({ type: input.kind });
  }
  for (let i = 0; i < 50 && state.nextWake !== undefined; i++) {
    now = Math.max(now, state.nextWake);
    apply({ type: 'wake' });
  }
  log.push({ input: { type: 'wake' }, now, commands: [], consentBefore: false, exitedBefore: Boolean(state.exited), pausedBefore: state.paused });
  (log as unknown as { final: typeof state }).final = state;
  return log;
}

const sendsOf = (log: Step[]) => log.flatMap((s) => s.commands.filter((c) => c.type === 'send').map((c) => ({ ...s, send: c as Extract<Command, { type: 'send' }> })));
const RUNS = { numRuns: 150 };

describe('interpreter invariants', () => {
  it('no email without consent, while paused or after exit', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        for (const s of sendsOf(drive(campaign, lead, stream))) {
          // Consent as the interpreter knew it when deciding (a consent input itself can only withdraw).
          const consentNow = s.input.type === 'consent' ? s.input.granted : s.consentBefore || (s.input.type === 'start' && lead.consent.marketing_email);
          expect(consentNow).toBe(true);
          expect(s.exitedBefore).toBe(false);
          expect(s.pausedBefore && s.input.type !== 'resume').toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('a withdraw_consent step holds until consent is given again; nothing is sent after a suppress step', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        let withdrawn = false;
        let suppressed = false;
        for (const s of drive(campaign, lead, stream)) {
          if (s.input.type === 'consent' && s.input.granted) withdrawn = false;
          for (const command of s.commands) {
            if (command.type === 'withdraw_consent') withdrawn = true;
            if (command.type === 'suppress') suppressed = true;
            if (command.type === 'send') expect({ withdrawn, suppressed }).toEqual({ withdrawn: false, suppressed: false });
            if (suppressed) expect(['suppress', 'exit', 'wake_at', 'stage_changed']).toContain(command.type);
          }
        }
      }),
      RUNS,
    );
  });

  it('at most one send per visit of a step: send keys never repeat', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        const keys = sendsOf(drive(campaign, lead, stream)).map((s) => s.send.sendKey);
        expect(new Set(keys).size).toBe(keys.length);
      }),
      RUNS,
    );
  });

  it('an email step marked once, or in a skip_sent track, is sent at most once in the enrolment', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        const onceOnly = new Set<string>();
        const reentrySemantics = lead.id < '8'; // as drive() starts the enrolment
        const walk = (steps: Campaign['tracks']['cold'], base: string, track: keyof Campaign['tracks']) =>
          steps.forEach((step, i) => {
            const path = `${base}[${i}]`;
            if (step.kind === 'email' && (step.once || (reentrySemantics && campaign.trackReentry?.[track] === 'skip_sent'))) onceOnly.add(path);
            if (step.kind === 'branch' || step.kind === 'wait_for') {
              walk(step.then, `${path}.then`, track);
              walk(step.else, `${path}.else`, track);
            }
          });
        for (const track of ['cold', 'warm', 'hot'] as const) walk(campaign.tracks[track], `tracks.${track}`, track);
        const paths = sendsOf(drive(campaign, lead, stream)).map((s) => s.send.stepPath).filter((path) => onceOnly.has(path!));
        expect(new Set(paths).size).toBe(paths.length);
      }),
      RUNS,
    );
  });

  it('nothing is sent outside the send window, and the frequency cap holds', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        const sends = sendsOf(drive(campaign, lead, stream));
        const zone = windowZone(campaign.sendWindow, lead.timezone);
        for (const s of sends) {
          expect(isWindowOpen(campaign.sendWindow, zone, s.now)).toBe(true);
          const within = sends.filter((o) => o.now > s.now - campaign.frequencyCap!.windowMs && o.now <= s.now);
          expect(within.length).toBeLessThanOrEqual(campaign.frequencyCap!.max);
        }
      }),
      RUNS,
    );
  });

  it('the score always equals the sum of its breakdown', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, fc.integer({ min: 0, max: 120 }), (campaign, lead, stream, laterDays) => {
        const log = drive(campaign, lead, stream);
        const state = (log as unknown as { final: Parameters<typeof describeState>[1] }).final;
        for (const at of [log.at(-1)!.now, log.at(-1)!.now + laterDays * DAY]) {
          const view = describeState(campaign, state, at);
          const sum = Math.round(view.breakdown.reduce((total, item) => total + item.points, 0) * 10) / 10;
          expect(view.score).toBe(sum);
        }
      }),
      RUNS,
    );
  });

  it('same inputs give the same outputs (and the pure step agrees with the in-place one)', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        const a = drive(campaign, lead, stream).map((s) => s.commands);
        const b = drive(campaign, lead, stream, true).map((s) => s.commands);
        expect(b).toEqual(a);
      }),
      { numRuns: 60 },
    );
  });

  it('a fresh interpreter (empty caches, as in a replaying worker) decides exactly the same', async () => {
    await fc.assert(
      fc.asyncProperty(campaigns, leads, inputs, async (campaign, lead, stream) => {
        const warm = drive(campaign, lead, stream).map((s) => s.commands);
        vi.resetModules();
        const fresh = await import('../../campaign/interpreter');
        expect(drive(campaign, lead, stream, false, fresh).map((s) => s.commands)).toEqual(warm);
      }),
      { numRuns: 20 },
    );
  });

  it('exit is final: nothing is commanded after it', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        for (const s of drive(campaign, lead, stream)) if (s.exitedBefore) expect(s.commands).toEqual([]);
      }),
      RUNS,
    );
  });

  it('hands off at most once at a time, and only when qualified or asked', () => {
    fc.assert(
      fc.property(campaigns, leads, inputs, (campaign, lead, stream) => {
        const log = drive(campaign, lead, stream);
        const handoffs = log.flatMap((s) => s.commands.filter((c) => c.type === 'handoff'));
        const keys = handoffs.map((c) => (c as { handoffKey: string }).handoffKey);
        expect(new Set(keys).size).toBe(keys.length);
        // Qualified: the score met the campaign's `score >= N`; otherwise a handoff step asked.
        const threshold = Number(/score >= (\d+)/.exec(campaign.qualify!.all![0]!)![1]);
        for (const h of handoffs as Extract<Command, { type: 'handoff' }>[]) {
          if (h.reasons[0]!.startsWith('handoff step')) expect(h.reasons).toEqual([expect.stringMatching(/^handoff step tracks\.(cold|warm|hot)\[/)]);
          else expect(h.score).toBeGreaterThanOrEqual(threshold);
        }
      }),
      RUNS,
    );
  });
});

it('drives time forward sensibly (sanity of the generator)', () => {
  const log = drive(loadCampaign('saas-whitepaper-nurture'), { id: 'x', email: 'x@y.z', attributes: {}, timezone: 'Asia/Tokyo', consent: { marketing_email: true } }, [
    { gap: HOUR, input: { kind: 'event', type: 'page.viewed', page: 'pricing', id: 1, machine: false } },
  ]);
  expect(sendsOf(log).length).toBeGreaterThan(3);
});

it('random campaigns exercise sends, handoffs and exits (sanity of the generator)', () => {
  const lead: LeadSnapshot = { id: 'x', email: 'x@y.z', attributes: { company: { employees: 500 } }, timezone: 'Asia/Tokyo', consent: { marketing_email: true } };
  const pricing = Array.from({ length: 6 }, (_, i) => ({ gap: DAY, input: { kind: 'event' as const, type: 'page.viewed', page: 'pricing', id: i, machine: false } }));
  const logs = fc.sample(randomCampaigns, { numRuns: 40, seed: 42 }).map((campaign) => drive(campaign, lead, pricing).flatMap((s) => s.commands));
  const share = (type: Command['type']) => logs.filter((commands) => commands.some((c) => c.type === type)).length / logs.length;
  expect(share('send')).toBeGreaterThan(0.5);
  expect(share('handoff')).toBeGreaterThan(0.2);
  expect(share('exit')).toBeGreaterThan(0.1);
});
