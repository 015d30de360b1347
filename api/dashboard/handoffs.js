// Handoffs to sales: who owns each one, its answer, and whether the first contact is within the
// campaign's SLA (first_contact_due) — overdue when still unanswered after it.
import { badge, card, el, empty, fmtDate, fmtDuration, fmtInt, table } from './dom.js';

const STATUSES = ['pending', 'accepted', 'not_ready', 'disqualified', 'converted'];

/** [label, tone, detail] of the first-contact SLA at `now`. */
export function slaStatus(handoff, now) {
  const due = Date.parse(handoff.first_contact_due);
  if (handoff.responded_at) {
    return Date.parse(handoff.responded_at) <= due ? ['answered in time', 'green', null] : ['answered late', 'amber', null];
  }
  if (now > due) return ['overdue', 'red', `by ${fmtDuration(now - due)}`];
  return ['on time', 'green', `due in ${fmtDuration(due - now)}`];
}

export async function handoffsView({ api, route }) {
  const status = STATUSES.includes(route.params.get('status')) ? route.params.get('status') : undefined;
  const { handoffs } = await api.handoffs(status);
  const now = Date.now();
  const filter = el(
    'select',
    { name: 'status', 'aria-label': 'Filter by status' },
    el('option', { value: '' }, 'All statuses'),
    STATUSES.map((value) => el('option', { value, selected: value === status }, value.replaceAll('_', ' '))),
  );
  filter.addEventListener('change', () => {
    location.hash = filter.value ? `#/handoffs?status=${encodeURIComponent(filter.value)}` : '#/handoffs';
  });

  const slas = handoffs.map((handoff) => slaStatus(handoff, now));
  const count = (label) => slas.filter(([name]) => name === label).length;
  const summary = el(
    'p',
    { class: 'badges' },
    el('span', { class: 'count' }, badge('pending'), ` ${fmtInt(handoffs.filter((h) => h.status === 'pending').length)}`),
    el('span', { class: 'count' }, badge('overdue', 'red'), ` ${fmtInt(count('overdue'))}`),
    el('span', { class: 'count' }, badge('answered in time', 'green'), ` ${fmtInt(count('answered in time'))}`),
    el('span', { class: 'count' }, badge('answered late', 'amber'), ` ${fmtInt(count('answered late'))}`),
  );

  const rows = handoffs.map((handoff, i) => {
    const [label, tone, detail] = slas[i];
    return {
      props: { 'data-handoff-id': handoff.id },
      cells: [
        fmtDate(handoff.created_at),
        el('a', { href: `#/leads/${encodeURIComponent(handoff.lead_id)}` }, handoff.lead_email ?? '(erased)'),
        el('a', { href: `#/campaigns/${encodeURIComponent(handoff.campaign_id)}` }, handoff.campaign_id),
        handoff.owner
          ? el('span', { class: 'owner' }, el('span', null, handoff.owner.name), el('br'), el('span', { class: 'muted owner-email' }, handoff.owner.email))
          : el('span', { class: 'unassigned', title: handoff.unassigned_reason ?? '' }, badge('unassigned', 'red'), el('br'), el('span', { class: 'muted' }, handoff.unassigned_reason ?? handoff.pool ?? '')),
        badge(handoff.status),
        fmtDate(handoff.first_contact_due),
        el('span', { class: 'sla', 'data-sla': label }, badge(label, tone), detail ? [el('br'), el('span', { class: 'muted' }, detail)] : null),
        fmtInt(handoff.score),
      ],
    };
  });
  return card(
    'Handoffs',
    { id: 'handoffs' },
    el('div', { class: 'toolbar' }, filter, summary),
    handoffs.length
      ? table(
          [{ label: 'Handed off', nowrap: true }, { label: 'Lead' }, { label: 'Campaign' }, { label: 'Owner' }, { label: 'Status' }, { label: 'First contact due', nowrap: true }, { label: 'SLA' }, { label: 'Score', numeric: true }],
          rows,
          { id: 'handoff-table' },
        )
      : empty(status ? `No handoff is ${status.replaceAll('_', ' ')}.` : 'No lead has been handed to sales yet.'),
  );
}
