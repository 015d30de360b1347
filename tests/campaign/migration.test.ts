// Moving a running enrolment to another campaign version (campaign/migration.ts): where the lead
// goes, what it keeps, and that the interpreter carries on under the new rules at once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeState, initialState, migrateState, stepInPlace, type Campaign, type Command, type EnrolmentState, type Input } from '../../campaign';
import { loadCampaign, DAY, HOUR, lead, TUESDAY_10_JST } from './support';

const v1 = loadCampaign('saas-whitepaper-nurture');
const sends = (commands: Command[]) => commands.filter((c) => c.type === 'send') as Extract<Command, { type: 'send' }>[];
const event = (id: string, type: string, at: number, data: Record<string, unknown> = {}): Input => ({ type: 'event', event: { id, type, at, data } });
const migrated: Input = { type: 'migrated', fromVersion: 1, toVersion: 2 };

/** A lead of v1 started on Tuesday 10:00 JST: welcome sent, waiting up to 3 days for a click at tracks.cold[1]. */
function started(): EnrolmentState {
  const s = initialState(v1, lead(), TUESDAY_10_JST);
  stepInPlace(v1, s, { type: 'start' }, TUESDAY_10_JST);
  return s;
}

const CLICK_BLOCK = `    - wait_for: { event: email.clicked, timeout: 3d }
      then:
        - wait: 2d
        - email: { template: case-study, subject: "How Globex cut reporting time by 70%" }
      else:
        - email: { template: reminder, subject: "Did you get a chance to read the guide?" }
`;

describe('position', () => {
  it('stays on a step of the same kind at the same path, keeping the running wait and its deadline', () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace('Did you get a chance to read the guide?', 'Still curious about the guide?'));
    const before = started();
    const now = TUESDAY_10_JST + 5 * HOUR;
    const s = migrateState(v1, v2, before, now);
    expect(s.path).toEqual([1]);
    expect(s.waiting).toEqual(before.waiting);
    expect(s.visits).toEqual({ 'tracks.cold[0]': 1 });
    const commands = stepInPlace(v2, s, migrated, now);
    expect(sends(commands)).toEqual([]);
    expect(commands.at(-1)).toEqual({ type: 'wake_at', at: TUESDAY_10_JST + 3 * DAY });
    expect(s.history.at(-1)?.what).toBe('moved from campaign version 1 to 2');
    // The timeout then runs the new version's else-branch.
    expect(sends(stepInPlace(v2, s, { type: 'wake' }, TUESDAY_10_JST + 3 * DAY)).map((c) => c.subject)).toEqual(['Still curious about the guide?']);
  });

  it("restarts the stage's track when the step is gone (or of another kind), clearing the wait; visit counters are kept", () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace(CLICK_BLOCK, '    - wait: 3d\n'));
    // The lead clicked: it waits 2 days at tracks.cold[1].then[1], a path v2 no longer has.
    const s = started();
    stepInPlace(v1, s, event('c1', 'email.clicked', TUESDAY_10_JST + HOUR, { template: 'welcome' }), TUESDAY_10_JST + HOUR);
    expect(s.path).toEqual([1, 'then', 1]);
    expect(s.waiting?.kind).toBe('timer');
    s.visits['tracks.cold[1].else[0]'] = 1; // as if it had been through the else-branch before
    const now = TUESDAY_10_JST + 2 * HOUR;
    const moved = migrateState(v1, v2, s, now);
    expect(moved.track).toBe('cold');
    expect(moved.path).toEqual([0]);
    expect(moved.waiting).toBeUndefined();
    expect(moved.visits).toEqual(s.visits);
    expect(moved.history.at(-1)?.what).toMatch(/tracks\.cold\[1\]\.then\[1\] has no counterpart .*restarting tracks\.cold/);
    // The history, the sends and the events are the lead's own and stay.
    expect(moved.sends).toEqual(s.sends);
    expect(moved.events).toEqual(s.events);
    // The migrated input runs the first step again, as a second visit (a send key of its own).
    const commands = stepInPlace(v2, moved, migrated, now);
    expect(sends(commands).map((c) => [c.template, c.sendKey])).toEqual([['welcome', 'tracks.cold[0]#2']]);
    expect(moved.path).toEqual([2]); // past the new 3-day wait
    expect(commands.at(-1)).toEqual({ type: 'wake_at', at: now + 3 * DAY });
  });

  it('a step of another kind at the same path counts as gone; an empty track ends at once', () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace(CLICK_BLOCK, '    - email: { template: reminder, subject: "Hello again" }\n'));
    const moved = migrateState(v1, v2, started(), TUESDAY_10_JST + HOUR);
    expect(moved.path).toEqual([0]);
    expect(moved.waiting).toBeUndefined();

    // A v3 whose cold track is a single wait, shorter than where the lead is: nothing left to run.
    const v3 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace(/ {2}cold:\n[\s\S]*?\n {2}warm:\n/, '  cold: []\n  warm:\n'));
    const ended = migrateState(v1, v3, started(), TUESDAY_10_JST + HOUR);
    expect(ended.path).toBeNull();
    expect(ended.waiting).toBeUndefined();
    const commands = stepInPlace(v3, ended, migrated, TUESDAY_10_JST + HOUR);
    expect(sends(commands)).toEqual([]);
    expect(commands.some((c) => c.type === 'wake_at')).toBe(false);
  });
});

describe('scoring, stages and qualification', () => {
  it('recomputes fit points with the new fit rules and keeps behaviour points', () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) =>
      text.replace('points: 20, label: decision-maker role', 'points: 5, label: decision-maker role').replace(/^ {4}- \{ if: "lead\.company\.employees >= 100".*\n/m, ''),
    );
    const s = started();
    stepInPlace(v1, s, event('d1', 'asset.downloaded', TUESDAY_10_JST + HOUR, { asset: 'whitepaper' }), TUESDAY_10_JST + HOUR);
    expect(describeState(v1, s, TUESDAY_10_JST + HOUR).score).toBe(45); // fit 15 + 20, the download 10
    const moved = migrateState(v1, v2, s, TUESDAY_10_JST + HOUR);
    expect(moved.fit).toEqual([{ label: 'decision-maker role', points: 5 }]);
    expect(moved.behaviour).toEqual(s.behaviour);
    expect(describeState(v2, moved, TUESDAY_10_JST + HOUR).score).toBe(15);
  });

  it("applies the new version's stage thresholds at once: a stage change and that track's first email", () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace('stages: { warm: 50, hot: 75, hysteresis: 5 }', 'stages: { warm: 20, hot: 30, hysteresis: 5 }'));
    const s = started(); // fit 35: cold under v1, hot under v2
    const now = TUESDAY_10_JST + HOUR;
    const moved = migrateState(v1, v2, s, now);
    expect(moved.stage).toBe('cold'); // nothing decided before the interpreter runs
    const commands = stepInPlace(v2, moved, migrated, now);
    expect(commands.find((c) => c.type === 'stage_changed')).toEqual({ type: 'stage_changed', from: 'cold', to: 'hot', score: 35 });
    expect(sends(commands).map((c) => [c.template, c.sendKey])).toEqual([['demo-invite', 'tracks.hot[0]#1']]);
    expect(describeState(v2, moved, now)).toMatchObject({ stage: 'hot', currentStep: 'tracks.hot[2]' }); // after the 5-day wait
  });

  it("qualifies at once under the new version's qualification rules", () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace('"score >= 75"', '"score >= 45"'));
    const s = started();
    const now = TUESDAY_10_JST + HOUR;
    stepInPlace(v1, s, event('p1', 'page.viewed', now, { page: 'pricing' }), now); // 35 + 15 = 50: warm, not qualified under v1
    expect(s.handoff).toBeUndefined();
    const moved = migrateState(v1, v2, s, now + 1000);
    const commands = stepInPlace(v2, moved, migrated, now + 1000);
    expect(commands.find((c) => c.type === 'handoff')).toMatchObject({ handoffKey: 'handoff-1', score: 50 });
    expect(moved.handoff?.status).toBe('pending');
  });

  it('a new version without handoff rules stops SLA reminders and releases a "not ready" lead into nurture', () => {
    const v2 = loadCampaign('saas-whitepaper-nurture', (text) => text.replace(/^qualify:\n[\s\S]*?\n(?=exit_on:)/m, ''));
    expect(v2.handoff).toBeUndefined();
    const s = started();
    const now = TUESDAY_10_JST + HOUR;
    stepInPlace(v1, s, event('p1', 'page.viewed', now, { page: 'pricing' }), now);
    stepInPlace(v1, s, event('p2', 'page.viewed', now, { page: 'pricing' }), now);
    stepInPlace(v1, s, event('w1', 'webinar.attended', now), now); // 35 + 15 + 15 + 20 = 85: qualified
    expect(s.handoff?.status).toBe('pending');
    const pending = migrateState(v1, v2, s, now + HOUR);
    expect(pending.handoff).toMatchObject({ key: 'handoff-1', status: 'pending', reminded: true, escalated: true });
    const commands = stepInPlace(v2, pending, migrated, now + HOUR);
    expect(commands.filter((c) => c.type === 'sales_reminder' || c.type === 'sales_escalation')).toEqual([]);

    stepInPlace(v1, s, { type: 'sales_response', handoffKey: 'handoff-1', outcome: 'not_ready' }, now + HOUR);
    const released = migrateState(v1, v2, s, now + 2 * HOUR);
    expect(released.handoff).toBeUndefined();
    expect(released.history.at(-1)?.what).toMatch(/no handoff rules/);
  });
});

describe('property', () => {
  const campaigns = fc.constantFrom(v1, loadCampaign('hot-lead-seed002'));
  const streams = fc.array(
    fc.record({
      gap: fc.integer({ min: 0, max: 4 * DAY }),
      type: fc.constantFrom('email.opened', 'email.clicked', 'page.viewed', 'asset.downloaded', 'webinar.attended', 'form.submitted', 'sales'),
      page: fc.constantFrom('pricing', 'product', 'careers'),
      outcome: fc.constantFrom('accepted', 'not_ready', 'disqualified'),
    }),
    { maxLength: 25 },
  );

  it('migrating to the same campaign changes nothing observable in describeState', () => {
    fc.assert(
      fc.property(campaigns, streams, (campaign: Campaign, stream) => {
        const s = initialState(campaign, lead(), TUESDAY_10_JST);
        let now = TUESDAY_10_JST;
        const check = () => expect(describeState(campaign, migrateState(campaign, campaign, s, now), now)).toEqual(describeState(campaign, s, now));
        stepInPlace(campaign, s, { type: 'start' }, now);
        check();
        stream.forEach((item, i) => {
          const target = now + item.gap;
          while (s.nextWake !== undefined && s.nextWake <= target) {
            now = Math.max(now, s.nextWake);
            stepInPlace(campaign, s, { type: 'wake' }, now);
            check();
          }
          now = target;
          if (item.type !== 'sales') stepInPlace(campaign, s, event(`e${i}`, item.type, now, { page: item.page, section: item.page, asset: 'product-brochure' }), now);
          else if (s.handoff) stepInPlace(campaign, s, { type: 'sales_response', handoffKey: s.handoff.key, outcome: item.outcome as never }, now);
          check();
        });
      }),
      { numRuns: 150 },
    );
  });
});
