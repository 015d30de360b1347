// The simulator: deterministic per seed, and its counts agree with each other.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE } from '../../campaign/profile';
import { simulate } from '../../campaign/simulator';
import { loadCampaign } from './support';

const demo = loadCampaign('saas-whitepaper-nurture');

describe('simulate', () => {
  it('gives the same result for the same seed and a different one for another seed', () => {
    const a = simulate(demo, { leads: 800, days: 60, seed: 3 });
    expect(simulate(demo, { leads: 800, days: 60, seed: 3 })).toEqual(a);
    expect(simulate(demo, { leads: 800, days: 60, seed: 4 })).not.toEqual(a);
  });

  it('keeps the funnel consistent', () => {
    const r = simulate(demo, { leads: 3000, days: 90, seed: 1 });
    const f = r.funnel;
    expect(f.enrolled).toBe(3000);
    expect(f.reachedHot).toBeLessThanOrEqual(f.reachedWarm);
    expect(f.accepted).toBeLessThanOrEqual(f.handedOff);
    expect(f.converted).toBeLessThanOrEqual(f.accepted);
    expect(r.timeToQualifyDays.count).toBeLessThanOrEqual(f.handedOff);
    for (const step of Object.values(r.steps)) expect(step.clicked).toBeLessThanOrEqual(step.opened);
    // Every unsubscribe comes from an email; some fall after the lead has already left or the run ended.
    const fromEmails = Object.values(r.steps).reduce((sum, step) => sum + step.unsubscribed, 0);
    expect(f.unsubscribed).toBeGreaterThan(0);
    expect(f.unsubscribed).toBeLessThanOrEqual(fromEmails);
    // Only consenting leads (92% by default) receive the first email.
    expect(r.steps['tracks.cold[0]']!.sent).toBeLessThan(3000);
    expect(r.steps['tracks.cold[0]']!.sent).toBeGreaterThan(2600);
  });

  it('declares a winner when one variant is clearly better', () => {
    const profile = { ...DEFAULT_PROFILE, email: { ...DEFAULT_PROFILE.email, variantLift: { B: 1.6 } } };
    const r = simulate(demo, { leads: 4000, days: 30, seed: 2, profile });
    expect(r.abTests['tracks.cold[0]']).toMatchObject({ winner: 'B' });
  });
});
