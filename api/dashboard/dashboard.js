// The dashboard's entry point: the API key, the navigation (hash routes) and the views.
//
// The key arrives in the URL fragment (#key=nk_…, which browsers never send to a server), is
// moved at once to sessionStorage (gone when the tab closes) and removed from the address bar
// and the history; without one, the page asks for it.
import { createApi } from './api.js';
import { campaignsView } from './campaigns.js';
import { card, clear, el } from './dom.js';
import { handoffsView } from './handoffs.js';
import { leadsView, leadView } from './leads.js';
import { salesView } from './sales.js';

const KEY_STORAGE = 'nurture.apiKey';
const KEY_FORMAT = /^nk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const session = document.getElementById('session');

function takeKeyFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get('key');
  if (key === null) return;
  sessionStorage.setItem(KEY_STORAGE, key.trim());
  history.replaceState(null, '', `${location.pathname}${location.search}#/campaigns`);
}

function forgetKey(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  render(message);
}

/** #/section/id?params → { section, id, params } */
function currentRoute() {
  const [path, search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  let parts;
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    parts = [];
  }
  return { section: parts[0] ?? 'campaigns', id: parts[1], params: new URLSearchParams(search) };
}

const VIEWS = {
  campaigns: campaignsView,
  leads: (context) => (context.route.id ? leadView(context) : leadsView(context)),
  handoffs: handoffsView,
  sales: salesView,
};

function keyForm(message) {
  const input = el('input', { type: 'password', name: 'key', id: 'key-input', autocomplete: 'off', spellcheck: 'false', placeholder: 'nk_…', required: true });
  const error = el('p', { class: 'error-text', id: 'key-error', role: 'alert' }, message ?? '');
  const form = el(
    'form',
    { id: 'key-form', class: 'key-form' },
    el('label', { for: 'key-input' }, 'API key'),
    input,
    el('button', { type: 'submit', class: 'primary' }, 'Open dashboard'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!KEY_FORMAT.test(key)) {
      error.textContent = 'That is not an API key: keys look like nk_<12 hex digits>_<43 characters>.';
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    if (!location.hash.startsWith('#/')) history.replaceState(null, '', `${location.pathname}${location.search}#/campaigns`);
    render();
  });
  return el(
    'div',
    { class: 'narrow' },
    card(
      'Open the dashboard',
      null,
      el('p', null, 'Enter an API key. A key with the read scope is enough to look around; launching and simulating need the write scope. Create one with ', el('code', null, 'nurture api-key create --name dashboard --scopes read'), '.'),
      form,
    ),
  );
}

// Each render numbers itself, so that a slow answer for a page already left is dropped.
let generation = 0;

async function render(message) {
  const mine = ++generation;
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (!key) {
    nav.hidden = true;
    session.hidden = true;
    clear(main).append(keyForm(message));
    document.title = 'Nurture dashboard';
    return;
  }
  nav.hidden = false;
  session.hidden = false;
  // Only the key's public prefix is shown.
  document.getElementById('key-label').textContent = `key ${key.split('_').slice(0, 2).join('_')}…`;

  const route = currentRoute();
  const section = VIEWS[route.section] ? route.section : 'campaigns';
  for (const link of nav.querySelectorAll('a')) link.classList.toggle('active', link.dataset.section === section);
  document.title = `${section[0].toUpperCase()}${section.slice(1)} · Nurture`;

  const api = createApi(key, { onUnauthorized: (error) => forgetKey(`The key was refused: ${error.message}`) });
  clear(main).append(el('p', { class: 'loading' }, 'Loading…'));
  try {
    const content = await VIEWS[section]({ api, route });
    if (mine === generation) clear(main).append(content);
  } catch (error) {
    if (mine !== generation || error.status === 401) return;
    clear(main).append(card('Something went wrong', { class: 'card error-card' }, el('p', { class: 'error-text' }, error.message)));
  }
}

document.getElementById('forget-key').addEventListener('click', () => forgetKey());
window.addEventListener('hashchange', () => render());
takeKeyFromFragment();
render();
