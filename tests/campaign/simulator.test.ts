// The simulator: deterministic per seed, and its counts agree with each other.
import { describe, expect, it } from 'vitest';
import { parseCampaign } from '../../campaign';
import { DEFAULT_PROFILE, parseProfile } from '../../campaign/profile';
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
    // Only consenting leads (92% by default) receive the first email; the others' is skipped, and says why.
    const welcome = r.steps['tracks.cold[0]']!;
    expect(welcome.sent).toBeLessThan(3000);
    expect(welcome.sent).toBeGreaterThan(2600);
    // (A lead or two enrolled at the very end, outside the window, is still waiting for it.)
    expect(welcome.sent + welcome.notSent.no_consent!).toBeGreaterThan(2990);
    expect(welcome.sent + welcome.notSent.no_consent!).toBeLessThanOrEqual(3000);
    // Leads enrolled outside the send window wait for it: deferred, then sent.
    expect(welcome.notSent.window).toBeGreaterThan(0);
  });

  it('draws the campaign\'s own attributes, enrols only whom entry.where admits, and counts machine opens and bounces apart', () => {
    const parsed = parseCampaign(`
id: by-industry
name: By industry
from: { email: a@b.example }
entry: { on: asset.downloaded, where: "lead.industry == 'retail' && event.data.asset == 'whitepaper'" }
consent: marketing_email
scoring: { behaviour: [ { on: email.opened, points: 10, label: opens } ] }
stages: { warm: 1000, hot: 2000 }
send_window: { days: every_day, spread: 0 }
tracks:
  cold:
    - label: hello
      email: { template: welcome, subject: "Hello {{lead.first_name}}" }
    - wait: 2d
    - email: { template: reminder, subject: "Again" }
`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const profile = parseProfile({
      attributes: { custom: { industry: { values: ['retail', 'finance'], weights: [1, 3] } } },
      consentRate: 1,
      email: { openRate: 0, machineOpenRate: 0.5, bounceRate: 0.1, unsubscribeRate: 0 },
    });
    if (!profile.ok) throw new Error(JSON.stringify(profile.errors));
    const r = simulate(parsed.campaign, { leads: 2000, days: 10, seed: 5, profile: profile.profile });
    // About a quarter are retail.
    expect(r.funnel.enrolled + r.funnel.notEnrolled).toBe(2000);
    expect(r.funnel.enrolled / 2000).toBeGreaterThan(0.2);
    expect(r.funnel.enrolled / 2000).toBeLessThan(0.3);
    const hello = r.steps['tracks.cold[0]']!;
    expect(hello).toMatchObject({ label: 'hello', subject: 'Hello {{lead.first_name}}', sent: r.funnel.enrolled, opened: 0 });
    expect(hello.machineOpened / hello.sent).toBeGreaterThan(0.4);
    expect(hello.bounced / hello.sent).toBeGreaterThan(0.05);
    // Machine opens score nothing (no lead reached warm); a bounce ends the enrolment (exit_on bounced).
    expect(r.funnel.reachedWarm).toBe(0);
    expect(r.funnel.exited.bounced).toBeGreaterThan(0);
    // A bounced lead gets no second email (nor do leads enrolled in the run's last two days).
    expect(r.steps['tracks.cold[2]']!.sent).toBeLessThanOrEqual(hello.sent - hello.bounced);
    expect(r.steps['tracks.cold[2]']!.sent).toBeGreaterThan(0.6 * (hello.sent - hello.bounced));
    expect(r.sendsByDay.reduce((sum, n) => sum + n, 0)).toBe(hello.sent + r.steps['tracks.cold[2]']!.sent);
  });

  it('plays dated behaviour: after an email of a template, and on a day of the enrolment', () => {
    const profile = parseProfile({
      consentRate: 1,
      daily: [],
      email: { unsubscribeRate: 0, bounceRate: 0 },
      dated: [
        { afterEmail: 'welcome', type: 'page.viewed', data: { page: 'pricing' }, chance: 1, withinHours: 2 },
        { day: 3, type: 'webinar.attended', data: { webinar: 'monthly' }, chance: 0.5 },
      ],
    });
    if (!profile.ok) throw new Error(JSON.stringify(profile.errors));
    const r = simulate(demo, { leads: 1000, days: 20, seed: 9, profile: profile.profile });
    const none = simulate(demo, { leads: 1000, days: 20, seed: 9, profile: { ...profile.profile, dated: [] } });
    const welcome = r.steps['tracks.cold[0]']!.sent;
    // Each welcome email brings a pricing-page view, and with it the demo-invite trigger (a 14-day cooldown).
    expect(r.steps['triggers[1]']!.sent).toBeGreaterThan(0.9 * welcome);
    expect(none.steps['triggers[1]']).toBeUndefined();
    // Half the leads attend the webinar on day 3: the follow-up trigger (unless sales has them by then).
    expect(none.steps['triggers[0]']).toBeUndefined();
    expect(r.steps['triggers[0]']!.sent / r.funnel.enrolled).toBeGreaterThan(0.15);
    expect(r.steps['triggers[0]']!.sent / r.funnel.enrolled).toBeLessThan(0.55);
    const refused = parseProfile({ dated: [{ type: 'page.viewed', chance: 2 }, { type: 'x.y', day: 1, afterEmail: 'welcome' }] });
    expect(refused.ok ? [] : refused.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'dated[0].chance: expected a number from 0 to 1, got 2',
      'dated[0]: expected afterEmail (a template) or day (after enrolment), one of them',
      'dated[1]: expected afterEmail (a template) or day (after enrolment), one of them',
    ]);
  });

  it('refuses custom attributes it cannot draw', () => {
    const result = parseProfile({ attributes: { custom: { 'bad name': { values: ['x'], weights: [1] }, plan: { values: [{}], weights: [1] } } } });
    expect(result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'attributes.custom.bad name: expected an attribute name of letters, digits and _',
      'attributes.custom.plan.values[0]: expected text, a number, true or false, got {}',
    ]);
  });

  it('declares a winner when one variant is clearly better', () => {
    const profile = { ...DEFAULT_PROFILE, email: { ...DEFAULT_PROFILE.email, variantLift: { B: 1.6 } } };
    const r = simulate(demo, { leads: 4000, days: 30, seed: 2, profile });
    expect(r.abTests['tracks.cold[0]']).toMatchObject({ winner: 'B' });
  });
});
