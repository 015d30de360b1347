// Leads: search by address, and a lead's page — profile, stage and score with its breakdown,
// each enrolment's live state (current step, next wake-up) and the timeline.
import { badge, card, el, empty, facts, fmtDate, fmtDuration, fmtInt, table } from './dom.js';
import { readable } from './sales.js';

const leadLink = (lead) => el('a', { href: `#/leads/${encodeURIComponent(lead.id)}` }, lead.email ?? '(erased)');

const fullName = (attributes) => [attributes.first_name, attributes.last_name].filter((part) => typeof part === 'string').join(' ');

/** A value for display: text as it is, anything else as compact JSON. */
const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

/** An object's fields as "key: value, key: value". */
const fields = (object) => Object.entries(object ?? {}).map(([key, value]) => `${key}: ${show(value)}`).join(', ');

export async function leadsView({ api, route }) {
  const text = route.params.get('q') ?? '';
  const { leads } = await api.searchLeads(text.trim() || undefined);
  const input = el('input', { type: 'search', name: 'q', value: text, placeholder: 'Part of an address, e.g. @globex or aiko', 'aria-label': 'Search leads by email', maxlength: 254 });
  const form = el('form', { class: 'inline-form', id: 'lead-search', role: 'search' }, input, el('button', { type: 'submit', class: 'primary' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    location.hash = q ? `#/leads?q=${encodeURIComponent(q)}` : '#/leads';
  });
  const heading = text.trim() ? `Leads whose address contains “${text.trim()}”` : 'Newest leads';
  const results = leads.length
    ? table(
        [{ label: 'Email' }, { label: 'Name' }, { label: 'Company' }, { label: 'Role' }, { label: 'Created', nowrap: true }],
        leads.map((lead) => ({
          props: { 'data-lead-id': lead.id },
          cells: [leadLink(lead), fullName(lead.attributes), show(lead.attributes.company?.name ?? ''), show(lead.attributes.role ?? ''), fmtDate(lead.created_at)],
        })),
        { id: 'lead-results' },
      )
    : empty(text.trim() ? 'No lead has an address containing that text.' : 'No lead yet.');
  return card('Leads', { id: 'leads' }, form, el('h3', null, heading), results);
}

export async function leadView({ api, route }) {
  const [profile, timeline] = await Promise.all([api.lead(route.id), api.timeline(route.id)]);
  // The live state of each open enrolment, from its workflow; an ended one has none to ask.
  const states = await Promise.all(
    profile.enrolments.map((enrolment) =>
      enrolment.ended_at ? null : api.enrolment(enrolment.workflow_id).then((answer) => answer.state, (error) => ({ unavailable: error.message })),
    ),
  );
  const handoff = profile.latest_handoff;
  const lead = profile.lead;
  return el(
    'div',
    { class: 'stack', id: 'lead-page', 'data-lead-id': lead.id },
    el('a', { href: '#/leads', class: 'back' }, '← Leads'),
    el(
      'div',
      { class: 'page-title' },
      el('h1', null, lead.email ?? '(erased)'),
      profile.stage ? el('span', { id: 'lead-stage' }, badge(profile.stage)) : null,
      profile.suppressed ? badge(`suppressed: ${profile.suppressed}`, 'red') : null,
    ),
    el('div', { class: 'grid-2' }, profileCard(profile), scoreCard(profile)),
    enrolmentsCard(profile.enrolments, states),
    handoff ? handoffCard(handoff) : null,
    timelineCard(timeline),
  );
}

function profileCard(profile) {
  const lead = profile.lead;
  const consent = Object.entries(profile.consent);
  const attributes = Object.entries(lead.attributes);
  return card(
    'Profile',
    { id: 'lead-profile' },
    facts([
      ['Name', fullName(lead.attributes) || '–'],
      ['Email', lead.email ?? '(erased)'],
      ['External ID', lead.external_id ?? '–'],
      ['Time zone', lead.timezone ?? '–'],
      ['Created', fmtDate(lead.created_at)],
      ['Consent', consent.length ? consent.map(([purpose, granted]) => badge(`${purpose}: ${granted ? 'granted' : 'withdrawn'}`, granted ? 'green' : 'red')) : 'none recorded'],
      ['Mailable', profile.suppressed ? badge(`no: ${profile.suppressed}`, 'red') : badge('yes', 'green')],
    ]),
    el('h3', null, 'Attributes'),
    attributes.length ? table([{ label: 'Attribute' }, { label: 'Value' }], attributes.map(([name, value]) => [el('code', null, name), show(value)])) : empty('No attributes.'),
  );
}

function scoreCard(profile) {
  const items = profile.score_breakdown ?? [];
  return card(
    'Score',
    { id: 'lead-score' },
    el('p', { class: 'big-number' }, el('span', { class: 'score-value' }, profile.score === null ? '–' : fmtInt(profile.score)), profile.stage ? badge(profile.stage) : null),
    items.length
      ? table(
          [{ label: 'Why' }, { label: 'Points', numeric: true }],
          [
            ...items.map((item) => [item.label, signed(item.points)]),
            { props: { class: 'subtotal' }, cells: ['Total', fmtInt(profile.score)] },
          ],
          { id: 'score-breakdown' },
        )
      : empty('No breakdown: the lead has no running enrolment.'),
  );
}

const signed = (points) => (points > 0 ? `+${fmtInt(points)}` : fmtInt(points));

function enrolmentsCard(enrolments, states) {
  if (!enrolments.length) return card('Enrolments', { id: 'lead-enrolments' }, empty('Not enrolled in any campaign.'));
  const now = Date.now();
  const rows = enrolments.map((enrolment, i) => {
    const state = states[i];
    const live = state && !state.unavailable ? state : null;
    const wake = live?.nextWakeAt ? [fmtDate(live.nextWakeAt), el('span', { class: 'muted' }, live.nextWakeAt > now ? ` (in ${fmtDuration(live.nextWakeAt - now)})` : ' (due)')] : '–';
    return {
      props: { 'data-workflow-id': enrolment.workflow_id },
      cells: [
        el('a', { href: `#/campaigns/${encodeURIComponent(enrolment.campaign_id)}` }, enrolment.campaign_id),
        [badge(enrolment.status), live?.paused ? badge('paused') : null],
        badge(live?.stage ?? enrolment.stage),
        fmtInt(live?.score ?? enrolment.score),
        live?.currentStep ? el('code', null, live.currentStep) : '–',
        live?.waitingFor ?? (state?.unavailable ? el('span', { class: 'muted' }, 'state unavailable') : '–'),
        wake,
        fmtDate(enrolment.started_at),
      ],
    };
  });
  return card(
    'Enrolments',
    { id: 'lead-enrolments' },
    table(
      [{ label: 'Campaign' }, { label: 'Status' }, { label: 'Stage' }, { label: 'Score', numeric: true }, { label: 'Current step' }, { label: 'Waiting for' }, { label: 'Next wake-up' }, { label: 'Started', nowrap: true }],
      rows,
    ),
  );
}

function handoffCard(handoff) {
  return card(
    'Latest handoff',
    { id: 'lead-handoff' },
    facts([
      ['Status', badge(handoff.status)],
      ['Owner', handoff.owner_name ?? [badge('unassigned', 'red'), ' ', handoff.unassigned_reason ?? '']],
      ['Score at handoff', fmtInt(handoff.score)],
      ['Handed off', fmtDate(handoff.created_at)],
      ['First contact due', fmtDate(handoff.first_contact_due)],
      ['Answered', fmtDate(handoff.responded_at)],
    ]),
    handoff.routing_log?.length ? routingSection(handoff.routing_log) : null,
  );
}

const ROUTING_TONES = { assigned: 'green', reassigned: 'amber', waiting: 'red', kept: 'grey' };

/**
 * Why the handoff has its owner: the decision that gave it (or, while nobody has it, the latest),
 * the rule and group it came from, and every rep passed over with the reason; earlier decisions
 * (reassignments, waits) as a history.
 */
function routingSection(log) {
  const entries = log.filter((entry) => entry && typeof entry === 'object');
  if (!entries.length) return null;
  const latest = entries[entries.length - 1];
  const deciding = latest.outcome === 'kept' ? [...entries].reverse().find((entry) => entry.outcome === 'assigned' || entry.outcome === 'reassigned') ?? latest : latest;
  const skipped = Array.isArray(deciding.skipped) ? deciding.skipped : [];
  return el(
    'div',
    { class: 'routing', id: 'routing-log' },
    el('h3', null, deciding.owner ? 'Why this owner' : 'Why nobody owns it yet'),
    facts([
      ['Owner', deciding.owner ? [el('strong', { 'data-field': 'routing-owner' }, deciding.owner), ' ', badge(deciding.outcome ?? 'assigned', ROUTING_TONES[deciding.outcome] ?? 'grey')] : badge('waiting', 'red')],
      ['Why', el('span', { 'data-field': 'routing-why' }, deciding.why ?? '–')],
      ['Pool', [deciding.pool ?? '–', deciding.rule ? el('span', { class: 'muted' }, ` · ${deciding.rule}`) : null]],
      deciding.group ? ['Chosen among', deciding.group] : null,
      ['Decided', fmtDate(deciding.at)],
      [
        'Passed over',
        skipped.length
          ? el('ul', { class: 'skipped' }, skipped.map((item) => el('li', { 'data-rep': item.rep }, el('strong', null, item.rep), ` — ${readable(item.reason ?? '')}`)))
          : el('span', { class: 'muted' }, 'nobody'),
      ],
    ]),
    entries.length > 1
      ? [
          el('h4', null, 'Routing history'),
          table(
            [{ label: 'When', nowrap: true }, { label: 'Outcome' }, { label: 'Owner' }, { label: 'Why' }],
            entries.map((entry) => ({
              props: { 'data-outcome': entry.outcome },
              cells: [fmtDate(entry.at), badge(entry.outcome ?? '–', ROUTING_TONES[entry.outcome] ?? 'grey'), entry.owner ?? '–', entry.why ?? '–'],
            })),
            { id: 'routing-history' },
          ),
        ]
      : null,
  );
}

// ——— timeline ———

const KIND_TONES = { event: 'blue', email: 'teal', 'email.open': 'green', 'email.click': 'green', consent: 'grey', stage: 'amber', handoff: 'red' };

function timelineCard(timeline) {
  if (!timeline.items.length) return card('Timeline', { id: 'lead-timeline' }, empty('Nothing has happened yet.'));
  return card(
    'Timeline',
    { id: 'lead-timeline' },
    table(
      [{ label: 'When', nowrap: true }, { label: 'What', nowrap: true }, { label: 'Details' }],
      timeline.items.map((item) => ({
        props: { 'data-kind': item.kind },
        cells: [fmtDate(item.at), badge(item.kind, KIND_TONES[item.kind] ?? 'grey'), describe(item)],
      })),
    ),
    timeline.next_offset !== null ? el('p', { class: 'hint' }, 'Showing the newest 100 entries.') : null,
  );
}

/** One line saying what a timeline entry is about. */
function describe(item) {
  const d = item.data ?? {};
  const machine = d.machine ? badge('machine', 'grey') : null;
  switch (item.kind) {
    case 'event': {
      const details = fields(d.data);
      return [el('strong', null, d.type), details ? ` — ${details}` : '', machine ? [' ', machine] : null];
    }
    case 'email':
      return [el('strong', null, d.subject ?? d.template), ` (${d.template}${d.variant ? `, variant ${d.variant}` : ''}) `, badge(d.status, d.status === 'sent' ? 'green' : 'grey')];
    case 'email.open':
    case 'email.click':
      return [d.template, d.url ? ` — ${d.url}` : '', machine ? [' ', machine, d.machine_reason ? ` ${d.machine_reason}` : ''] : null];
    case 'consent':
      return `${d.purpose} ${d.granted ? 'granted' : 'withdrawn'} (${d.source})`;
    case 'stage':
      return [badge(d.from), ' → ', badge(d.to), ` at score ${fmtInt(d.score)} in ${d.campaign}`];
    case 'handoff':
      return [`Handed to sales at score ${fmtInt(d.score)} `, badge(d.status)];
    default:
      return fields(d);
  }
}
