// Watermarks per dataset (where the next incremental export of each partition starts); admins
// may set (re-baseline) or remove one.
import { api, datasets, ApiError } from './api.js';
import { h, clear, field, select, timeEl, localInputToUtc, utcToLocalInput } from './dom.js';

export async function renderWatermarks(main, ctx, _params, query) {
  main.append(h('h1', {}, 'Watermarks'));
  const items = await datasets();
  if (!items.length) {
    main.append(h('p', {}, 'This server has no dataset configured.'));
    return;
  }
  const chosen = items.some((d) => d.name === query.get('dataset')) ? query.get('dataset') : items[0].name;
  const dsSel = select(items.map((d) => d.name), chosen, { name: 'dataset' });
  dsSel.addEventListener('change', () => {
    window.location.hash = `#/watermarks?dataset=${encodeURIComponent(dsSel.value)}`;
  });
  main.append(h('form', { class: 'filters', 'aria-label': 'Dataset' }, field('Dataset', dsSel)));
  const wrap = h('div', { class: 'table-wrap' });
  main.append(wrap);
  const base = `/v1/datasets/${encodeURIComponent(chosen)}/watermarks`;

  const change = async (fn, message) => {
    try {
      await fn();
      ctx.flash(message);
    } catch (err) {
      ctx.flash(err instanceof ApiError ? err.describe() : err.message, 'error');
    }
    await load();
  };

  const rebaseline = async (partition, value) => {
    const wm = localInputToUtc(value);
    if (!wm) {
      ctx.flash('Pick an instant first.', 'error');
      return;
    }
    if (!(await ctx.confirm(`Re-baseline ${partition}?`,
      `The next incremental export of ${chosen}/${partition} will start at ${wm}.`, 'Set watermark'))) return;
    change(() => api.put(`${base}/${encodeURIComponent(partition)}`, { watermark: wm }),
      `Watermark of ${partition} set to ${wm}.`);
  };

  async function load() {
    const res = await api.get(base);
    clear(wrap);
    const list = res.data.items || [];
    if (!list.length) wrap.append(h('p', { class: 'empty' }, 'No watermark yet: no incremental export of this dataset has succeeded.'));
    else {
      const tbody = h('tbody');
      for (const w of list) {
        const cells = [
          ['Partition', h('code', {}, w.partition)],
          ['Watermark', timeEl(w.watermark)],
          ['Moved by', w.task_id ? h('a', { href: `#/exports/${encodeURIComponent(w.task_id)}` }, w.task_id) : 'a person'],
          ['Updated', timeEl(w.updated_at)],
        ];
        if (ctx.admin) {
          const input = h('input', { type: 'datetime-local', step: 1, value: utcToLocalInput(w.watermark),
            'aria-label': `New watermark for ${w.partition} (UTC)` });
          cells.push(['Re-baseline', h('span', { class: 'actions' }, input,
            h('button', { type: 'button', class: 'small', onclick: () => rebaseline(w.partition, input.value) }, 'Set'),
            h('button', { type: 'button', class: 'danger small', onclick: async () => {
              if (!(await ctx.confirm(`Remove the watermark of ${w.partition}?`,
                'Its next incremental export starts from the request\'s since, or the default window.', 'Remove'))) return;
              change(() => api.del(`${base}/${encodeURIComponent(w.partition)}`), `Watermark of ${w.partition} removed.`);
            } }, 'Remove'))]);
        }
        tbody.append(h('tr', {}, cells.map(([l, v]) => h('td', { 'data-label': l }, v))));
      }
      const heads = ['Partition', 'Watermark', 'Moved by', 'Updated', ...(ctx.admin ? ['Re-baseline (UTC)'] : [])];
      wrap.append(h('table', {}, h('thead', {}, h('tr', {}, heads.map((c) => h('th', { scope: 'col' }, c)))), tbody));
    }
  }
  await load();

  if (ctx.admin) {
    const part = h('input', { type: 'text', name: 'partition', required: true });
    const when = h('input', { type: 'datetime-local', step: 1, name: 'watermark', required: true });
    const form = h('form', { class: 'card', 'aria-labelledby': 'wm-new-h' },
      h('h2', { id: 'wm-new-h' }, 'Set a partition\'s watermark'),
      h('div', { class: 'grid2' }, field('Partition', part), field('Watermark (UTC)', when)),
      h('button', { type: 'submit' }, 'Set watermark'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (part.value.trim()) rebaseline(part.value.trim(), when.value);
    });
    main.append(form);
  } else {
    main.append(h('p', { class: 'hint' }, 'Only admins may re-baseline a watermark.'));
  }
}
