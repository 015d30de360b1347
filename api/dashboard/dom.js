// Building the page. Every piece of data reaches the DOM as a text node or an attribute value,
// never as markup: no HTML string is ever parsed.

const SVG_NS = 'http://www.w3.org/2000/svg';

function setProps(node, props) {
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.setAttribute('class', value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
}

function appendChildren(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    // Strings and numbers become text nodes: whatever they contain is shown, not parsed.
    node.append(child instanceof Node ? child : String(child));
  }
}

/** An HTML element: el('td', { class: 'num' }, 'text', otherNode). */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  appendChildren(node, children);
  return node;
}

/** An SVG element, for the charts. */
export function svg(tag, props, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setProps(node, props);
  appendChildren(node, children);
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

// ——— formatting ———

const integer = new Intl.NumberFormat('en-US');

export const fmtInt = (value) => (value === null || value === undefined ? '–' : integer.format(value));

/** `part` as a share of `whole`, e.g. "12.5%"; a dash when there is nothing to divide by. */
export function pct(part, whole) {
  if (!whole) return '–';
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/** A date-time as "2 Mar 2026, 14:05" in the viewer's time zone; accepts ISO strings and ms. */
export function fmtDate(value) {
  if (value === null || value === undefined || value === '') return '–';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A duration in words: "3 h", "2 d 4 h", "25 min". */
export function fmtDuration(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

// ——— small components ———

const TONES = {
  active: 'green', paused: 'amber', draft: 'grey', archived: 'grey',
  cold: 'blue', warm: 'amber', hot: 'red', handed_off: 'green',
  pending: 'amber', accepted: 'green', converted: 'green', not_ready: 'grey', disqualified: 'red',
  running: 'green', exited: 'grey', completed: 'grey', qualified: 'green',
};

/** A coloured label; the tone follows the word unless given. */
export function badge(text, tone) {
  return el('span', { class: `badge badge-${tone ?? TONES[text] ?? 'grey'}` }, String(text).replaceAll('_', ' '));
}

/**
 * A table: columns are { label, numeric?, nowrap? }; rows are arrays of cells (text or nodes),
 * or { cells, props } to give the row attributes.
 */
export function table(columns, rows, props = {}) {
  const cellClass = (column) => [column?.numeric ? 'num' : '', column?.nowrap ? 'nowrap' : ''].join(' ').trim() || null;
  const head = el('thead', null, el('tr', null, columns.map((column) => el('th', { class: cellClass(column), scope: 'col' }, column.label))));
  const body = el(
    'tbody',
    null,
    rows.map((row) => {
      const cells = Array.isArray(row) ? row : row.cells;
      return el('tr', Array.isArray(row) ? null : row.props, cells.map((cell, i) => el('td', { class: cellClass(columns[i]) }, cell)));
    }),
  );
  return el('div', { class: 'table-wrap' }, el('table', { class: 'data', ...props }, head, body));
}

/** A titled section of the page. */
export function card(title, props, ...children) {
  return el('section', { class: 'card', ...props }, title ? el('h2', null, title) : null, ...children);
}

export function empty(text) {
  return el('p', { class: 'empty' }, text);
}

/** Label/value pairs as a definition list. */
export function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(Boolean).map(([label, value]) => [el('dt', null, label), el('dd', null, value)]));
}
