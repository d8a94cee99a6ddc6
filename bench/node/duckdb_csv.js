// The DuckDB baseline through @duckdb/node-api (the engine ships inside the npm package):
//   node duckdb_csv.js load DUCKDB_FILE TABLE CSV_IN [all_varchar]   build the table file (setup, not timed)
//   node duckdb_csv.js export DUCKDB_FILE TABLE CSV_OUT              COPY table TO CSV (timed by the driver)
// DuckDB cannot read SQLite here without its sqlite extension (a download), so the table is
// loaded from a CSV of the same data, as in issue 5 ("from a table already loaded into DuckDB").
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [mode, file, table, csv, varchar] = process.argv.slice(2);
  const instance = await DuckDBInstance.create(file);
  const con = await instance.connect();
  const q = (s) => "'" + s.replace(/'/g, "''") + "'";
  if (mode === 'load') {
    await con.run(`DROP TABLE IF EXISTS "${table}"`);
    const opts = varchar === 'all_varchar' ? ', all_varchar = true' : ', sample_size = -1';
    await con.run(`CREATE TABLE "${table}" AS SELECT * FROM read_csv(${q(csv)}, header = true${opts})`);
  } else if (mode === 'export') {
    const t0 = process.hrtime.bigint();
    await con.run(`COPY "${table}" TO ${q(csv)} (FORMAT csv, HEADER true)`);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stderr.write(`duckdb COPY: ${ms.toFixed(0)} ms\n`);
  } else {
    console.error('usage: see the header of duckdb_csv.js');
    process.exit(2);
  }
  con.closeSync?.();
}
main().catch(e => { console.error(e); process.exit(1); });
