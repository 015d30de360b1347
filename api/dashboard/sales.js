// Sales: the sales manager's page. The desk — each rep's availability, load and first-contact SLA
// record, the handoffs waiting for an owner and those overdue — and the team behind it: pools
// (manager, working calendar, holidays) and reps (what they cover, weight, capacity), with each
// rep's absences, active flag and personal link. The forms stay on the page; after a change the
// data parts are read again, and an error the API gives is shown next to the form that caused it.
import { badge, card, clear, el, empty, fmtDate, fmtDuration, fmtInt, table } from './dom.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_LABELS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const POOL_NAME = /^[A-Za-z0-9][\w.-]{0,99}$/;

/** Everything the page shows, read at once. */
async function load(api) {
  const [pools, reps, desk] = await Promise.all([api.salesPools(), api.salesReps(), api.salesDesk()]);
  return { pools: pools.pools, reps: reps.reps, desk };
}

/** "a, b ,c" → ['a', 'b', 'c'] */
const list = (text) => text.split(',').map((item) => item.trim()).filter(Boolean);

/** ISO weekday numbers as "Mon–Fri" or "Mon, Wed, Fri". */
function fmtDays(days) {
  if (!days?.length) return '–';
  const sorted = [...days].sort((a, b) => a - b);
  const consecutive = sorted.every((day, i) => i === 0 || day === sorted[i - 1] + 1);
  const name = (day) => DAY_LABELS[day - 1] ?? String(day);
  if (sorted.length > 2 && consecutive) return `${name(sorted[0])}–${name(sorted[sorted.length - 1])}`;
  return sorted.map(name).join(', ');
}

/** The API's reasons carry ISO instants ("out of office until 2026-03-02T15:00:00.000Z"): shown in the viewer's time, the words kept. */
export const readable = (reason) => String(reason).replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/g, (iso) => fmtDate(iso));

/** A date input's YYYY-MM-DD as the end of that day in the viewer's time zone (the next midnight). */
function endOfDay(value) {
  const [year, month, day] = value.split('-').map(Number);
  return new Date(year, month - 1, day + 1, 0, 0, 0, 0);
}

/** Today as YYYY-MM-DD in the viewer's time zone. */
function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}

const alertText = (id) => el('p', { class: 'error-text', role: 'alert', id });
const status = (id) => el('p', { class: 'summary form-status', role: 'status', id });

function field(label, input, hint) {
  return el('label', null, el('span', null, label, hint ? el('span', { class: 'muted' }, ` ${hint}`) : null), input);
}

export async function salesView({ api }) {
  let data = await load(api);

  const desk = el('div', { class: 'stack', id: 'sales-desk' });
  const poolList = el('div', { id: 'pool-list' });
  const pageError = alertText('sales-error');

  const poolForm = poolFormOf(api, () => data.pools, refresh);
  const repForm = repFormOf(api, refresh);

  /** Reads everything again and redraws the data parts (forms keep what was typed). */
  async function refresh() {
    try {
      data = await load(api);
      pageError.textContent = '';
    } catch (error) {
      if (error.status === 401) return;
      pageError.textContent = `The sales desk could not be read again: ${error.message}`;
      return;
    }
    draw();
  }

  function draw() {
    if (!desk.isConnected && desk.childElementCount > 0) return;
    const actions = { api, refresh };
    clear(desk).append(summaryOf(data), repsCard(data, actions), el('div', { class: 'grid-2' }, unassignedCard(data.desk.unassigned), overdueCard(data.desk.overdue)));
    clear(poolList).append(poolsTable(data, (pool) => poolForm.edit(pool)));
    repForm.setPools(data.pools);
  }
  draw();

  return el(
    'div',
    { class: 'stack', id: 'sales' },
    el('div', { class: 'page-title' }, el('h1', null, 'Sales desk'), el('span', { class: 'muted' }, 'who takes the leads, how they are doing, what waits')),
    pageError,
    desk,
    el(
      'div',
      { class: 'grid-2' },
      card('Pools', { id: 'sales-pools' }, el('p', { class: 'hint' }, 'A pool is a team with a manager and a working calendar; campaigns hand leads to a pool (handoff.assign.pool).'), poolList, poolForm.node),
      card('Add a rep', { id: 'sales-add-rep' }, repForm.node),
    ),
  );
}

// ——— the desk ———

function summaryOf(data) {
  const available = data.reps.filter((rep) => rep.available).length;
  return el(
    'p',
    { class: 'badges', id: 'sales-summary' },
    el('span', { class: 'count' }, badge('available', 'green'), ` ${fmtInt(available)} of ${fmtInt(data.reps.length)} reps`),
    el('span', { class: 'count' }, badge('waiting for an owner', data.desk.unassigned.length ? 'red' : 'grey'), ` ${fmtInt(data.desk.unassigned.length)}`),
    el('span', { class: 'count' }, badge('overdue', data.desk.overdue.length ? 'red' : 'grey'), ` ${fmtInt(data.desk.overdue.length)}`),
  );
}

function availabilityOf(rep) {
  if (rep.available) return el('span', { class: 'availability', 'data-available': 'true' }, badge('available', 'green'));
  const reason = rep.unavailable_reason ?? 'unavailable';
  const tone = reason === 'inactive' ? 'grey' : reason.startsWith('out of office') ? 'amber' : 'red';
  return el('span', { class: 'availability', 'data-available': 'false', 'data-reason': reason }, badge(readable(reason), tone));
}

function slaOf(load) {
  if (!load?.answered) return el('span', { class: 'muted', title: 'no answer in the last 30 days' }, '—');
  const rate = `${Math.round(100 * (load.answered_in_time / load.answered))}%`;
  const tone = load.answered_in_time === load.answered ? 'green' : load.answered_in_time / load.answered >= 0.8 ? 'amber' : 'red';
  return [`${fmtInt(load.answered_in_time)} / ${fmtInt(load.answered)} `, badge(rate, tone)];
}

function repsCard(data, actions) {
  if (!data.reps.length) return card('Reps', { id: 'sales-reps' }, empty('No rep yet: create a pool, then add its reps below.'));
  const loads = new Map(data.desk.reps.map((load) => [load.id, load]));
  const rows = data.reps.map((rep) => {
    const load = loads.get(rep.id);
    const open = load?.open ?? rep.open_handoffs ?? 0;
    const overdue = load?.overdue ?? 0;
    return {
      props: { 'data-rep-id': rep.id, 'data-rep-email': rep.email, class: rep.active ? null : 'inactive' },
      cells: [
        el('span', { class: 'owner' }, el('span', null, rep.name), el('br'), el('span', { class: 'muted owner-email' }, rep.email)),
        rep.pool,
        [availabilityOf(rep), ...absencesOf(rep)],
        el('span', { 'data-field': 'load', title: rep.capacity === null ? 'no capacity limit' : null }, `${fmtInt(open)} / ${rep.capacity === null ? 'no limit' : fmtInt(rep.capacity)}`),
        el('span', { 'data-field': 'overdue' }, overdue ? badge(fmtInt(overdue), 'red') : '0'),
        el('span', { 'data-field': 'sla' }, slaOf(load)),
        fmtInt(rep.weight),
        repActions(rep, actions),
      ],
    };
  });
  return card(
    'Reps',
    { id: 'sales-reps' },
    el('p', { class: 'hint' }, 'Load is open handoffs over capacity; SLA is first contacts answered in time over those answered, in the last 30 days.'),
    table(
      [{ label: 'Rep' }, { label: 'Pool', nowrap: true }, { label: 'Availability' }, { label: 'Load', numeric: true }, { label: 'Overdue', numeric: true }, { label: 'SLA (30 d)', nowrap: true }, { label: 'Weight', numeric: true }, { label: 'Actions' }],
      rows,
      { id: 'rep-table' },
    ),
  );
}

/** Absences still to come (the current one is in the badge already). */
function absencesOf(rep) {
  const now = Date.now();
  return (rep.absences ?? [])
    .filter((absence) => Date.parse(absence.starts_at) > now)
    .map((absence) => el('div', { class: 'muted absence' }, `away ${fmtDate(absence.starts_at)} – ${fmtDate(absence.ends_at)}${absence.note ? ` (${absence.note})` : ''}`));
}

function repActions(rep, { api, refresh }) {
  const error = el('p', { class: 'error-text', role: 'alert' });
  const output = el('div', { class: 'rep-output' });
  const who = rep.name || rep.email;

  /** Runs a change; on success the page is read again, on failure the row says why. */
  const act = (button, what, change) => async () => {
    error.textContent = '';
    button.disabled = true;
    try {
      await change();
      await refresh();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = `${what} failed: ${failure.message}`;
    } finally {
      button.disabled = false;
    }
  };

  // Away until…: a date; the absence runs from now to the end of that day.
  const date = el('input', { type: 'date', name: 'away_until', min: today(), required: true });
  const note = el('input', { type: 'text', name: 'note', maxlength: 500, placeholder: 'optional' });
  const mark = el('button', { type: 'submit', class: 'primary small' }, 'Mark away');
  const cancel = el('button', { type: 'button', class: 'secondary small' }, 'Cancel');
  const awayForm = el('form', { class: 'away-form', hidden: true, 'aria-label': `Away until, for ${who}` }, field('Away until', date), field('Note', note), mark, cancel);
  const away = el('button', { type: 'button', class: 'secondary small', 'aria-expanded': 'false' }, 'Away until…');
  away.addEventListener('click', () => {
    awayForm.hidden = !awayForm.hidden;
    away.setAttribute('aria-expanded', String(!awayForm.hidden));
    if (!awayForm.hidden) date.focus();
  });
  cancel.addEventListener('click', () => {
    awayForm.hidden = true;
    away.setAttribute('aria-expanded', 'false');
  });
  awayForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!date.value) {
      error.textContent = 'Choose the last day the rep is away.';
      return;
    }
    const body = { ends_at: endOfDay(date.value).toISOString() };
    if (note.value.trim()) body.note = note.value.trim();
    act(mark, `Marking ${who} away`, () => api.repAway(rep.id, body))();
  });

  const back = el('button', { type: 'button', class: 'secondary small' }, 'Back');
  back.addEventListener('click', act(back, `Marking ${who} back`, () => api.repBack(rep.id)));
  const isAway = (rep.absences ?? []).length > 0;

  const toggle = el('button', { type: 'button', class: 'secondary small' }, rep.active ? 'Deactivate' : 'Activate');
  toggle.addEventListener('click', act(toggle, rep.active ? `Deactivating ${who}` : `Activating ${who}`, () => api.changeRep(rep.id, { active: !rep.active })));

  const linkButton = el('button', { type: 'button', class: 'secondary small' }, 'Personal link');
  linkButton.addEventListener('click', async () => {
    error.textContent = '';
    linkButton.disabled = true;
    try {
      const { url, expires_at: expiresAt } = await api.repLink(rep.id);
      const input = el('input', { type: 'text', readonly: true, value: url, class: 'link-output', 'aria-label': `Personal link of ${who}`, spellcheck: 'false' });
      input.addEventListener('focus', () => input.select());
      const copy = el('button', { type: 'button', class: 'secondary small' }, 'Copy');
      const copied = el('span', { class: 'muted', role: 'status' });
      copy.addEventListener('click', async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(url);
          copied.textContent = 'copied';
        } catch {
          copied.textContent = 'selected: press Ctrl+C (⌘C) to copy';
        }
      });
      clear(output).append(el('div', { class: 'link-row' }, input, copy, copied), el('p', { class: 'hint' }, `Their open handoffs and answers, no login needed; valid until ${fmtDate(expiresAt)}. Send it to ${who} only.`));
      input.focus();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = `The personal link failed: ${failure.message}`;
    } finally {
      linkButton.disabled = false;
    }
  });

  return el('div', { class: 'row-actions' }, el('div', { class: 'buttons' }, away, isAway ? back : null, toggle, linkButton), awayForm, output, error);
}

function leadCell(handoff) {
  const text = handoff.lead_email ?? '(erased)';
  return handoff.lead_id ? el('a', { href: `#/leads/${encodeURIComponent(handoff.lead_id)}` }, text) : text;
}

function unassignedCard(unassigned) {
  const now = Date.now();
  return card(
    'Waiting for an owner',
    { id: 'sales-unassigned' },
    unassigned.length
      ? table(
          [{ label: 'Lead' }, { label: 'Pool', nowrap: true }, { label: 'Why' }, { label: 'Score', numeric: true }, { label: 'First contact due', nowrap: true }, { label: 'Waiting', nowrap: true }],
          unassigned.map((handoff) => ({
            props: { 'data-handoff-id': handoff.id },
            cells: [leadCell(handoff), handoff.pool ?? '–', handoff.unassigned_reason ?? '–', fmtInt(handoff.score), fmtDate(handoff.first_contact_due), fmtDuration(now - Date.parse(handoff.created_at))],
          })),
          { id: 'unassigned-table' },
        )
      : empty('Every handoff has an owner.'),
  );
}

function overdueCard(overdue) {
  const now = Date.now();
  return card(
    'Overdue first contact',
    { id: 'sales-overdue' },
    overdue.length
      ? table(
          [{ label: 'Lead' }, { label: 'Pool', nowrap: true }, { label: 'Owner' }, { label: 'Was due', nowrap: true }, { label: 'Late by', nowrap: true }],
          overdue.map((handoff) => ({
            props: { 'data-handoff-id': handoff.id },
            cells: [
              leadCell(handoff),
              handoff.pool ?? '–',
              handoff.owner ? el('span', { class: 'owner' }, el('span', null, handoff.owner.name), el('br'), el('span', { class: 'muted owner-email' }, handoff.owner.email)) : '–',
              fmtDate(handoff.first_contact_due),
              badge(fmtDuration(now - Date.parse(handoff.first_contact_due)), 'red'),
            ],
          })),
          { id: 'overdue-table' },
        )
      : empty('Nothing overdue.'),
  );
}

// ——— pools ———

function poolsTable(data, edit) {
  if (!data.pools.length) return empty('No pool yet.');
  const members = (name) => data.reps.filter((rep) => rep.pool === name);
  return table(
    [{ label: 'Pool', nowrap: true }, { label: 'Manager' }, { label: 'Calendar' }, { label: 'Holidays' }, { label: 'Reps', numeric: true }, { label: '' }],
    data.pools.map((pool) => {
      const button = el('button', { type: 'button', class: 'secondary small', 'aria-label': `Change pool ${pool.name}` }, 'Change');
      button.addEventListener('click', () => edit(pool));
      const reps = members(pool.name);
      return {
        props: { 'data-pool': pool.name },
        cells: [
          el('strong', null, pool.name),
          el('span', { class: 'owner' }, el('span', null, pool.manager?.name ?? ''), pool.manager?.name ? el('br') : null, el('span', { class: 'muted owner-email' }, pool.manager?.email ?? '–')),
          `${fmtDays(pool.working_hours?.days)} ${pool.working_hours?.start ?? ''}–${pool.working_hours?.end ?? ''} ${pool.timezone}`,
          [pool.holidays ?? '–', pool.holiday_dates?.length ? el('span', { class: 'muted' }, ` + ${pool.holiday_dates.length} dates`) : null],
          `${fmtInt(reps.filter((rep) => rep.available).length)} / ${fmtInt(reps.length)}`,
          button,
        ],
      };
    }),
    { id: 'pool-table' },
  );
}

function timeZones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}

function viewerZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  } catch {
    return 'UTC';
  }
}

function poolFormOf(api, pools, refresh) {
  const input = (props) => el('input', { type: 'text', autocomplete: 'off', ...props });
  const name = input({ name: 'name', required: true, maxlength: 100, placeholder: 'inside-sales', spellcheck: 'false' });
  const managerEmail = input({ type: 'email', name: 'manager_email', required: true, maxlength: 320, placeholder: 'manager@acme.example' });
  const managerName = input({ name: 'manager_name', maxlength: 200 });
  const zones = el('datalist', { id: 'time-zones' }, timeZones().map((zone) => el('option', { value: zone })));
  const timezone = input({ name: 'timezone', list: 'time-zones', maxlength: 100, value: viewerZone(), spellcheck: 'false' });
  const days = DAYS.map((day, i) => el('input', { type: 'checkbox', name: 'days', value: day, checked: i < 5 }));
  const start = el('input', { type: 'time', name: 'start', value: '09:00', required: true });
  const end = el('input', { type: 'time', name: 'end', value: '18:00', required: true });
  const holidays = input({ name: 'holidays', maxlength: 10, placeholder: 'e.g. JP', class: 'short' });
  const holidayDates = input({ name: 'holiday_dates', placeholder: '2026-12-29, 2026-12-30' });
  const button = el('button', { type: 'submit', class: 'primary' }, 'Save pool');
  const error = alertText('pool-error');
  const done = status('pool-status');

  const form = el(
    'form',
    { class: 'team-form', id: 'pool-form', 'aria-label': 'Create or change a pool', novalidate: true },
    el('h3', null, 'Create or change a pool'),
    el('div', { class: 'form-grid' },
      field('Pool name', name),
      field('Manager email', managerEmail),
      field('Manager name', managerName),
      field('Time zone', timezone, '(IANA)'),
      zones,
    ),
    el('fieldset', { class: 'days' }, el('legend', null, 'Working days'), days.map((box, i) => el('label', { class: 'day' }, box, DAY_LABELS[i]))),
    el('div', { class: 'form-grid' },
      field('Day starts', start),
      field('Day ends', end),
      field('Holiday country', holidays, '(public holidays)'),
      field('Extra holidays', holidayDates, '(YYYY-MM-DD, comma-separated)'),
    ),
    el('div', { class: 'form-actions' }, button, done),
    error,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    done.textContent = '';
    const poolName = name.value.trim();
    if (!POOL_NAME.test(poolName)) {
      error.textContent = 'Pool name: letters, digits, dot, dash and underscore, starting with a letter or digit (at most 100).';
      name.focus();
      return;
    }
    if (!managerEmail.value.trim()) {
      error.textContent = 'Manager email: every pool needs a manager, who is told of handoffs nobody can take and of missed deadlines.';
      managerEmail.focus();
      return;
    }
    const body = {
      manager_email: managerEmail.value.trim(),
      timezone: timezone.value.trim() || 'UTC',
      working_hours: { days: days.filter((box) => box.checked).map((box) => box.value), start: start.value, end: end.value },
      holidays: holidays.value.trim() || null,
      holiday_dates: list(holidayDates.value),
    };
    if (managerName.value.trim()) body.manager_name = managerName.value.trim();
    const existed = pools().some((pool) => pool.name === poolName);
    button.disabled = true;
    try {
      await api.savePool(poolName, body);
      done.textContent = `Pool ${poolName} ${existed ? 'changed' : 'created'}.`;
      await refresh();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = `The pool was not saved: ${failure.message}`;
    } finally {
      button.disabled = false;
    }
  });

  /** Fills the form with a pool to change it. */
  function edit(pool) {
    name.value = pool.name;
    managerEmail.value = pool.manager?.email ?? '';
    managerName.value = pool.manager?.name ?? '';
    timezone.value = pool.timezone ?? 'UTC';
    const workDays = pool.working_hours?.days ?? [];
    days.forEach((box, i) => {
      box.checked = workDays.includes(i + 1);
    });
    start.value = pool.working_hours?.start ?? '09:00';
    end.value = pool.working_hours?.end ?? '18:00';
    holidays.value = pool.holidays ?? '';
    holidayDates.value = (pool.holiday_dates ?? []).join(', ');
    error.textContent = '';
    done.textContent = `Changing pool ${pool.name}.`;
    name.focus();
  }

  return { node: form, edit };
}

// ——— reps ———

function repFormOf(api, refresh) {
  const input = (props) => el('input', { type: 'text', autocomplete: 'off', ...props });
  const email = input({ type: 'email', name: 'email', required: true, maxlength: 320, placeholder: 'rep@acme.example' });
  const name = input({ name: 'name', required: true, maxlength: 200 });
  const pool = el('select', { name: 'pool', required: true });
  const territories = input({ name: 'territories', placeholder: 'kanto, kansai' });
  const products = input({ name: 'products', placeholder: 'crm' });
  const languages = input({ name: 'languages', placeholder: 'ja, en' });
  const weight = el('input', { type: 'number', name: 'weight', min: 1, max: 100, step: 1, value: 1 });
  const capacity = el('input', { type: 'number', name: 'capacity', min: 1, step: 1, placeholder: 'no limit' });
  const button = el('button', { type: 'submit', class: 'primary' }, 'Add rep');
  const error = alertText('rep-error');
  const done = status('rep-status');

  const form = el(
    'form',
    { class: 'team-form', id: 'rep-form', 'aria-label': 'Add a rep', novalidate: true },
    el('div', { class: 'form-grid' },
      field('Email', email),
      field('Name', name),
      field('Pool', pool),
      field('Territories', territories, '(comma-separated)'),
      field('Products', products, '(comma-separated)'),
      field('Languages', languages, '(comma-separated)'),
      field('Weight', weight, '(share of leads)'),
      field('Capacity', capacity, '(most open handoffs)'),
    ),
    el('div', { class: 'form-actions' }, button, done),
    error,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    done.textContent = '';
    const missing = [[email, 'Email'], [name, 'Name'], [pool, 'Pool']].find(([node]) => !node.value.trim());
    if (missing) {
      error.textContent = `${missing[1]}: required${missing[1] === 'Pool' ? ' (create a pool first)' : ''}.`;
      missing[0].focus();
      return;
    }
    const body = {
      email: email.value.trim(),
      name: name.value.trim(),
      pool: pool.value,
      territories: list(territories.value),
      products: list(products.value),
      languages: list(languages.value),
    };
    // A number field that does not hold a number is sent as typed, for the API to name it.
    const number = (node) => (Number.isNaN(node.valueAsNumber) ? node.value : node.valueAsNumber);
    if (weight.value !== '') body.weight = number(weight);
    if (capacity.value !== '') body.capacity = number(capacity);
    button.disabled = true;
    try {
      const rep = await api.addRep(body);
      done.textContent = `${rep.name} (${rep.email}) added to ${rep.pool}.`;
      for (const node of [email, name, territories, products, languages, capacity]) node.value = '';
      weight.value = '1';
      await refresh();
      email.focus();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = `The rep was not added: ${failure.message}`;
    } finally {
      button.disabled = false;
    }
  });

  /** The pool choices, keeping the one chosen. */
  function setPools(pools) {
    const chosen = pool.value;
    const options = pools.map((p) => el('option', { value: p.name, selected: p.name === chosen }, p.name));
    clear(pool).append(...(options.length ? options : [el('option', { value: '' }, 'create a pool first')]));
  }

  return { node: form, setPools };
}
