#!/usr/bin/env node
// Time to the dashboard's first useful render (the sign-in form) from loopback, in Debian's
// headless Chromium: a fresh browser context per load (nothing cached), then a reload of the same
// page (revalidated by ETag: 304s). Prints the median and every run; asserts nothing.
//
//   node bench/dashboard_render.mjs PATH/TO/exportd [RUNS]
//
// Uses tests/browser's playwright-core (tests/browser/run.sh installs it, or `npm ci` there).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = await import(path.join(HERE, '..', 'tests', 'browser', 'node_modules', 'playwright-core', 'index.mjs'));

const [binary, runsArg] = process.argv.slice(2);
if (!binary) {
  console.error('usage: dashboard_render.mjs EXPORTD_BINARY [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg || 7);

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exportd-render-'));
const env = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EXPORTD_')) env[k] = v;
Object.assign(env, { EXPORTD_DATA_DIR: dataDir, EXPORTD_LISTEN: `127.0.0.1:${port}`, EXPORTD_DEMO_ROWS: '1000' });
const server = spawn(binary, [], { env, stdio: 'ignore' });
const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 20000;
for (;;) {
  try {
    if ((await fetch(`${base}/readyz`)).ok) break;
  } catch {
    // not listening yet
  }
  if (Date.now() > deadline) throw new Error('exportd did not become ready');
  await new Promise((r) => setTimeout(r, 50));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
});
const cold = [];
const fcp = [];
const reload = [];
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('API key').waitFor();
    cold.push(await page.evaluate(() => performance.now()));
    fcp.push(await page.evaluate(() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || NaN));
    await page.reload();
    await page.getByLabel('API key').waitFor();
    reload.push(await page.evaluate(() => performance.now()));
    await context.close();
  }
} finally {
  await browser.close();
  server.kill('SIGTERM');
  fs.rmSync(dataDir, { recursive: true, force: true });
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const show = (name, a) => console.log(`${name}: median ${median(a).toFixed(0)} ms (${a.map((x) => x.toFixed(0)).join(', ')})`);
show('sign-in form, nothing cached', cold);
show('first contentful paint, nothing cached', fcp);
show('sign-in form, reload (304s)', reload);
console.log(`load average: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
