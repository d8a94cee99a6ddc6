// Schedules: the list (enable/disable, run now, delete) and the create/edit form with a preview
// of the next runs.
import { api, datasets, ApiError } from './api.js';
import { h, clear, field, select, timeEl } from './dom.js';
import { requestEditor, curlCommand } from './request_editor.js';

export async function renderSchedules(main, ctx) {
  main.append(h('div', { class: 'title-row' }, h('h1', {}, 'Schedules'),
    h('a', { class: 'button', href: '#/schedules/new' }, 'New schedule')));
  const wrap = h('div', { class: 'table-wrap' });
  main.append(wrap);

  async function load() {
    const res = await api.get('/v1/schedules');
    const items = res.data.items || [];
    clear(wrap);
    if (!items.length) {
      wrap.append(h('p', { class: 'empty' }, 'No schedules yet.'));
      return;
    }
    const tbody = h('tbody');
    for (const s of items) tbody.append(row(s));
    wrap.append(h('table', { class: 'schedules' },
      h('thead', {}, h('tr', {}, ['Name', 'Cron', 'Zone', 'Dataset', 'State', 'Next run', 'Last run', 'Actions']
        .map((c) => h('th', { scope: 'col' }, c)))), tbody));
  }

  const run = async (fn, okMessage, forNextPage = false) => {
    try {
      const r = await fn();
      if (okMessage) ctx.flash(okMessage(r), 'info', forNextPage);
    } catch (err) {
      ctx.flash(err instanceof ApiError ? err.describe() : err.message, 'error');
    }
    await load().catch(() => {});
  };

  function row(s) {
    const path = `/v1/schedules/${encodeURIComponent(s.id)}`;
    const toggle = h('button', { type: 'button', class: 'secondary small', onclick: () => run(
      () => api.patch(path, { enabled: !s.enabled }),
      () => `Schedule ${s.name} ${s.enabled ? 'disabled' : 'enabled'}.`) }, s.enabled ? 'Disable' : 'Enable');
    const runNow = h('button', { type: 'button', class: 'small', onclick: async () => {
      if (!(await ctx.confirm(`Run ${s.name} now?`, 'This creates an export task from the schedule\'s request at once.', 'Run now'))) return;
      run(() => api.post(`${path}/run`), (r) => {
        window.location.hash = `#/exports/${encodeURIComponent(r.data.id)}`;
        return `Schedule ${s.name} started export ${r.data.id}.`;
      }, true);
    } }, 'Run now');
    const del = h('button', { type: 'button', class: 'danger small', onclick: async () => {
      if (!(await ctx.confirm(`Delete schedule ${s.name}?`, 'It will not fire again; the exports it made stay.', 'Delete'))) return;
      run(() => api.del(path), () => `Schedule ${s.name} deleted.`);
    } }, 'Delete');
    const last = s.last_run
      ? h('span', {}, timeEl(s.last_run.at), ' ', s.last_run.task_id
        ? h('a', { href: `#/exports/${encodeURIComponent(s.last_run.task_id)}` }, 'task') : '')
      : '–';
    const cells = [
      ['Name', h('a', { href: `#/schedules/${encodeURIComponent(s.id)}/edit` }, s.name)],
      ['Cron', h('code', {}, s.cron)],
      ['Zone', s.time_zone],
      ['Dataset', (s.request && s.request.dataset) || '–'],
      ['State', s.enabled ? 'enabled' : 'disabled'],
      ['Next run', timeEl((s.next_runs || [])[0])],
      ['Last run', last],
      ['Actions', h('span', { class: 'actions' }, toggle, runNow, del)],
    ];
    return h('tr', { 'data-id': s.id }, cells.map(([l, v]) => h('td', { 'data-label': l }, v)));
  }

  await load();
}

export async function renderScheduleForm(main, ctx, [id]) {
  const editing = Boolean(id);
  const path = editing ? `/v1/schedules/${encodeURIComponent(id)}` : '/v1/schedules';
  main.append(h('p', {}, h('a', { href: '#/schedules' }, '← All schedules')),
    h('h1', {}, editing ? 'Edit schedule' : 'New schedule'));
  const [items, existing] = await Promise.all([datasets(),
    editing ? api.get(path).then((r) => r.data) : Promise.resolve(null)]);
  const s = existing || { name: '', cron: '0 2 * * *', time_zone: 'UTC', catch_up: 'latest', enabled: true, request: null };

  const form = h('form', { class: 'card', 'aria-label': editing ? 'Edit schedule' : 'New schedule', novalidate: true });
  const name = h('input', { type: 'text', name: 'name', required: true, value: s.name });
  const cron = h('input', { type: 'text', name: 'cron', required: true, value: s.cron, spellcheck: 'false' });
  const zone = h('input', { type: 'text', name: 'time_zone', value: s.time_zone, spellcheck: 'false' });
  const catchUp = select([['latest', 'latest: the most recent missed run once'], ['all', 'all: every missed run'],
    ['none', 'none']], s.catch_up, { name: 'catch_up' });
  const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: s.enabled, id: 'sch-enabled' });
  const previewList = h('ol', { class: 'preview', 'aria-live': 'polite', id: 'preview' });
  const curl = h('pre', { class: 'curl', tabindex: 0, 'aria-label': 'Equivalent curl command' });
  const status = h('div', { role: 'alert', class: 'form-status' });

  form.append(
    h('div', { class: 'grid2' }, field('Name', name), field('Cron (minute hour day month weekday)', cron, 'e.g. 0 2 * * * is 02:00 every day.')),
    h('div', { class: 'grid2' }, field('Time zone', zone, 'IANA name, e.g. Europe/Berlin.'), field('Catch up after downtime', catchUp)),
    h('div', { class: 'field check' }, enabled, h('label', { for: 'sch-enabled' }, ' Enabled')),
    h('section', { 'aria-labelledby': 'pv-h' }, h('h2', { id: 'pv-h' }, 'Next runs (UTC)'), previewList),
    h('h2', {}, 'Export request'));

  let timer = null;
  const body = () => ({
    name: name.value, cron: cron.value.trim(), time_zone: zone.value.trim() || 'UTC', catch_up: catchUp.value,
    enabled: enabled.checked, request: editor.getRequest(),
  });
  const update = () => {
    try {
      curl.textContent = curlCommand(editing ? 'PATCH' : 'POST', path, body());
    } catch (err) {
      curl.textContent = `# ${err.message}`;
    }
  };
  // Answers may arrive out of order: only the latest request's is shown, and the list says
  // which cron and zone it is for.
  let previewSeq = 0;
  const preview = async () => {
    previewSeq += 1;
    const seq = previewSeq;
    const asked = { cron: cron.value.trim(), time_zone: zone.value.trim() || 'UTC' };
    let items;
    try {
      const res = await api.post('/v1/schedules/preview', {
        ...asked, from: `${new Date().toISOString().slice(0, 19)}Z`, count: 5,
      });
      items = res.data.runs.map((t) => h('li', {}, timeEl(t)));
    } catch (err) {
      items = [h('li', { class: 'msg error' }, err instanceof ApiError ? err.describe() : err.message)];
    }
    if (seq !== previewSeq) return;
    clear(previewList).append(...items);
    previewList.dataset.for = `${asked.cron}|${asked.time_zone}`;
  };
  const schedulePreview = () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  };
  const editor = requestEditor(form, items, s.request, update);
  for (const el of [name, cron, zone, catchUp, enabled]) el.addEventListener('input', update);
  cron.addEventListener('input', schedulePreview);
  zone.addEventListener('input', schedulePreview);
  const submit = h('button', { type: 'submit' }, editing ? 'Save schedule' : 'Create schedule');
  form.append(status, h('div', { class: 'actions' }, submit));
  main.append(h('div', { class: 'split' }, form,
    h('section', { class: 'card', 'aria-labelledby': 'sc-curl-h' }, h('h2', { id: 'sc-curl-h' }, 'The same with curl'), curl)));
  update();
  preview();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let b;
    try {
      b = body();
    } catch (err) {
      status.className = 'form-status msg error';
      status.textContent = err.message;
      return;
    }
    submit.disabled = true;
    try {
      const res = editing ? await api.patch(path, b) : await api.post(path, b);
      ctx.flash(`Schedule ${res.data.name} saved.`, 'info', true);
      window.location.hash = '#/schedules';
    } catch (err) {
      status.className = 'form-status msg error';
      status.textContent = err instanceof ApiError ? err.describe() : err.message;
    } finally {
      submit.disabled = false;
    }
  });
  return () => clearTimeout(timer);
}
