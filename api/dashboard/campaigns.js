// Campaigns: the list with the event pipeline's delivery, and for the selected one its stage
// funnel, per-step results, A/B tests with their verdicts, the sales SLA, launches to known
// leads and a simulation on demand.
import { barChart } from './chart.js';
import { badge, card, clear, el, empty, facts, fmtDate, fmtInt, pct, table } from './dom.js';

export async function campaignsView({ api, route }) {
  const [list, delivery, selected] = await Promise.all([
    api.campaigns(),
    api.delivery(),
    route.id ? Promise.all([api.campaign(route.id), api.stats(route.id), api.launches(route.id)]) : null,
  ]);
  return el(
    'div',
    { class: 'stack' },
    campaignList(list.campaigns, route.id),
    selected ? campaignDetail(api, ...selected) : list.campaigns.length ? empty('Select a campaign to see its funnel, steps and A/B tests.') : null,
    deliveryCard(delivery),
  );
}

// ——— event delivery ———

const seconds = (s) => (s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`);

/** The dispatchers' backlog: events stored but not yet delivered to the enrolments. */
function deliveryCard(d) {
  const healthy = d.retrying === 0 && d.oldest_seconds < 60;
  return card(
    'Event delivery',
    { id: 'event-delivery' },
    el('p', { class: 'hint' }, 'Events, opens and clicks are accepted once stored; the workers deliver them to the enrolments, each lead\'s in order.'),
    facts([
      ['Waiting', el('span', { 'data-field': 'undelivered' }, fmtInt(d.undelivered), ' ', healthy ? badge('flowing', 'green') : badge('delayed', 'red'))],
      ['Retrying', el('span', { 'data-field': 'retrying' }, fmtInt(d.retrying))],
      ['Oldest waiting', el('span', { 'data-field': 'oldest' }, d.undelivered ? seconds(d.oldest_seconds) : '–')],
      ['Delivery lag (5 min)', el('span', { 'data-field': 'lag' }, d.lag_seconds.delivered ? `p50 ${seconds(d.lag_seconds.p50)} · p99 ${seconds(d.lag_seconds.p99)} over ${fmtInt(d.lag_seconds.delivered)} events` : 'nothing delivered')],
      d.last_error ? ['Last error', el('span', { class: 'error-text', 'data-field': 'last-error' }, d.last_error)] : null,
    ]),
  );
}

function campaignList(campaigns, selectedId) {
  if (!campaigns.length) return card('Campaigns', null, empty('No campaign yet. Create one with `nurture launch <file>`.'));
  const rows = campaigns.map((campaign) => ({
    props: { 'data-campaign-id': campaign.id, class: campaign.id === selectedId ? 'selected' : null, 'aria-current': campaign.id === selectedId ? 'true' : null },
    cells: [
      el('a', { href: `#/campaigns/${encodeURIComponent(campaign.id)}` }, campaign.name),
      el('code', null, campaign.id),
      badge(campaign.status),
      campaign.current_version ?? '–',
      fmtDate(campaign.updated_at),
    ],
  }));
  return card(
    'Campaigns',
    { id: 'campaign-list' },
    table([{ label: 'Name' }, { label: 'ID' }, { label: 'Status' }, { label: 'Version', numeric: true }, { label: 'Updated', nowrap: true }], rows),
  );
}

function campaignDetail(api, { campaign, definition, warnings }, stats, launches) {
  return el(
    'div',
    { class: 'stack', id: 'campaign-detail', 'data-campaign-id': campaign.id },
    el(
      'div',
      { class: 'page-title' },
      el('h1', null, campaign.name),
      badge(campaign.status),
      el('span', { class: 'muted' }, `${campaign.id} · version ${campaign.current_version ?? '–'}`),
    ),
    warnings?.length ? warningsCard(warnings) : null,
    el('div', { class: 'grid-2' }, funnelCard(stats.funnel), slaCard(stats.sla, stats.funnel)),
    stepsCard(stats.steps),
    abCard(stats, definition.ab),
    launchCard(api, campaign, launches.launches),
    simulationCard(api, campaign),
  );
}

// ——— launches ———

function launchCard(api, campaign, launches) {
  const output = el('div', { id: 'launch-result', 'aria-live': 'polite' });
  const list = el('div', { id: 'launch-list' }, launchTable(launches));
  const segment = el('textarea', { name: 'segment', rows: 2, placeholder: "lead.role == 'manager' && count('page.viewed', '90d') > 2" });
  const leads = el('textarea', { name: 'leads', rows: 2, placeholder: 'or addresses or lead ids, one per line' });
  const pace = el('input', { type: 'number', name: 'per_minute', min: 1, step: 1, placeholder: 'as fast as possible' });
  const button = el('button', { type: 'submit', class: 'primary' }, 'Launch');
  const form = el(
    'form',
    { class: 'launch-form', id: 'launch-form' },
    el('label', null, 'Segment (a condition over lead, consent and behaviour)', segment),
    el('label', null, 'Or a list', leads),
    el('label', null, 'Leads per minute', pace),
    button,
  );
  // While a launch runs, its row is refreshed every two seconds (until the page moves on).
  const follow = async () => {
    if (!list.isConnected) return;
    const { launches: latest } = await api.launches(campaign.id);
    clear(list).append(launchTable(latest));
    if (latest.some((launch) => !launch.complete)) setTimeout(follow, 2000);
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const lines = leads.value.split(/[\s,;]+/).filter(Boolean);
    const body = segment.value.trim() ? { segment: segment.value.trim() } : lines.every((line) => line.includes('@')) ? { emails: lines } : { lead_ids: lines };
    if (pace.value) body.per_minute = pace.valueAsNumber;
    button.disabled = true;
    try {
      const launch = await api.launch(campaign.id, body);
      const unknown = launch.unknown_emails?.length ? ` Not known (skipped): ${launch.unknown_emails.join(', ')}.` : '';
      clear(output).append(el('p', { class: 'summary' }, `Launch ${launch.id} started over ${fmtInt(launch.total)} candidate leads.${unknown}`));
      await follow();
    } catch (error) {
      clear(output).append(el('p', { class: 'error-text' }, `The launch was refused: ${error.message}`));
    } finally {
      button.disabled = false;
    }
  });
  if (launches.some((launch) => !launch.complete)) setTimeout(follow, 2000);
  return card(
    'Launch to known leads',
    { id: 'launches' },
    el('p', { class: 'hint' }, "Enrols leads already in the database. Leads without the campaign's consent or with a suppressed address are skipped; the re-entry rule decides for leads that were in the campaign before."),
    campaign.status === 'active' ? form : empty(`The campaign is ${campaign.status}: launch it first (nurture launch <file>).`),
    output,
    list,
  );
}

function launchTable(launches) {
  if (!launches.length) return empty('No launch yet.');
  const reasons = (counts) => Object.entries(counts).map(([reason, n]) => `${reason.replaceAll('_', ' ')} ${fmtInt(n)}`).join(', ') || '–';
  return table(
    [{ label: 'Launch' }, { label: 'Leads' }, { label: 'Status' }, { label: 'Scanned', numeric: true }, { label: 'Queued', numeric: true }, { label: 'Enrolled', numeric: true }, { label: 'Skipped' }, { label: 'Not entered' }, { label: 'Started', nowrap: true }],
    launches.map((launch) => ({
      props: { 'data-launch-id': launch.id },
      cells: [
        `#${launch.id}`,
        launch.segment !== null ? el('code', null, launch.segment) : `list of ${fmtInt(launch.listed)}`,
        badge(launch.complete ? launch.status : 'running', launch.complete ? (launch.status === 'done' ? 'green' : 'grey') : 'blue'),
        `${fmtInt(launch.scanned)} / ${fmtInt(launch.total)}`,
        fmtInt(launch.queued),
        el('span', { 'data-field': 'enrolled' }, fmtInt(launch.enrolled)),
        reasons(launch.skipped),
        reasons(launch.not_entered),
        fmtDate(launch.created_at),
      ],
    })),
  );
}

// ——— funnel ———

const STAGE_TONES = { cold: 'blue', warm: 'amber', hot: 'red' };

function funnelCard(funnel) {
  const r = funnel.reached;
  const bars = [
    { key: 'enrolled', label: 'Enrolled (cold)', value: r.cold, tone: 'blue', share: r.cold ? '100%' : null },
    { key: 'warm', label: 'Warm', value: r.warm, tone: 'amber', share: pct(r.warm, r.cold) },
    { key: 'hot', label: 'Hot', value: r.hot, tone: 'red', share: pct(r.hot, r.cold) },
    { key: 'handed_off', label: 'Handed off', value: r.handed_off, tone: 'green', share: pct(r.handed_off, r.cold) },
  ];
  // Where the leads are now: every stage the campaign has, cold/warm/hot first.
  const stages = [...new Set(['cold', 'warm', 'hot', ...Object.keys(funnel.by_stage)])];
  const now = stages.map((stage) => ({ key: stage, label: stage[0].toUpperCase() + stage.slice(1), value: funnel.by_stage[stage] ?? 0, tone: STAGE_TONES[stage] ?? 'grey' }));
  return card(
    'Stage funnel',
    { id: 'funnel' },
    el('p', { class: 'hint' }, 'Enrolments that ever reached each stage, as a share of all enrolled.'),
    el('figure', { 'data-chart': 'reached' }, barChart(bars, { title: 'Enrolments that reached each stage' })),
    el('h3', null, 'In each stage now'),
    el('figure', { 'data-chart': 'by-stage' }, barChart(now, { title: 'Enrolments in each stage now' })),
    el(
      'p',
      { class: 'badges' },
      Object.entries(funnel.by_status).map(([status, n]) => el('span', { class: 'count', 'data-status': status }, badge(status), ` ${fmtInt(n)}`)),
    ),
  );
}

function slaCard(sla, funnel) {
  const transitions = funnel.transitions.length
    ? table(
        [{ label: 'From' }, { label: 'To' }, { label: 'Moves', numeric: true }],
        funnel.transitions.map((t) => [badge(t.from), badge(t.to), fmtInt(t.count)]),
      )
    : empty('No stage change yet.');
  return card(
    'Sales handoffs',
    { id: 'sla' },
    facts([
      ['Handed off', fmtInt(sla.handoffs)],
      ['Answered', fmtInt(sla.answered)],
      ['Answered in time', fmtInt(sla.answered_in_time)],
      ['Overdue now', sla.overdue ? badge(`${fmtInt(sla.overdue)} overdue`, 'red') : '0'],
      ['SLA compliance', sla.compliance === null ? '–' : `${(100 * sla.compliance).toFixed(0)}%`],
    ]),
    el('h3', null, 'Stage changes'),
    transitions,
  );
}

// ——— steps ———

/** What the campaign's text probably gets wrong (a misspelt event type, a stage no score reaches), as `nurture validate` lists it. */
function warningsCard(warnings) {
  return card(
    'Warnings',
    { id: 'campaign-warnings' },
    el('p', { class: 'hint' }, 'The campaign runs, but these parts probably do not do what was meant.'),
    el(
      'ul',
      { class: 'warnings' },
      warnings.map((w) =>
        el(
          'li',
          { 'data-path': w.path },
          el('code', null, w.line ? `${w.path} (line ${w.line})` : w.path),
          ` ${w.message}`,
          w.suggestion ? el('span', { class: 'suggestion' }, ` — did you mean `, el('code', null, w.suggestion), '?') : null,
        ),
      ),
    ),
  );
}

function stepsCard(steps) {
  if (!steps.length) return card('Emails per step', { id: 'steps' }, empty('No email sent yet.'));
  const rows = steps.map((s) => ({
    props: { 'data-step': s.step ?? '', 'data-template': s.template },
    cells: [
      s.step ? el('code', null, s.step) : el('span', { class: 'muted' }, 'not a step (notice)'),
      s.template,
      fmtInt(s.sent),
      fmtInt(s.opened),
      fmtInt(s.clicked),
      fmtInt(s.human_opened),
      fmtInt(s.human_clicked),
      pct(s.human_opened, s.sent),
      pct(s.human_clicked, s.sent),
    ],
  }));
  return card(
    'Emails per step',
    { id: 'steps' },
    el('p', { class: 'hint' }, 'Rates count people only: machine opens (privacy proxies) and scanner clicks are left out.'),
    table(
      [
        { label: 'Step' },
        { label: 'Template' },
        { label: 'Sent', numeric: true },
        { label: 'Opened', numeric: true },
        { label: 'Clicked', numeric: true },
        { label: 'Human opens', numeric: true },
        { label: 'Human clicks', numeric: true },
        { label: 'Open rate', numeric: true },
        { label: 'Click rate', numeric: true },
      ],
      rows,
    ),
  );
}

// ——— A/B tests ———

function abCard(stats, settings) {
  const keys = [...new Set([...stats.variants.map((v) => v.ab_test), ...stats.ab_tests.map((t) => t.test_key)])].sort();
  const rule = settings
    ? el('p', { class: 'hint' }, `A winner is declared on human ${settings.metric} once every variant has ${fmtInt(settings.minSample)} sends and the difference is significant at ${Math.round(settings.confidence * 100)}% confidence.`)
    : null;
  if (!keys.length) return card('A/B tests', { id: 'ab-tests' }, rule, empty('No A/B test has sent an email yet.'));
  return card(
    'A/B tests',
    { id: 'ab-tests' },
    rule,
    keys.map((key) => {
      const verdict = stats.ab_tests.find((t) => t.test_key === key);
      const variants = stats.variants.filter((v) => v.ab_test === key);
      return abTest(key, variants, verdict);
    }),
  );
}

function abTest(key, variants, verdict) {
  const winner = verdict?.winner ?? null;
  const rows = variants.map((v) => ({
    props: { 'data-variant': v.variant, class: v.variant === winner ? 'winner' : null },
    cells: [
      el('strong', null, v.variant),
      fmtInt(v.sent),
      fmtInt(v.human_opened),
      fmtInt(v.human_clicked),
      pct(v.human_opened, v.sent),
      pct(v.human_clicked, v.sent),
      v.variant === winner ? badge('winner', 'green') : '',
    ],
  }));
  const decidedOn = verdict?.decided_on
    ? [
        el('h4', null, 'Figures the verdict was decided on'),
        table(
          [{ label: 'Variant' }, { label: 'Sends', numeric: true }, { label: 'Human opens', numeric: true }, { label: 'Human clicks', numeric: true }, { label: 'Open rate', numeric: true }, { label: 'Click rate', numeric: true }],
          verdict.decided_on.map((v) => [v.variant, fmtInt(v.sends), fmtInt(v.opens), fmtInt(v.clicks), pct(v.opens, v.sends), pct(v.clicks, v.sends)]),
        ),
      ]
    : [];
  return el(
    'div',
    { class: 'ab-test', 'data-test': key },
    el(
      'div',
      { class: 'ab-head' },
      el('code', null, key),
      winner ? badge(`winner: ${winner}`, 'green') : badge('undecided', 'grey'),
      verdict?.decided_at
        ? el('span', { class: 'muted' }, `decided ${fmtDate(verdict.decided_at)}${verdict.p_value === null ? '' : `, p = ${verdict.p_value.toFixed(4)}`}${verdict.campaign_version ? `, version ${verdict.campaign_version}` : ''}`)
        : null,
    ),
    variants.length
      ? table(
          [{ label: 'Variant' }, { label: 'Sent', numeric: true }, { label: 'Human opens', numeric: true }, { label: 'Human clicks', numeric: true }, { label: 'Open rate', numeric: true }, { label: 'Click rate', numeric: true }, { label: '' }],
          rows,
        )
      : empty('No email of this test sent yet.'),
    decidedOn,
  );
}

// ——— simulation ———

function simulationCard(api, campaign) {
  const output = el('div', { id: 'simulation-result', 'aria-live': 'polite' });
  const field = (name, label, value, max) =>
    el('label', null, label, el('input', { type: 'number', name, value, min: name === 'seed' ? 0 : 1, max, step: 1, required: true }));
  const button = el('button', { type: 'submit', class: 'primary' }, 'Simulate');
  const form = el(
    'form',
    { class: 'inline-form', id: 'simulate-form' },
    field('leads', 'Leads', 1000, 20000),
    field('days', 'Days', 90, 365),
    field('seed', 'Seed', 1, 4294967295),
    button,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const number = (name) => form.elements.namedItem(name).valueAsNumber;
    button.disabled = true;
    clear(output).append(el('p', { class: 'loading' }, 'Simulating…'));
    try {
      const report = await api.simulate(campaign.id, { leads: number('leads'), days: number('days'), seed: number('seed') });
      clear(output).append(simulationReport(report));
    } catch (error) {
      clear(output).append(el('p', { class: 'error-text' }, `The simulation failed: ${error.message}`));
    } finally {
      button.disabled = false;
    }
  });
  return card(
    'Simulation',
    { id: 'simulation' },
    el('p', { class: 'hint' }, "Runs the current version over synthetic leads in virtual time. Nothing is sent or stored; the same seed gives the same result. Needs a key with the write scope."),
    form,
    output,
  );
}

function simulationReport(report) {
  const f = report.funnel;
  const q = report.time_to_qualify_days;
  const bars = [
    { key: 'enrolled', label: 'Enrolled', value: f.enrolled, tone: 'blue', share: '100%' },
    { key: 'warm', label: 'Reached warm', value: f.reached_warm, tone: 'amber', share: pct(f.reached_warm, f.enrolled) },
    { key: 'hot', label: 'Reached hot', value: f.reached_hot, tone: 'red', share: pct(f.reached_hot, f.enrolled) },
    { key: 'handed_off', label: 'Handed off', value: f.handed_off, tone: 'green', share: pct(f.handed_off, f.enrolled) },
    { key: 'accepted', label: 'Accepted by sales', value: f.accepted, tone: 'green', share: pct(f.accepted, f.enrolled) },
    { key: 'converted', label: 'Converted', value: f.converted, tone: 'teal', share: pct(f.converted, f.enrolled) },
  ];
  const exits = Object.entries(f.exited).map(([reason, n]) => `${reason.replaceAll('_', ' ')}: ${fmtInt(n)}`).join(', ') || 'none';
  return el(
    'div',
    { class: 'stack' },
    el('p', { class: 'summary' }, `${fmtInt(report.leads)} synthetic leads over ${fmtInt(report.days)} days (seed ${report.seed}), campaign version ${report.campaign_version}.`),
    el(
      'div',
      { class: 'grid-2' },
      el('figure', { 'data-chart': 'simulated-funnel' }, barChart(bars, { title: 'Projected funnel' })),
      facts([
        ['Recycled by sales', fmtInt(f.recycled)],
        ['Unsubscribed', `${fmtInt(f.unsubscribed)} (${pct(f.unsubscribed, f.enrolled)})`],
        ['Exits', exits],
        ['Time to qualify', q.count ? `median ${q.p50.toFixed(1)} d (p10 ${q.p10.toFixed(1)}, p90 ${q.p90.toFixed(1)}), ${fmtInt(q.count)} leads` : 'no lead qualified'],
      ]),
    ),
    el('h3', null, 'Projected emails per step'),
    simulatedSteps(report.steps),
    el('h3', null, 'Projected emails sent per week'),
    el('figure', { 'data-chart': 'simulated-sends' }, barChart(weeklySends(report.sends_by_day), { title: 'Emails sent per week' })),
    el('h3', null, 'Projected A/B outcome'),
    report.ab_tests.length ? report.ab_tests.map(simulatedAbTest) : empty('The campaign has no A/B test.'),
  );
}

/** The days' sends summed per week, a bar each. */
function weeklySends(days) {
  const weeks = [];
  days.forEach((sends, day) => (weeks[Math.floor(day / 7)] = (weeks[Math.floor(day / 7)] ?? 0) + sends));
  return weeks.map((value, week) => ({ key: `week-${week + 1}`, label: `Week ${week + 1}`, value, tone: 'blue' }));
}

// Tracks in stage order, then any other group, then the trigger emails.
const GROUP_ORDER = ['tracks.cold', 'tracks.warm', 'tracks.hot'];
const groupOf = (path) => (path.startsWith('triggers') ? 'triggers' : path.split('[')[0]);
const groupRank = (group) => (GROUP_ORDER.includes(group) ? GROUP_ORDER.indexOf(group) : group === 'triggers' ? 99 : 50);

/** Steps grouped by track, each group followed by its total. */
function simulatedSteps(steps) {
  const groups = new Map();
  // A stable sort keeps the API's reading order within each group.
  for (const step of [...steps].sort((a, b) => groupRank(groupOf(a.step)) - groupRank(groupOf(b.step)))) {
    const group = groupOf(step.step);
    groups.set(group, [...(groups.get(group) ?? []), step]);
  }
  const row = (label, s, props) => ({
    props,
    cells: [label, fmtInt(s.sent), fmtInt(s.opened), pct(s.opened, s.sent), fmtInt(s.clicked), pct(s.clicked, s.sent), fmtInt(s.unsubscribed), notSentText(s.not_sent)],
  });
  const rows = [...groups].flatMap(([group, members]) => {
    const total = members.reduce(
      (sum, s) => ({ sent: sum.sent + s.sent, opened: sum.opened + s.opened, clicked: sum.clicked + s.clicked, unsubscribed: sum.unsubscribed + s.unsubscribed }),
      { sent: 0, opened: 0, clicked: 0, unsubscribed: 0 },
    );
    // A step by its label (else its path) and its subject, as the marketer wrote them.
    const name = (s) => el('span', null, el('code', null, s.label ?? s.step), s.subject ? el('span', { class: 'muted' }, ` “${s.subject}”`) : null);
    return [...members.map((s) => row(name(s), s, { 'data-step': s.step })), row(`${group} (all)`, total, { class: 'subtotal' })];
  });
  return table(
    [
      { label: 'Step' },
      { label: 'Sent', numeric: true },
      { label: 'Opened', numeric: true },
      { label: 'Open rate', numeric: true },
      { label: 'Clicked', numeric: true },
      { label: 'Click rate', numeric: true },
      { label: 'Unsubscribed', numeric: true },
      { label: 'Not sent when due' },
    ],
    rows,
    { id: 'simulated-steps' },
  );
}

/** "window 820, no consent 160": the times a step's email did not go when due, by reason (none for subtotals). */
function notSentText(notSent) {
  return notSent ? Object.entries(notSent).map(([reason, n]) => `${reason.replaceAll('_', ' ')} ${fmtInt(n)}`).join(', ') : '';
}

function simulatedAbTest(test) {
  return el(
    'div',
    { class: 'ab-test', 'data-test': test.test_key },
    el(
      'div',
      { class: 'ab-head' },
      el('code', null, test.test_key),
      test.winner ? badge(`winner: ${test.winner}`, 'green') : badge('no winner', 'grey'),
      el('span', { class: 'muted' }, test.winner ? `after ${fmtInt(test.decided_after_sends)} sends — ${test.reason}` : test.reason),
    ),
    el('p', { class: 'muted ab-plan' }, `Plan: ${test.plan}`),
    table(
      [{ label: 'Variant' }, { label: 'Sends', numeric: true }, { label: 'Opens', numeric: true }, { label: 'Open rate', numeric: true }, { label: 'Clicks', numeric: true }, { label: 'Click rate', numeric: true }],
      test.variants.map((v) => ({
        props: { 'data-variant': v.variant, class: v.variant === test.winner ? 'winner' : null },
        cells: [el('strong', null, v.variant), fmtInt(v.sends), fmtInt(v.opens), pct(v.opens, v.sends), fmtInt(v.clicks), pct(v.clicks, v.sends)],
      })),
    ),
  );
}
