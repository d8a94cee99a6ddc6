// Small DOM and formatting helpers. Every text goes in through textContent (never HTML): the
// page's Content-Security-Policy forbids string-to-HTML sinks anyway.

// h('a', {href: '#/x', class: 'b'}, 'text', child, [more]) -> element. Attributes starting with
// "on" are event listeners; true/false toggle boolean attributes; null/undefined are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'value') {
      el.value = value;
    } else if (name === 'checked') {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let idCounter = 0;
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// A labelled control: returns {wrap, input}. `control` is an element; its id is set if missing.
export function field(label, control, hint) {
  if (!control.id) control.id = uid('f');
  const hintEl = hint ? h('small', { id: `${control.id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
  return wrap;
}

export function select(options, value, attrs) {
  const el = h('select', attrs || {});
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value: v }, text));
  }
  if (value !== undefined && value !== null) el.value = value;
  return el;
}

export const TERMINAL = new Set(['Succeeded', 'Failed', 'Cancelled']);
export const STATUSES = ['Pending', 'Processing', 'Paused', 'Succeeded', 'Failed', 'Cancelled'];

export function statusBadge(status) {
  return h('span', { class: `badge s-${String(status).toLowerCase()}` }, status);
}

export function fmtNumber(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function fmtSeconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  s = Math.max(0, Math.round(s));
  const hrs = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (hrs) return `${hrs} h ${min} min`;
  if (min) return `${min} min ${sec} s`;
  return `${sec} s`;
}

// "2026-12-07 13:57:35Z" from an RFC 3339 instant (UTC, the API's zone), or "–".
export function fmtTime(t) {
  if (!t) return '–';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function timeEl(t) {
  return t ? h('time', { datetime: t }, fmtTime(t)) : '–';
}

// Seconds a task has run: until it finished, else until now; null before it started.
export function durationSeconds(task) {
  if (!task.started_at) return null;
  const end = task.finished_at ? new Date(task.finished_at) : new Date();
  return (end - new Date(task.started_at)) / 1000;
}

export function progressBar(task) {
  const p = task.progress || {};
  const done = task.status === 'Succeeded';
  const pct = done ? 100 : p.percent;
  const label = `Progress of ${task.id}`;
  const bar = h('progress', { max: 100, 'aria-label': label });
  if (pct !== null && pct !== undefined) bar.value = Math.min(100, Math.max(0, pct));
  // Without a percent (rows_total unknown) the bar stays indeterminate while it runs.
  else if (TERMINAL.has(task.status)) bar.value = 0;
  const text = pct !== null && pct !== undefined ? `${Math.round(pct)}%` : '';
  return h('span', { class: 'progress' }, bar, h('span', { class: 'pct' }, text));
}

export function rowsText(task) {
  const p = task.progress || {};
  if (p.rows_total !== null && p.rows_total !== undefined) {
    return `${fmtNumber(p.rows)} / ${fmtNumber(p.rows_total)}`;
  }
  return fmtNumber(p.rows);
}

export function etaText(task) {
  if (TERMINAL.has(task.status) || task.status === 'Paused') return '–';
  const eta = task.progress && task.progress.eta_seconds;
  return eta === null || eta === undefined ? '–' : fmtSeconds(eta);
}

// A value for a POSIX shell, in single quotes.
export function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

// datetime-local value ("2024-01-31T10:00") read as UTC -> RFC 3339, or '' for empty.
export function localInputToUtc(v) {
  if (!v) return '';
  return `${v.length === 16 ? `${v}:00` : v}Z`;
}

export function utcToLocalInput(t) {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 19);
}
