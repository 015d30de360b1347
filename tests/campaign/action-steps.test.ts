// The interpreter's side of withdraw_consent, suppress, notify and webhook steps, and what
// validation refuses in them. Their effects on the database, the mail and a real receiver are
// proved on the engine in tests/e2e/campaign-actions.test.ts.
import { expect, it } from 'vitest';
import { initialState, stepInPlace, validateCampaign, type Command } from '../../campaign';
import { lead, TUESDAY_10_JST } from './support';

const T0 = TUESDAY_10_JST;
const base = { id: 'sunset', name: 'Sunset', from: { email: 'a@b.example' }, entry: { on: 'x.y' }, consent: 'marketing_email', scoring: {}, stages: { warm: 10, hot: 20 }, send_window: { days: 'every_day', spread: 0 } };

const compile = (cold: unknown[]) => {
  const compiled = validateCampaign({ ...base, tracks: { cold } });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return compiled.campaign;
};
const problems = (cold: unknown[]) => {
  const compiled = validateCampaign({ ...base, tracks: { cold } });
  return compiled.ok ? [] : compiled.errors.map((error) => `${error.path}: ${error.message}`);
};
const withoutWake = (commands: Command[]) => commands.filter((command) => command.type !== 'wake_at');

it('withdraw_consent stops the marketing email after it at once; a later step sends nothing', () => {
  const campaign = compile([{ withdraw_consent: true }, { email: { template: 'welcome', subject: 'Hi' } }, { withdraw_consent: 'newsletter' }]);
  const state = initialState(campaign, lead({ consent: { marketing_email: true, newsletter: true } }), T0, { trackReentry: true });
  expect(withoutWake(stepInPlace(campaign, state, { type: 'start' }, T0))).toEqual([
    { type: 'withdraw_consent', stepPath: 'tracks.cold[0]', purpose: 'marketing_email' },
    { type: 'email_not_sent', stepPath: 'tracks.cold[1]', reason: 'no_consent' },
    { type: 'withdraw_consent', stepPath: 'tracks.cold[2]', purpose: 'newsletter' },
  ]);
  expect(state.lead.consent).toEqual({ marketing_email: false, newsletter: false });
  expect(state.history.map((entry) => entry.what)).toContain('tracks.cold[1]: skipped, no consent');
});

it('suppress ends the enrolment: nothing after it runs', () => {
  const campaign = compile([{ suppress: 'no engagement in 180 days' }, { email: { template: 'welcome', subject: 'Hi' } }]);
  const state = initialState(campaign, lead(), T0, { trackReentry: true });
  expect(stepInPlace(campaign, state, { type: 'start' }, T0)).toEqual([
    { type: 'suppress', stepPath: 'tracks.cold[0]', reason: 'no engagement in 180 days' },
    { type: 'exit', reason: 'suppressed' },
  ]);
  expect(state.exited?.reason).toBe('suppressed');
});

it('notify and webhook carry a key per visit (a loop tells again, a retry does not), the stage and the score', () => {
  const campaign = compile([
    { label: 'again', score: { add: 4 } },
    { notify: { to: ['ops@acme.example', 'ops@acme.example', 'crm@acme.example'], subject: 'Lead {{lead.first_name}}' } },
    { webhook: 'lead.scored' },
    { wait: '1d' },
    { goto: 'again' },
  ]);
  const state = initialState(campaign, lead(), T0, { trackReentry: true });
  const first = withoutWake(stepInPlace(campaign, state, { type: 'start' }, T0));
  expect(first).toEqual([
    { type: 'notify', key: 'tracks.cold[1]#1', stepPath: 'tracks.cold[1]', step: 'tracks.cold[1]', to: ['ops@acme.example', 'crm@acme.example'], template: 'internal-notice', subject: 'Lead {{lead.first_name}}', stage: 'cold', score: 4 },
    { type: 'webhook', key: 'tracks.cold[2]#1', stepPath: 'tracks.cold[2]', step: 'tracks.cold[2]', event: 'lead.scored', stage: 'cold', score: 4 },
  ]);
  const second = withoutWake(stepInPlace(campaign, state, { type: 'wake' }, T0 + 86_400_000));
  expect(second.map((command) => 'key' in command && command.key)).toEqual(['tracks.cold[1]#2', 'tracks.cold[2]#2']);
  expect(second[0]).toMatchObject({ stage: 'cold', score: 8 });
});

it('a webhook\'s outcome is noted, even after the exit that followed the step', () => {
  const campaign = compile([{ webhook: 'lead.sunset' }, { suppress: 'sunset' }]);
  const state = initialState(campaign, lead(), T0, { trackReentry: true });
  stepInPlace(campaign, state, { type: 'start' }, T0);
  expect(state.exited).toBeDefined();
  expect(stepInPlace(campaign, state, { type: 'webhook_result', stepPath: 'tracks.cold[0]', outcome: 'failed', error: 'webhook at hooks.example answered 400' }, T0 + 1000)).toEqual([]);
  stepInPlace(campaign, state, { type: 'webhook_result', stepPath: 'tracks.cold[0]', outcome: 'not_configured' }, T0 + 2000);
  expect(state.history.map((entry) => entry.what).slice(-2)).toEqual([
    'tracks.cold[0]: webhook failed: webhook at hooks.example answered 400',
    'tracks.cold[0]: webhook not posted: no WEBHOOK_URL is configured',
  ]);
});

it('refuses bad action steps, each at its place', () => {
  expect(problems([{ withdraw_consent: false }])).toEqual(['tracks.cold[0].withdraw_consent: expected true (the campaign\'s consent purpose) or a consent purpose like newsletter, got false']);
  expect(problems([{ withdraw_consent: 'Marketing Email' }])).toEqual(['tracks.cold[0].withdraw_consent: expected true (the campaign\'s consent purpose) or a consent purpose like newsletter, got "Marketing Email"']);
  expect(problems([{ suppress: true }])).toEqual(['tracks.cold[0].suppress: expected text']);
  expect(problems([{ suppress: 'a\nb' }])).toEqual(['tracks.cold[0].suppress: expected the reason, like "no engagement in 180 days" (one line, at most 200 characters), got "a\nb"']);
  expect(problems([{ notify: { to: 'ops', subject: 'x' } }])).toEqual(['tracks.cold[0].notify.to: expected an email address like sales-ops@example.com, got "ops"']);
  expect(problems([{ notify: { to: [], subject: 'x' } }])).toEqual(['tracks.cold[0].notify.to: expected 1 to 10 addresses']);
  expect(problems([{ notify: { to: 'ops@acme.example' } }])).toEqual(['tracks.cold[0].notify.subject: is required']);
  expect(problems([{ notify: { to: 'ops@acme.example', subject: '{{lead.first_name}' } }])[0]).toMatch(/^tracks\.cold\[0\]\.notify\.subject: does not compile as a template: a \{\{ is not closed/);
  expect(problems([{ notify: { to: 'ops@acme.example', subject: 'x', cc: 'a@b.example' } }])).toEqual(['tracks.cold[0].notify.cc: unknown field; expected one of to, subject, template']);
  expect(problems([{ webhook: 'Lead Sunset' }])).toEqual(['tracks.cold[0].webhook: expected the event name the receiver gets, like lead.sunset, got "Lead Sunset"']);
  // A suppress step ends the enrolment: a goto after it is no loop.
  expect(problems([{ label: 'top', suppress: 'gone' }, { goto: 'top' }])).toEqual([]);
});
