// The audit log (admins): every task's events, newest first, with the API's filters and cursor
// paging.
import { api, ApiError } from './api.js';
import { h, clear, field, select, timeEl, localInputToUtc, utcToLocalInput } from './dom.js';

const OUTCOMES = ['completed', 'interrupted', 'not_modified', 'denied', 'gone', 'not_found',
  'range_not_satisfiable', 'failed'];
const TEXT_FILTERS = [['actor', 'Actor'], ['task', 'Task id'], ['type', 'Types (comma-separated)'],
  ['remote', 'Client address'], ['file', 'File']];

export async function renderAudit(main, ctx, _params, query) {
  main.append(h('h1', {}, 'Audit log'));
  if (!ctx.admin) {
    main.append(h('p', {}, 'The audit log is for admin keys only.'));
    return;
  }
  const inputs = {};
  const form = h('form', { class: 'filters wide', 'aria-label': 'Filter the audit log' });
  for (const [name, label] of TEXT_FILTERS) {
    inputs[name] = h('input', { type: 'text', name, value: query.get(name) || '' });
    form.append(field(label, inputs[name]));
  }
  inputs.since = h('input', { type: 'datetime-local', step: 1, name: 'since', value: utcToLocalInput(query.get('since')) });
  inputs.until = h('input', { type: 'datetime-local', step: 1, name: 'until', value: utcToLocalInput(query.get('until')) });
  inputs.outcome = select([['', 'Any'], ...OUTCOMES], query.get('outcome') || '', { name: 'outcome' });
  form.append(field('Since (UTC)', inputs.since), field('Until (UTC)', inputs.until), field('Outcome', inputs.outcome),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply'),
      h('a', { class: 'button secondary', href: '#/audit' }, 'Reset')));
  main.append(form);

  const filters = () => {
    const q = {};
    for (const [name] of TEXT_FILTERS) if (inputs[name].value.trim()) q[name] = inputs[name].value.trim();
    if (inputs.since.value) q.since = localInputToUtc(inputs.since.value);
    if (inputs.until.value) q.until = localInputToUtc(inputs.until.value);
    if (inputs.outcome.value) q.outcome = inputs.outcome.value;
    return q;
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    window.location.hash = `#/audit?${new URLSearchParams(filters())}`;
  });

  const q = filters();
  const cursor = query.get('cursor') || '';
  const wrap = h('div', { class: 'table-wrap' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  main.append(wrap, pager);
  try {
    const res = await api.get('/v1/audit', { ...q, cursor, limit: 50 });
    const items = res.data.items || [];
    if (!items.length) wrap.append(h('p', { class: 'empty' }, 'No events match.'));
    else {
      const tbody = h('tbody');
      for (const e of items) {
        const cells = [
          ['#', e.seq], ['At', timeEl(e.at)],
          ['Task', h('a', { href: `#/exports/${encodeURIComponent(e.task_id)}` }, e.task_id)],
          ['Type', e.type], ['Change', e.from || e.to ? `${e.from || '·'} → ${e.to || '·'}` : ''],
          ['Actor', e.actor || ''], ['Client', e.remote || ''], ['File', e.file || ''],
          ['Outcome', e.outcome || ''], ['Detail', e.detail || ''],
        ];
        tbody.append(h('tr', {}, cells.map(([l, v]) => h('td', { 'data-label': l }, v))));
      }
      wrap.append(h('table', { class: 'audit' }, h('thead', {}, h('tr', {},
        ['#', 'At', 'Task', 'Type', 'Change', 'Actor', 'Client', 'File', 'Outcome', 'Detail']
          .map((c) => h('th', { scope: 'col' }, c)))), tbody));
    }
    if (cursor) pager.append(h('a', { class: 'button secondary', href: `#/audit?${new URLSearchParams(q)}` }, 'First page'));
    if (res.data.next_cursor) {
      pager.append(h('a', { class: 'button secondary',
        href: `#/audit?${new URLSearchParams({ ...q, cursor: res.data.next_cursor })}` }, 'Older →'));
    }
  } catch (err) {
    clear(wrap).append(h('p', { class: 'msg error', role: 'alert' }, err instanceof ApiError ? err.describe() : err.message));
  }
}
