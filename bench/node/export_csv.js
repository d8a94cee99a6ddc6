// The Node.js baseline: a streaming CSV exporter of one SQLite table, written the way a Node
// service would (better-sqlite3 row iterator -> JSON.parse of the document -> one CSV line per row
// -> fs write stream with backpressure). Same CSV rules as exportd: header row, CRLF, fields
// quoted when they contain , " CR or LF or are empty strings, NULL as an empty field; numbers as
// JavaScript's String(n).
//
//   node export_csv.js DB TABLE OUT [DOC_COLUMN FIELDS_FILE]
'use strict';
const fs = require('node:fs');
const Database = require('better-sqlite3');

const [db_path, table, out_path, doc_column, fields_file] = process.argv.slice(2);
if (!out_path) {
  console.error('usage: node export_csv.js DB TABLE OUT [DOC_COLUMN FIELDS_FILE]');
  process.exit(2);
}

const needsQuotes = /[",\r\n]/;
function csv(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object') v = JSON.stringify(v);
  if (v === '' ) return '""';
  if (!needsQuotes.test(v)) return v;
  return '"' + v.replace(/"/g, '""') + '"';
}

async function main() {
  const db = new Database(db_path, { readonly: true });
  const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table).map(r => r.name)
    .filter(n => n !== doc_column);
  const fields = fields_file
    ? fs.readFileSync(fields_file, 'utf8').split('\n').filter(s => s.length > 0) : [];
  const select = doc_column
    ? `SELECT ${columns.map(c => `"${c}"`).join(', ')}, "${doc_column}" FROM "${table}" ORDER BY id`
    : `SELECT ${columns.map(c => `"${c}"`).join(', ')} FROM "${table}" ORDER BY id`;
  const stmt = db.prepare(select).raw(true);

  const out = fs.createWriteStream(out_path, { highWaterMark: 1 << 20 });
  const write = (chunk) => out.write(chunk) ? null : new Promise(r => out.once('drain', r));
  let chunk = columns.concat(fields).map(csv).join(',') + '\r\n';
  const ncol = columns.length;
  let rows = 0;
  for (const row of stmt.iterate()) {
    const cells = new Array(ncol + fields.length);
    for (let i = 0; i < ncol; i++) cells[i] = csv(row[i]);
    if (doc_column) {
      const doc = row[ncol] == null ? {} : JSON.parse(row[ncol]);
      for (let f = 0; f < fields.length; f++) cells[ncol + f] = csv(doc[fields[f]]);
    }
    chunk += cells.join(',') + '\r\n';
    rows++;
    if (chunk.length >= 1 << 20) {
      const wait = write(chunk);
      chunk = '';
      if (wait) await wait;
    }
  }
  if (chunk.length > 0) write(chunk);
  await new Promise((resolve, reject) => out.end(err => (err ? reject(err) : resolve())));
  db.close();
  process.stderr.write(`node export_csv: ${rows} rows\n`);
}

main().catch(e => { console.error(e); process.exit(1); });
