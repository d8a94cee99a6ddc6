// The new-export form and its equivalent curl command.
import { api, datasets, ApiError } from './api.js';
import { h } from './dom.js';
import { requestEditor, curlCommand } from './request_editor.js';

export async function renderNewExport(main, ctx) {
  main.append(h('h1', {}, 'New export'));
  const items = await datasets();
  if (!items.length) {
    main.append(h('p', {}, 'This server has no dataset configured.'));
    return;
  }
  const form = h('form', { class: 'card', 'aria-label': 'New export', novalidate: true });
  const curl = h('pre', { class: 'curl', id: 'curl', tabindex: 0, 'aria-label': 'Equivalent curl command' });
  const status = h('div', { role: 'alert', class: 'form-status' });
  let editor = null;
  const update = () => {
    if (!editor) return;
    try {
      curl.textContent = curlCommand('POST', '/v1/exports', editor.getRequest());
      status.textContent = '';
      status.className = 'form-status';
    } catch (err) {
      curl.textContent = `# ${err.message}`;
    }
  };
  editor = requestEditor(form, items, null, update);
  const submit = h('button', { type: 'submit' }, 'Start export');
  form.append(status, h('div', { class: 'actions' }, submit));
  const copy = h('button', { type: 'button', class: 'secondary small', onclick: async () => {
    try {
      await navigator.clipboard.writeText(curl.textContent);
      ctx.flash('The curl command is on the clipboard.');
    } catch {
      ctx.flash('Copying is not allowed here; select the command instead.', 'error');
    }
  } }, 'Copy');
  main.append(h('div', { class: 'split' }, form,
    h('section', { class: 'card', 'aria-labelledby': 'curl-h' },
      h('div', { class: 'title-row' }, h('h2', { id: 'curl-h' }, 'The same with curl'), copy), curl)));
  update();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = editor.getRequest();
    } catch (err) {
      status.className = 'form-status msg error';
      status.textContent = err.message;
      return;
    }
    submit.disabled = true;
    try {
      const res = await api.post('/v1/exports', body);
      ctx.flash(`Export ${res.data.id} created.`, 'info', true);
      window.location.hash = `#/exports/${encodeURIComponent(res.data.id)}`;
    } catch (err) {
      status.className = 'form-status msg error';
      status.textContent = err instanceof ApiError ? err.describe() : err.message;
    } finally {
      submit.disabled = false;
    }
  });
}
