// The exports table (filters, cursor paging, live progress) and the page of one task.
import { api, datasets, ApiError } from './api.js';
import {
  h, clear, field, select, statusBadge, progressBar, rowsText, etaText, fmtSeconds, fmtBytes,
  fmtNumber, timeEl, durationSeconds, TERMINAL, STATUSES,
} from './dom.js';

const PAGE_SIZE = 25;
const ACTIVE_POLL_MS = 2000; // while a task on the page is running
const IDLE_POLL_MS = 15000; // first page only, to see new tasks

function hashWith(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return `#/exports${s ? `?${s}` : ''}`;
}

export async function renderExports(main, ctx, _params, query) {
  const status = query.get('status') || '';
  const dataset = query.get('dataset') || '';
  const cursor = query.get('cursor') || '';
  // The cursors of the pages before this one, for "Previous" (cursor paging only goes forward).
  const back = (query.get('back') || '').split(',').filter(Boolean);

  main.append(h('div', { class: 'title-row' }, h('h1', {}, 'Exports'),
    h('a', { class: 'button', href: '#/new' }, 'New export')));

  const statusSel = select([['', 'Any status'], ...STATUSES], status, { name: 'status' });
  const datasetSel = select([['', 'Any dataset']], '', { name: 'dataset' });
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter exports' },
    field('Status', statusSel), field('Dataset', datasetSel));
  const go = () => {
    window.location.hash = hashWith({ status: statusSel.value, dataset: datasetSel.value });
  };
  statusSel.addEventListener('change', go);
  datasetSel.addEventListener('change', go);
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go();
  });
  main.append(filters);
  datasets().then((items) => {
    for (const d of items) datasetSel.append(h('option', { value: d.name }, d.name));
    datasetSel.value = dataset;
  }).catch(() => {});

  const tbody = h('tbody');
  const table = h('table', { class: 'tasks' },
    h('caption', { class: 'sr-only' }, 'Export tasks, newest first'),
    h('thead', {}, h('tr', {}, ['Created', 'Task', 'Dataset', 'Status', 'Progress', 'Rows', 'ETA',
      'Duration'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const empty = h('p', { class: 'empty', hidden: true }, 'No exports match.');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const updated = h('p', { class: 'updated', 'aria-live': 'off' });
  main.append(h('div', { class: 'table-wrap' }, table), empty, pager, updated);

  let pagerBuilt = false;
  ctx.every(async () => {
    const res = await api.get('/v1/exports', { status, dataset, cursor, limit: PAGE_SIZE });
    const { items } = res.data;
    clear(tbody);
    for (const t of items) tbody.append(taskRow(t));
    empty.hidden = items.length > 0;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    if (!pagerBuilt) {
      pagerBuilt = true;
      if (cursor) {
        const prev = back.slice(0, -1);
        pager.append(h('a', { class: 'button secondary', href: hashWith({
          status, dataset, cursor: back[back.length - 1] || '', back: prev.join(','),
        }) }, '← Previous'));
      }
      if (res.data.next_cursor) {
        pager.append(h('a', { class: 'button secondary', href: hashWith({
          status, dataset, cursor: res.data.next_cursor, back: [...back, cursor || ''].join(','),
        }) }, 'Next →'));
      }
    }
    const active = items.some((t) => !TERMINAL.has(t.status));
    if (active) return ACTIVE_POLL_MS;
    return cursor ? null : IDLE_POLL_MS;
  });
}

function taskRow(t) {
  const link = h('a', { href: `#/exports/${encodeURIComponent(t.id)}` }, t.id);
  const cells = [
    ['Created', timeEl(t.created_at)],
    ['Task', h('span', {}, link, t.tag ? h('small', { class: 'tag' }, t.tag) : null)],
    ['Dataset', t.dataset],
    ['Status', statusBadge(t.status)],
    ['Progress', progressBar(t)],
    ['Rows', rowsText(t)],
    ['ETA', etaText(t)],
    ['Duration', fmtSeconds(durationSeconds(t))],
  ];
  return h('tr', { 'data-id': t.id, 'data-status': t.status },
    cells.map(([label, v]) => h('td', { 'data-label': label }, v)));
}

function definition(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function renderTask(main, ctx, [id]) {
  const path = `/v1/exports/${encodeURIComponent(id)}`;
  const heading = h('h1', {}, 'Export ', h('code', {}, id));
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
  const summary = h('section', { 'aria-labelledby': 'sum-h' }, h('h2', { id: 'sum-h', class: 'sr-only' }, 'Summary'));
  const errorBox = h('section', { hidden: true, class: 'error-box', 'aria-labelledby': 'err-h' });
  const filesSec = h('section', { 'aria-labelledby': 'files-h' }, h('h2', { id: 'files-h' }, 'Files'));
  const requestSec = h('section', { 'aria-labelledby': 'req-h' }, h('h2', { id: 'req-h' }, 'Request'));
  const eventsSec = h('section', { 'aria-labelledby': 'ev-h' }, h('h2', { id: 'ev-h' }, 'Events'));
  main.append(h('p', {}, h('a', { href: '#/exports' }, '← All exports')), heading, actions, summary,
    errorBox, filesSec, requestSec, eventsSec);

  let filesShownFor = null;
  const act = async (verb, label, text) => {
    if (!(await ctx.confirm(`${label} export ${id}?`, text, label))) return;
    try {
      if (verb === 'delete') await api.del(path);
      else await api.post(`${path}/${verb}`);
      ctx.flash(`${label}: request sent for ${id}.`);
    } catch (err) {
      ctx.flash(`${label} failed: ${err.message} (${err.status || 'network'})`, 'error');
    }
    refresh();
  };

  const draw = (t, events) => {
    clear(actions);
    const canStop = ['Pending', 'Processing', 'Paused'].includes(t.status);
    if (['Pending', 'Processing'].includes(t.status) && !t.cancel_requested) {
      actions.append(h('button', { type: 'button', class: 'secondary', onclick: () => act('pause', 'Pause',
        'A running export pauses after the file it is writing; it keeps its place and spends no attempt.') }, 'Pause'));
    }
    if (t.status === 'Paused') {
      actions.append(h('button', { type: 'button', class: 'secondary', onclick: () => act('resume', 'Resume',
        'The export goes back to the queue in its original place.') }, 'Resume'));
    }
    if (canStop && !t.cancel_requested) {
      actions.append(h('button', { type: 'button', class: 'danger', onclick: () => act('cancel', 'Cancel',
        'The export stops and its partial files are removed. This cannot be undone.') }, 'Cancel export'));
    }
    if (TERMINAL.has(t.status) && (t.files || []).length > 0) {
      actions.append(h('button', { type: 'button', class: 'danger', onclick: () => act('delete', 'Delete',
        'The files of this export are removed; its record stays. This cannot be undone.') }, 'Delete files'));
    }

    clear(summary).append(h('h2', { class: 'sr-only' }, 'Summary'), definition([
      ['Status', h('span', { id: 'task-status' }, statusBadge(t.status),
        t.cancel_requested && !TERMINAL.has(t.status) ? ' (cancel requested)' : '')],
      ['Dataset', t.dataset],
      ['Format', t.format + (t.request && t.request.compression === 'gzip' ? ' (gzip)' : '')],
      ['Progress', progressBar(t)],
      ['Rows', rowsText(t)],
      ['Bytes', fmtBytes(t.progress && t.progress.bytes)],
      ['ETA', etaText(t)],
      ['Duration', fmtSeconds(durationSeconds(t))],
      ['Attempts', `${t.attempts} of ${t.max_attempts}`],
      ['Created', timeEl(t.created_at)],
      ['Started', timeEl(t.started_at)],
      ['Finished', timeEl(t.finished_at)],
      ['Query hash', h('code', { class: 'hash' }, t.query_hash)],
      ['Tag', t.tag || '–'],
    ]));

    errorBox.hidden = !t.error;
    clear(errorBox);
    if (t.error) {
      errorBox.append(h('h2', { id: 'err-h' }, 'Error'), definition([
        ['Code', h('code', {}, t.error.code)],
        ['Message', t.error.message],
        ['Retryable', t.error.retryable ? 'yes' : 'no'],
      ]));
    }

    // Links are signed per answer: draw the files once per state, so that a link being clicked
    // is not replaced under the pointer.
    const filesKey = `${t.status}:${(t.files || []).length}:${t.links && t.links.manifest ? 1 : 0}`;
    if (filesShownFor !== filesKey) {
      filesShownFor = filesKey;
      drawFiles(filesSec, t);
    }

    clear(requestSec).append(h('h2', { id: 'req-h' }, 'Request'),
      h('pre', { class: 'json', tabindex: 0, 'aria-label': 'Canonical request (JSON)' },
        JSON.stringify(t.request, null, 2)));

    clear(eventsSec).append(h('h2', { id: 'ev-h' }, 'Events'));
    const ol = h('ol', { class: 'timeline' });
    for (const e of events) {
      ol.append(h('li', {}, timeEl(e.at), ' ', h('strong', {}, e.type),
        e.from || e.to ? ` ${e.from || '·'} → ${e.to || '·'}` : '',
        e.detail ? h('span', { class: 'detail' }, e.detail) : null));
    }
    eventsSec.append(events.length ? ol : h('p', {}, 'No events yet.'));
  };

  // The events are fetched again only when the task changed (a transition or a committed file
  // moves updated_at): a long export has many, and the page polls every few seconds.
  let events = [];
  let eventsOf = null;
  async function load() {
    const taskRes = await api.get(path);
    const t = taskRes.data;
    const version = `${t.updated_at}|${t.status}`;
    if (version !== eventsOf) {
      events = (await api.get(`${path}/events`)).data.items || [];
      eventsOf = version;
    }
    draw(t, events);
    const retryAfter = Number(taskRes.headers.get('Retry-After'));
    return { task: t, retryAfter };
  }

  function refresh() {
    return load().catch((err) => {
      if (!(err instanceof ApiError && err.status === 401)) ctx.flash(err.message, 'error');
    });
  }

  ctx.every(async () => {
    let loaded;
    try {
      loaded = await load();
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      // Another principal's task is 404 too: the API does not tell them apart.
      clear(actions);
      clear(summary).append(h('p', { class: 'msg error', role: 'alert' },
        `There is no export ${id} that this API key may see.`));
      return null;
    }
    const { task, retryAfter } = loaded;
    // Terminal: nothing changes any more.
    if (TERMINAL.has(task.status)) return null;
    // Polite: the server's Retry-After, but at least every 2 s for a live bar and never faster
    // than 1 s.
    const s = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 2) : 2;
    return Math.max(1, s) * 1000;
  });
}

function drawFiles(sec, t) {
  clear(sec).append(h('h2', { id: 'files-h' }, 'Files'));
  const files = t.files || [];
  if (!files.length) {
    sec.append(h('p', {}, t.status === 'Succeeded'
      ? 'The files were deleted.' : 'Files appear here when the export has Succeeded.'));
  } else {
    const tbody = h('tbody');
    for (const f of files) {
      tbody.append(h('tr', { 'data-file': f.name },
        h('td', { 'data-label': 'Name' }, h('code', {}, f.name)),
        h('td', { 'data-label': 'Rows' }, fmtNumber(f.rows)),
        h('td', { 'data-label': 'Size' }, fmtBytes(f.bytes)),
        h('td', { 'data-label': 'SHA-256' }, h('code', { class: 'hash sha256' }, f.sha256)),
        h('td', { 'data-label': 'Download' }, h('a', {
          class: 'button', href: f.url, download: f.name.split('/').pop(), rel: 'noopener',
          'aria-label': `Download ${f.name}`,
        }, 'Download'))));
    }
    sec.append(h('div', { class: 'table-wrap' }, h('table', { class: 'files' },
      h('thead', {}, h('tr', {}, ['Name', 'Rows', 'Size', 'SHA-256', ''].map((c) => h('th', { scope: 'col' }, c)))),
      tbody)));
    const expires = files[0].expires_at;
    if (expires) sec.append(h('p', { class: 'hint' }, 'Links valid until ', timeEl(expires), '.'));
  }
  const manifest = t.links && t.links.manifest;
  if (manifest) {
    const box = h('details', { class: 'manifest' }, h('summary', {}, 'Manifest'));
    const link = h('a', { href: manifest, download: 'manifest.json' }, 'Download manifest.json');
    box.append(h('p', {}, link));
    // Shown inline only when the link is on this origin (local storage): the page may fetch
    // nothing else.
    if (new URL(manifest, window.location.href).origin === window.location.origin) {
      box.addEventListener('toggle', async () => {
        if (!box.open || box.querySelector('pre')) return;
        try {
          const res = await fetch(manifest, { cache: 'no-store', credentials: 'omit' });
          const text = await res.text();
          let shown = text;
          try {
            shown = JSON.stringify(JSON.parse(text), null, 2);
          } catch {
            // not JSON (an encrypted or compressed store): shown as is
          }
          box.append(h('pre', { class: 'json', tabindex: 0 }, res.ok ? shown : `HTTP ${res.status}`));
        } catch (err) {
          box.append(h('p', { class: 'msg error' }, err.message));
        }
      });
    }
    sec.append(box);
  }
}
