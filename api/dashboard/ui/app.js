// The dashboard's shell: sign-in, the hash router (#/exports, #/exports/ID, #/new,
// #/schedules, #/watermarks, #/audit), messages, the confirmation dialog and polite polling.
import { api, ApiError, getKey, setKey, forgetCaches, setUnauthorizedHandler } from './api.js';
import { h, clear, field } from './dom.js';
import { renderExports, renderTask } from './exports.js';
import { renderNewExport } from './new_export.js';
import { renderSchedules, renderScheduleForm } from './schedules.js';
import { renderWatermarks } from './watermarks.js';
import { renderAudit } from './audit.js';

const main = document.getElementById('main');
const flashEl = document.getElementById('flash');
const session = { admin: false, signedIn: false };
let cleanup = null;

// A message goes with the next navigation, unless it is meant for the page the action leads to
// (forNextPage: "created" shown on the new task's page).
let keepFlash = false;
function flash(message, kind = 'info', forNextPage = false) {
  keepFlash = forNextPage;
  clear(flashEl);
  if (!message) return;
  flashEl.append(h('p', { class: `msg ${kind}` }, message));
}

function confirmDialog(title, text, okLabel = 'Confirm') {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-yes').textContent = okLabel;
  dlg.returnValue = '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.showModal();
    document.getElementById('confirm-no').focus();
  });
}

// Runs step() now and again after the delay (ms) it returns, until it returns null or the view
// goes away. Waits while the tab is hidden; a failed step backs off (up to 30 s).
function makePoller() {
  const timers = new Set();
  let stopped = false;
  function every(step) {
    let failures = 0;
    let timer = null;
    const run = async () => {
      timer = null;
      if (stopped) return;
      if (document.hidden) {
        document.addEventListener('visibilitychange', run, { once: true });
        return;
      }
      let next = null;
      try {
        next = await step();
        failures = 0;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return;
        failures += 1;
        next = Math.min(30000, 2000 * 2 ** failures);
      }
      if (!stopped && next !== null && next !== undefined) {
        timer = setTimeout(run, next);
        timers.add(timer);
      }
    };
    run();
  }
  return {
    every,
    stop() {
      stopped = true;
      timers.forEach(clearTimeout);
    },
  };
}

function showShell(on) {
  document.getElementById('nav').hidden = !on;
  document.getElementById('who').hidden = !on;
  document.getElementById('nav-audit').hidden = !(on && session.admin);
  document.getElementById('who-role').textContent = on
    ? session.admin ? 'Signed in (admin: sees every task)' : 'Signed in (sees its own tasks)'
    : '';
}

function signOut(message, kind) {
  setKey('');
  session.signedIn = false;
  session.admin = false;
  forgetCaches();
  showShell(false);
  renderSignIn(message, kind);
}

// Checks a key with GET /v1/datasets (any role may), then whether it is an admin's: only admins
// may read the audit log.
async function signIn(key) {
  await api.get('/v1/datasets', undefined, { key, quiet401: true });
  let admin = false;
  try {
    await api.get('/v1/audit', { limit: 1 }, { key, quiet401: true });
    admin = true;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
  }
  setKey(key);
  session.signedIn = true;
  session.admin = admin;
  showShell(true);
}

function renderSignIn(message, kind = 'error') {
  if (cleanup) cleanup();
  cleanup = null;
  clear(main);
  const input = h('input', {
    type: 'password', name: 'api_key', autocomplete: 'off', required: true, spellcheck: 'false',
  });
  const status = h('p', { id: 'signin-status', role: 'alert', class: message ? `msg ${kind}` : '' },
    message || '');
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to exportd'),
    field('API key', input, 'Kept in this browser tab only (session storage); it ends when the tab is closed.'),
    status,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.className = '';
    status.textContent = 'Checking the key…';
    try {
      await signIn(input.value.trim());
      flash('');
      if (!window.location.hash || window.location.hash === '#/') window.location.hash = '#/exports';
      else route();
    } catch (err) {
      status.className = 'msg error';
      if (err instanceof ApiError && err.status === 401) {
        status.textContent = `That API key was not accepted (401 Unauthorized): ${err.message}`;
      } else {
        status.textContent = `Could not sign in: ${err.message}`;
      }
      input.focus();
    }
  });
  main.append(form);
  input.focus();
}

const routes = [
  [/^\/exports\/?$/, renderExports],
  [/^\/exports\/([^/]+)$/, renderTask],
  [/^\/new$/, renderNewExport],
  [/^\/schedules\/?$/, renderSchedules],
  [/^\/schedules\/new$/, renderScheduleForm],
  [/^\/schedules\/([^/]+)\/edit$/, renderScheduleForm],
  [/^\/watermarks\/?$/, renderWatermarks],
  [/^\/audit\/?$/, renderAudit],
];

function route() {
  if (!session.signedIn) return;
  const hash = window.location.hash.slice(1) || '/exports';
  const [path, queryString] = hash.split('?');
  const query = new URLSearchParams(queryString || '');
  if (cleanup) cleanup();
  if (keepFlash) keepFlash = false;
  else clear(flashEl);
  const poller = makePoller();
  const thisCleanup = () => poller.stop();
  cleanup = thisCleanup;
  clear(main);
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href').slice(1);
    if (path === target || (target !== '/new' && path.startsWith(`${target}/`) && path !== '/schedules/new')) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  const ctx = { admin: session.admin, flash, confirm: confirmDialog, every: poller.every, main };
  for (const [re, view] of routes) {
    const m = path.match(re);
    if (m) {
      Promise.resolve(view(main, ctx, m.slice(1).map(decodeURIComponent), query)).then((viewCleanup) => {
        // A view may hand back its own cleanup (timers of its own), run with the poller's.
        if (typeof viewCleanup !== 'function') return;
        if (cleanup === thisCleanup) {
          cleanup = () => {
            thisCleanup();
            viewCleanup();
          };
        } else {
          viewCleanup();
        }
      }).catch((err) => {
        if (err instanceof ApiError && err.status === 401) return;
        main.append(h('p', { class: 'msg error', role: 'alert' }, `Could not load this page: ${err.message}`));
      });
      main.focus({ preventScroll: true });
      return;
    }
  }
  main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/exports' }, 'Back to the exports')));
}

setUnauthorizedHandler((err) => {
  signOut(`The API key is no longer accepted (401 Unauthorized): ${err.message}. Sign in again.`);
});

document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.', 'info'));
window.addEventListener('hashchange', route);

async function start() {
  const key = getKey();
  if (!key) {
    renderSignIn();
    return;
  }
  try {
    await signIn(key);
    route();
  } catch (err) {
    signOut(err instanceof ApiError && err.status === 401
      ? 'The saved API key is no longer accepted (401 Unauthorized). Sign in again.'
      : `Could not reach exportd: ${err.message}`);
  }
}

start();
