// A lead's attributes changing mid-journey (a lead.updated event): conditions and fit see the
// new values, the stage and the qualification follow, and the timeline says why the score moved.
import { expect, it } from 'vitest';
import { initialState, LEAD_UPDATED, stepInPlace, validateCampaign, type Command, type Input } from '../../campaign';
import { DAY, HOUR, lead, loadCampaign, TUESDAY_10_JST } from './support';

const bant = loadCampaign('hot-lead-seed002');
const T0 = TUESDAY_10_JST;
const event = (id: string, type: string, at: number, data: Record<string, unknown>): Input => ({ type: 'event', event: { id, type, at, data } });

it('BANT learnt later re-scores fit, moves the lead to hot and hands it off', () => {
  // A manager at a 250-person company, with neither authority nor timeline known: fit 30.
  const attributes = { first_name: 'Aiko', company: { name: 'Globex', employees: 250 }, role: 'manager', email_domain: 'globex.example' };
  const state = initialState(bant, lead({ attributes }), T0, { trackReentry: true });
  stepInPlace(bant, state, { type: 'start' }, T0);
  stepInPlace(bant, state, event('brochure', 'asset.downloaded', T0 + HOUR, { asset: 'product-brochure' }), T0 + HOUR);
  stepInPlace(bant, state, event('p1', 'page.viewed', T0 + 2 * HOUR, { section: 'product' }), T0 + 2 * HOUR);
  stepInPlace(bant, state, event('p2', 'page.viewed', T0 + 3 * HOUR, { section: 'product' }), T0 + 3 * HOUR);
  expect(state.stage).toBe('warm'); // 30 fit + 15 brochure + 10 pages = 55
  expect(state.handoff).toBeUndefined();

  // A sales call learns authority and a two-month timeline: the API's upsert stores this event.
  const at = T0 + DAY;
  const commands: Command[] = stepInPlace(
    bant,
    state,
    event('attributes:1', LEAD_UPDATED, at, { attributes: { ...attributes, email_domain: 'ignored.example', authority: true, timeline_months: 2 }, changed: ['authority', 'timeline_months'] }),
    at,
  );
  expect(state.lead.attributes).toMatchObject({ authority: true, timeline_months: 2, email_domain: 'globex.example' });
  expect(commands.find((c) => c.type === 'stage_changed')).toMatchObject({ from: 'warm', to: 'hot', score: 80 });
  const handoff = commands.find((c) => c.type === 'handoff');
  expect(handoff).toMatchObject({ score: 80 });
  expect(state.history.map((h) => h.what)).toContain('attributes changed (authority, timeline_months): fit 30 → 55 (+10 decision authority, +15 adoption within 3 months)');
  // Kept for conditions without the attributes themselves.
  expect(state.events.at(-1)).toEqual({ id: 'attributes:1', type: LEAD_UPDATED, at, data: { changed: ['authority', 'timeline_months'] } });
});

it('a change that loses fit moves the lead down, and a repeated event changes nothing', () => {
  const attributes = { company: { employees: 250 }, role: 'vp', authority: true, timeline_months: 1 };
  const state = initialState(bant, lead({ attributes }), T0, { trackReentry: true });
  stepInPlace(bant, state, { type: 'start' }, T0);
  expect(state.stage).toBe('warm'); // fit 55
  const smaller = event('attributes:2', LEAD_UPDATED, T0 + HOUR, { attributes: { ...attributes, company: { employees: 20 }, role: 'engineer', authority: false }, changed: ['authority', 'company', 'role'] });
  const down = stepInPlace(bant, state, smaller, T0 + HOUR);
  expect(down.find((c) => c.type === 'stage_changed')).toMatchObject({ from: 'warm', to: 'cold', score: 15 });
  expect(state.history.map((h) => h.what)).toContain('attributes changed (authority, company, role): fit 55 → 15 (-15 company 100+ employees, -15 manager or above, -10 decision authority)');
  expect(stepInPlace(bant, state, smaller, T0 + 2 * HOUR).filter((c) => c.type !== 'wake_at')).toEqual([]);
});

it('set, tag and untag steps: the conditions after them see the change, the command carries it, bad ones are refused', () => {
  const base = { id: 't', name: 'T', from: { email: 'a@b.example' }, entry: { on: 'x.y' }, consent: 'marketing_email', scoring: {}, stages: { warm: 10, hot: 20 } };
  const compiled = validateCampaign({
    ...base,
    send_window: { days: 'every_day', spread: 0 },
    tracks: { cold: [{ tag: ['vip', 'student'] }, { untag: 'student' }, { set: { lifecycle: 'mql', region: null } }, { if: "'vip' in lead.tags && !('student' in lead.tags) && lead.lifecycle == 'mql' && !lead.region", then: [{ email: { template: 'welcome', subject: 'Hi' } }] }] },
  });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const state = initialState(compiled.campaign, lead({ attributes: { region: 'kanto', tags: ['newsletter'] } }), T0, { trackReentry: true });
  const commands = stepInPlace(compiled.campaign, state, { type: 'start' }, T0);
  expect(commands.filter((c) => c.type === 'update_lead')).toEqual([
    { type: 'update_lead', stepPath: 'tracks.cold[0]', tag: ['vip', 'student'] },
    { type: 'update_lead', stepPath: 'tracks.cold[1]', untag: ['student'] },
    { type: 'update_lead', stepPath: 'tracks.cold[2]', set: { lifecycle: 'mql', region: null } },
  ]);
  expect(state.lead.attributes).toEqual({ tags: ['newsletter', 'vip'], lifecycle: 'mql' });
  expect(commands.filter((c) => c.type === 'send')).toHaveLength(1);

  const bad = validateCampaign({ ...base, tracks: { cold: [{ set: { tags: 'x', 'job title': 'cto', company: { size: 3 } } }, { tag: 'not a tag' }, { untag: [] }] } });
  expect(!bad.ok && bad.errors).toEqual([
    { path: 'tracks.cold[0].set.tags', message: 'tags are changed with tag: and untag:' },
    { path: 'tracks.cold[0].set.job title', message: 'expected an attribute name of letters, digits and _' },
    { path: 'tracks.cold[0].set.company', message: 'expected text, a number, true, false or null (clears it)' },
    { path: 'tracks.cold[1].tag', message: 'expected a tag of letters, digits, _ . : and -, got "not a tag"' },
    { path: 'tracks.cold[2].untag', message: 'expected at least one tag' },
  ]);
});
