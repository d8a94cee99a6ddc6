// The create-export request built from GET /v1/datasets: dataset, fields, a filter builder,
// format, compression, since/until, partitions, max rows per file, notify, tag. Used by the
// new-export form and by the schedule form (as its request template).
import {
  h, clear, field, select, uid, localInputToUtc, utcToLocalInput,
} from './dom.js';

// [label, API operator]; '=' is the plain {"field": value} form.
export const OPERATORS = [
  ['=', 'eq'], ['≠', 'ne'], ['<', 'lt'], ['≤', 'lte'], ['>', 'gt'], ['≥', 'gte'],
  ['in (comma-separated)', 'in'], ['starts with', 'prefix'], ['is null', 'null'],
  ['is not null', 'not-null'],
];
const NO_VALUE = new Set(['null', 'not-null']);

function typed(raw, type) {
  const s = raw.trim();
  if (type === 'integer' || type === 'real') {
    const n = Number(s);
    if (s === '' || !Number.isFinite(n)) throw new Error(`"${raw}" is not a number`);
    return n;
  }
  if (type === 'boolean') {
    if (s === 'true' || s === 'false') return s === 'true';
    throw new Error(`"${raw}" is not true or false`);
  }
  return raw;
}

// The API's filter object from rows [{field, op, value}] of fields with types.
export function buildFilter(rows, types) {
  const filter = {};
  for (const { field: name, op, value } of rows) {
    if (!name) continue;
    const type = types[name] || 'text';
    if (op === 'eq') {
      if (name in filter) throw new Error(`"${name}": "=" cannot be combined with another condition on the same field`);
      filter[name] = typed(value, type);
      continue;
    }
    if (name in filter && (typeof filter[name] !== 'object' || filter[name] === null)) {
      throw new Error(`"${name}": "=" cannot be combined with another condition on the same field`);
    }
    const cond = filter[name] || {};
    if (op === 'null') cond.null = true;
    else if (op === 'not-null') cond.null = false;
    else if (op === 'in') cond.in = value.split(',').map((v) => v.trim()).filter((v) => v !== '').map((v) => typed(v, type));
    else if (op === 'prefix') cond.prefix = value;
    else cond[op] = typed(value, type);
    filter[name] = cond;
  }
  return filter;
}

// The rows of a filter object (the inverse of buildFilter), for editing a saved request.
export function filterRows(filter) {
  const rows = [];
  for (const [name, v] of Object.entries(filter || {})) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [op, x] of Object.entries(v)) {
        if (op === 'null') rows.push({ field: name, op: x ? 'null' : 'not-null', value: '' });
        else rows.push({ field: name, op, value: Array.isArray(x) ? x.join(', ') : String(x) });
      }
    } else {
      rows.push({ field: name, op: 'eq', value: v === null ? '' : String(v) });
    }
  }
  return rows;
}

function csvList(s) {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

// Builds the editor into `container`; onChange() is called on every edit. Returns
// {getRequest(): object (throws Error on invalid input), setDataset(name)}.
export function requestEditor(container, datasetList, initial, onChange) {
  const init = initial || {};
  const byName = Object.fromEntries(datasetList.map((d) => [d.name, d]));
  const datasetSel = select(datasetList.map((d) => d.name),
    init.dataset && byName[init.dataset] ? init.dataset : (datasetList[0] || {}).name,
    { name: 'dataset', required: true });
  const description = h('p', { class: 'hint', id: uid('dsdesc') });
  datasetSel.setAttribute('aria-describedby', description.id);

  const fieldsBox = h('fieldset', { class: 'fields-pick' });
  const filterBox = h('fieldset', { class: 'filter' });
  const format = select(['csv', 'tsv', 'json', 'ndjson'], init.format || 'csv', { name: 'format' });
  const compression = select([['none', 'none'], ['gzip', 'gzip']], init.compression || 'none', { name: 'compression' });
  const since = h('input', { type: 'datetime-local', step: 1, name: 'since', value: utcToLocalInput(init.since) });
  const until = h('input', { type: 'datetime-local', step: 1, name: 'until', value: utcToLocalInput(init.until) });
  const timeBox = h('div', { class: 'grid2' }, field('Since (UTC, inclusive)', since), field('Until (UTC, exclusive)', until));
  const partitions = h('input', { type: 'text', name: 'partitions', value: (init.partitions || []).join(', ') });
  const partitionsField = field('Partitions', partitions, 'Comma-separated; empty: all.');
  const maxRows = h('input', { type: 'number', name: 'max_rows_per_file', min: 1, max: 80000, placeholder: '80000',
    value: init.max_rows_per_file || '' });
  const webhook = h('input', { type: 'url', name: 'webhook', placeholder: 'https://example.org/hook',
    value: (init.notify && init.notify.webhook) || '' });
  const email = h('input', { type: 'text', name: 'email', placeholder: 'a@example.org, b@example.org',
    value: ((init.notify && init.notify.email) || []).join(', ') });
  const tag = h('input', { type: 'text', name: 'tag', maxlength: 256, value: init.tag || '' });
  const incremental = h('input', { type: 'checkbox', name: 'incremental', checked: init.incremental, id: uid('inc') });
  const exportType = select([['instant', 'instant: until now'], ['hourly', 'hourly: until the start of the hour'],
    ['daily', 'daily: until the start of the day']], init.export_type || 'instant', { name: 'export_type' });
  // Members the form does not edit (record_ids, split_by, time_zone, ...) are kept as they were.
  const MANAGED = ['dataset', 'format', 'fields', 'filter', 'since', 'until', 'partitions', 'max_rows_per_file',
    'compression', 'notify', 'tag', 'incremental', 'export_type'];
  const kept = Object.fromEntries(Object.entries(init).filter(([k]) => !MANAGED.includes(k)));

  let rows = filterRows(init.filter);
  let picked = new Set(init.fields || []);
  let fieldOrder = init.fields ? [...init.fields] : [];

  const ds = () => byName[datasetSel.value];
  const types = () => Object.fromEntries((ds() ? ds().fields : []).map((f) => [f.name, f.type]));

  function drawFields() {
    clear(fieldsBox);
    const d = ds();
    fieldsBox.append(h('legend', {}, 'Fields'),
      h('p', { class: 'hint' }, 'None picked: every field, in the dataset\'s order. Picked fields are exported in the order picked.'));
    const search = h('input', { type: 'search', 'aria-label': 'Find a field', placeholder: 'Find a field' });
    const list = h('div', { class: 'checks', role: 'group', 'aria-label': 'Fields to export' });
    const none = h('button', { type: 'button', class: 'secondary small', onclick: () => {
      picked = new Set();
      fieldOrder = [];
      drawFields();
      onChange();
    } }, 'Clear');
    fieldsBox.append(h('div', { class: 'row' }, search, none), list);
    for (const f of d ? d.fields : []) {
      const cb = h('input', { type: 'checkbox', value: f.name, checked: picked.has(f.name), id: uid('fld') });
      cb.addEventListener('change', () => {
        if (cb.checked) {
          picked.add(f.name);
          fieldOrder.push(f.name);
        } else {
          picked.delete(f.name);
          fieldOrder = fieldOrder.filter((n) => n !== f.name);
        }
        onChange();
      });
      list.append(h('label', { class: 'check', for: cb.id, 'data-name': f.name.toLowerCase() }, cb, ` ${f.name}`,
        h('small', {}, ` ${f.type}`)));
    }
    search.addEventListener('input', () => {
      const q = search.value.toLowerCase();
      for (const l of list.children) l.hidden = q !== '' && !l.dataset.name.includes(q);
    });
  }

  function drawFilter() {
    clear(filterBox);
    filterBox.append(h('legend', {}, 'Filter'), h('p', { class: 'hint' }, 'All conditions must hold.'));
    const d = ds();
    const names = d ? d.fields.map((f) => f.name) : [];
    rows.forEach((r, i) => {
      const fsel = select(names, r.field || names[0], { 'aria-label': `Condition ${i + 1}: field`, name: 'filter-field' });
      const osel = select(OPERATORS.map(([label, op]) => [op, label]), r.op || 'eq',
        { 'aria-label': `Condition ${i + 1}: operator`, name: 'filter-op' });
      const val = h('input', { type: 'text', value: r.value || '', 'aria-label': `Condition ${i + 1}: value`, name: 'filter-value' });
      val.hidden = NO_VALUE.has(osel.value);
      r.field = fsel.value;
      r.op = osel.value;
      const sync = () => {
        r.field = fsel.value;
        r.op = osel.value;
        r.value = val.value;
        val.hidden = NO_VALUE.has(r.op);
        onChange();
      };
      fsel.addEventListener('change', sync);
      osel.addEventListener('change', sync);
      val.addEventListener('input', sync);
      const remove = h('button', { type: 'button', class: 'secondary small', 'aria-label': `Remove condition ${i + 1}`,
        onclick: () => {
          rows.splice(i, 1);
          drawFilter();
          onChange();
        } }, 'Remove');
      filterBox.append(h('div', { class: 'cond' }, fsel, osel, val, remove));
    });
    filterBox.append(h('button', { type: 'button', class: 'secondary small', onclick: () => {
      rows.push({ field: names[0], op: 'eq', value: '' });
      drawFilter();
      filterBox.querySelector('.cond:last-of-type select').focus();
      onChange();
    } }, 'Add condition'));
  }

  function drawDataset() {
    const d = ds();
    description.textContent = d ? d.description || '' : 'No dataset is configured.';
    timeBox.hidden = !(d && d.time_field);
    if (d && d.time_field) {
      timeBox.querySelector('label').textContent = `Since (on ${d.time_field}, UTC, inclusive)`;
      timeBox.querySelectorAll('label')[1].textContent = `Until (on ${d.time_field}, UTC, exclusive)`;
    }
    partitionsField.hidden = !(d && d.partition_field);
    const hint = partitionsField.querySelector('.hint');
    if (hint) hint.textContent = d && d.partition_field ? `Values of ${d.partition_field}, comma-separated; empty: all.` : '';
    drawFields();
    drawFilter();
  }

  datasetSel.addEventListener('change', () => {
    picked = new Set();
    fieldOrder = [];
    rows = [];
    drawDataset();
    onChange();
  });
  for (const el of [format, compression, since, until, partitions, maxRows, webhook, email, tag, incremental, exportType]) {
    el.addEventListener('input', onChange);
    el.addEventListener('change', onChange);
  }

  container.append(
    field('Dataset', datasetSel), description,
    fieldsBox, filterBox,
    h('div', { class: 'grid2' }, field('Format', format), field('Compression', compression)),
    timeBox,
    h('div', { class: 'grid2' },
      h('div', { class: 'field check' }, incremental,
        h('label', { for: incremental.id }, ' Incremental (from each partition\'s watermark)')),
      field('Until, when not given', exportType)),
    partitionsField,
    field('Max rows per file', maxRows, '1 to 80,000; empty: 80,000.'),
    h('fieldset', {}, h('legend', {}, 'Notify when it ends'),
      h('div', { class: 'grid2' }, field('Webhook URL', webhook), field('E-mail addresses', email, 'Comma-separated.'))),
    field('Tag', tag, 'Free text kept with the task.'));
  drawDataset();

  return {
    getRequest() {
      const d = ds();
      if (!d) throw new Error('no dataset');
      const req = { dataset: d.name, format: format.value };
      if (fieldOrder.length) req.fields = [...fieldOrder];
      const filter = buildFilter(rows, types());
      if (Object.keys(filter).length) req.filter = filter;
      if (!timeBox.hidden && since.value) req.since = localInputToUtc(since.value);
      if (!timeBox.hidden && until.value) req.until = localInputToUtc(until.value);
      if (!partitionsField.hidden && csvList(partitions.value).length) req.partitions = csvList(partitions.value);
      if (maxRows.value) req.max_rows_per_file = Number(maxRows.value);
      if (compression.value !== 'none') req.compression = compression.value;
      const notify = {};
      if (webhook.value.trim()) notify.webhook = webhook.value.trim();
      if (csvList(email.value).length) notify.email = csvList(email.value);
      if (Object.keys(notify).length) req.notify = notify;
      if (tag.value) req.tag = tag.value;
      if (incremental.checked) req.incremental = true;
      if (exportType.value !== 'instant') req.export_type = exportType.value;
      return { ...kept, ...req };
    },
  };
}

// The equivalent curl command, with the key left in an environment variable.
export function curlCommand(method, path, body) {
  const json = JSON.stringify(body);
  const quoted = `'${json.replace(/'/g, `'\\''`)}'`;
  return [
    `curl -X ${method} '${window.location.origin}${path}' \\`,
    '  -H "Authorization: Bearer $EXPORTD_TOKEN" \\',
    "  -H 'Content-Type: application/json' \\",
    `  -d ${quoted}`,
  ].join('\n');
}
