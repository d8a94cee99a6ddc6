#!/usr/bin/env node
// The web dashboard, end to end: the real exportd binary on a free port with a fresh data dir
// (the demo dataset, slowed to 2,000 rows/s so that an export runs long enough to be cancelled),
// driven in Debian's headless Chromium through playwright-core.
//
//   node dashboard_test.mjs EXPORTD_BINARY ARTIFACT_DIR CHROMIUM
//
// Checks: the static files' headers and size budget; a wrong key gets the 401 message; sign-in;
// an export made through the form (a filter built in the filter builder, the curl command shown)
// reaches Succeeded; its file downloaded through the page has the task's sha256; a running export
// is cancelled through the confirmation dialog; filters of the table; a schedule created with its
// preview of the next runs; the watermarks and audit pages; no horizontal scrolling at phone
// width; screenshots at desktop and phone widths; no console error, no page error, no CSP
// violation anywhere (the one expected 401 of the wrong key aside).
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DASHBOARD_DIR = path.resolve(HERE, '..', '..', 'api', 'dashboard');
const KEY = 'browser-test-admin-key-0123456789abcdef';
const BUDGET_BYTES = 150 * 1024;
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

const [binary, artifacts, chromiumPath] = process.argv.slice(2);
if (!binary || !artifacts || !chromiumPath) {
  console.error('usage: dashboard_test.mjs EXPORTD_BINARY ARTIFACT_DIR CHROMIUM');
  process.exit(2);
}

const started = Date.now();
let step = 'start';
function log(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}
function section(name) {
  step = name;
  log(`== ${name}`);
}
function check(cond, msg) {
  if (!cond) throw new Error(`check failed (${step}): ${msg}`);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

async function startServer() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exportd-browser-'));
  const port = await freePort();
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EXPORTD_')) env[k] = v;
  Object.assign(env, {
    EXPORTD_DATA_DIR: dataDir,
    EXPORTD_LISTEN: `127.0.0.1:${port}`,
    EXPORTD_BOOTSTRAP_KEY: KEY,
    EXPORTD_DEMO_ROWS: '20000',
    EXPORTD_MAX_ROWS_PER_SECOND: '2000',
    EXPORTD_WORKERS: '2',
    EXPORTD_LOG_LEVEL: 'info',
  });
  const logPath = path.join(dataDir, 'server.log');
  const logFd = fs.openSync(logPath, 'w');
  const child = spawn(binary, [], { env, stdio: ['ignore', logFd, logFd] });
  const base = `http://127.0.0.1:${port}`;
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  await waitFor('exportd /readyz', async () => {
    if (exited) throw new Error(`exportd exited (${JSON.stringify(exited)}): ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
    const res = await fetch(`${base}/readyz`);
    return res.status === 200;
  }, 20000);
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!exited) child.kill('SIGKILL');
  };
  return { base, dataDir, logPath, env, stop };
}

async function apiGet(base, p) {
  const res = await fetch(`${base}${p}`, { headers: { Authorization: `Bearer ${KEY}` } });
  check(res.status === 200, `GET ${p}: ${res.status}`);
  return res.json();
}

// The static files: headers, ETag revalidation, size budget, and only this origin in the CSP.
async function checkStaticFiles(base) {
  section('static files');
  const index = await fetch(`${base}/`);
  check(index.status === 200, `GET / is ${index.status}`);
  check(index.headers.get('content-type') === 'text/html; charset=utf-8', `GET / Content-Type ${index.headers.get('content-type')}`);
  const csp = index.headers.get('content-security-policy') || '';
  for (const part of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
    check(csp.includes(part), `CSP lacks ${part}: ${csp}`);
  }
  check(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), `CSP allows unsafe code: ${csp}`);
  check(index.headers.get('cache-control') === 'no-cache', `GET / Cache-Control ${index.headers.get('cache-control')}`);
  const etag = index.headers.get('etag');
  check(/^"[0-9a-f]{16}"$/.test(etag || ''), `GET / ETag ${etag}`);
  const again = await fetch(`${base}/`, { headers: { 'If-None-Match': etag } });
  check(again.status === 304, `GET / with If-None-Match is ${again.status}`);

  const types = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  let total = Buffer.byteLength(await index.text());
  for (const name of fs.readdirSync(path.join(DASHBOARD_DIR, 'ui'))) {
    const res = await fetch(`${base}/ui/${name}`);
    check(res.status === 200, `GET /ui/${name} is ${res.status}`);
    check(res.headers.get('content-type') === types[path.extname(name)], `/ui/${name} Content-Type ${res.headers.get('content-type')}`);
    check(res.headers.get('x-content-type-options') === 'nosniff', `/ui/${name} without nosniff`);
    const body = Buffer.from(await res.arrayBuffer());
    check(body.equals(fs.readFileSync(path.join(DASHBOARD_DIR, 'ui', name))), `/ui/${name} differs from the source file`);
    total += body.length;
  }
  log(`dashboard: ${total} bytes (${(total / 1024).toFixed(1)} KB) uncompressed`);
  check(total < BUDGET_BYTES, `the dashboard is ${total} bytes, over the budget of ${BUDGET_BYTES}`);
  const missing = await fetch(`${base}/ui/nope.js`);
  check(missing.status === 404, `GET /ui/nope.js is ${missing.status}`);
  const post = await fetch(`${base}/`, { method: 'POST' });
  check(post.status === 405, `POST / is ${post.status}`);
}

// Controls on the page without an accessible name (a <label>, aria-label or aria-labelledby, or
// a button's own text): each is described by tag, type and name.
async function unlabelledControls(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      if (el.closest('[hidden]') || el.type === 'hidden') continue;
      const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
        || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim());
      if (!named) bad.push(`${el.tagName.toLowerCase()}[type=${el.type}][name=${el.name}]`);
    }
    return bad;
  });
}

async function checkLabels(page, where) {
  const bad = await unlabelledControls(page);
  check(bad.length === 0, `controls without a label on ${where}: ${bad.join(', ')}`);
}

async function main() {
  fs.rmSync(path.join(artifacts, 'exportd.log'), { force: true }); // of an earlier failed run
  const server = await startServer();
  log(`exportd at ${server.base}, data in ${server.dataDir}`);
  let browser;
  let ok = false;
  // Console errors are failures, except the one expected while a wrong key is tried.
  const consoleErrors = [];
  // A console message of an expected HTTP error (the browser logs every 4xx of fetch()).
  let allowStatus = null;
  try {
    await checkStaticFiles(server.base);

    section('launch chromium');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    page.on('console', (m) => {
      if (m.type() !== 'error' && m.type() !== 'warning') return;
      const text = m.text();
      if (allowStatus && allowStatus.test(text)) return;
      if (m.type() === 'error' || /Content.Security.Policy|Trusted Type/i.test(text)) consoleErrors.push(`${step}: ${text}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${step}: page error: ${e.message}`));

    section('wrong key: 401');
    const t0 = Date.now();
    await page.goto(`${server.base}/`);
    await page.getByLabel('API key').waitFor();
    // An upper bound of the first useful render: the time since the navigation began, read
    // once the form is there (a figure for the report, not an assert).
    const shownMs = await page.evaluate(() => performance.now());
    log(`sign-in form shown within ${Math.round(shownMs)} ms of navigation start (${Date.now() - t0} ms with the test's overhead)`);
    allowStatus = /status of 401/;
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-status').filter({ hasText: 'not accepted (401 Unauthorized)' }).waitFor();
    allowStatus = null;
    check(await page.evaluate(() => sessionStorage.length === 0 && localStorage.length === 0), 'a refused key was stored');

    section('sign in');
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Exports' }).waitFor();
    check(await page.evaluate((k) => sessionStorage.getItem('exportd.api_key') === k && localStorage.length === 0, KEY),
      'the key is not (only) in sessionStorage');
    check(await page.getByRole('link', { name: 'Audit log' }).isVisible(), 'an admin key does not see the audit log link');

    section('new export through the form');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New export' }).click();
    await page.getByLabel('Dataset', { exact: true }).selectOption('samples');
    for (const f of ['id', 'study', 'collected_at', 'rock_type']) {
      await page.getByRole('group', { name: 'Fields to export' }).locator(`input[type="checkbox"][value="${f}"]`).check();
    }
    await page.getByRole('button', { name: 'Add condition' }).click();
    await page.getByLabel('Condition 1: field').selectOption('study');
    await page.getByLabel('Condition 1: operator').selectOption('eq');
    await page.getByLabel('Condition 1: value').fill('fjord-sediments');
    await page.getByLabel('Max rows per file', { exact: true }).fill('1000');
    await page.getByLabel('Tag', { exact: true }).fill('from the browser test');
    const curl = await page.locator('#curl').textContent();
    check(curl.includes(`curl -X POST '${server.base}/v1/exports'`) && curl.includes('"filter":{"study":"fjord-sediments"}')
      && curl.includes('"fields":["id","study","collected_at","rock_type"]') && curl.includes('"max_rows_per_file":1000'),
      `curl command: ${curl}`);
    check(!curl.includes(KEY), 'the curl command shows the key');
    await page.screenshot({ path: path.join(artifacts, 'new-export-desktop.png'), fullPage: true });
    await checkLabels(page, 'the new-export form');
    await page.getByRole('button', { name: 'Start export' }).click();
    await page.waitForURL(/#\/exports\/[^/]+$/);
    const taskId = decodeURIComponent(page.url().split('#/exports/')[1]);
    log(`created ${taskId}`);

    section('watch it reach Succeeded');
    await page.locator('#task-status').filter({ hasText: 'Succeeded' }).waitFor({ timeout: 20000 });
    const task = await apiGet(server.base, `/v1/exports/${taskId}`);
    check(task.status === 'Succeeded' && task.files.length >= 2, `task ${JSON.stringify(task).slice(0, 300)}`);
    // The canonical request lists the filter's conditions.
    check(JSON.stringify(task.request.filter) === '[{"field":"study","op":"eq","value":"fjord-sediments"}]',
      `request filter ${JSON.stringify(task.request.filter)}`);
    check(JSON.stringify(task.request.fields) === '["id","study","collected_at","rock_type"]',
      `request fields ${JSON.stringify(task.request.fields)}`);
    await page.locator('.timeline li').filter({ hasText: 'succeed' }).waitFor();
    await page.screenshot({ path: path.join(artifacts, 'task-desktop.png'), fullPage: true });
    await checkLabels(page, 'the task page');

    section('download a file and compare its sha256');
    const first = task.files[0];
    const row = page.locator(`tr[data-file="${first.name}"]`);
    const shown = (await row.locator('.sha256').textContent()).trim();
    check(shown === first.sha256, `page shows sha256 ${shown}, the task ${first.sha256}`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('link', { name: `Download ${first.name}` }).click(),
    ]);
    const file = await download.path();
    const digest = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    check(digest === first.sha256, `downloaded ${download.suggestedFilename()} has sha256 ${digest}, the task says ${first.sha256}`);
    check(download.suggestedFilename() === first.name, `suggested file name ${download.suggestedFilename()}`);
    log(`downloaded ${first.name}: ${fs.statSync(file).size} bytes, sha256 matches`);

    section('cancel a running export');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New export' }).click();
    await page.getByLabel('Tag', { exact: true }).fill('to be cancelled');
    // Files of 2,000 rows (a second each): a pause takes effect when the current one is committed.
    await page.getByLabel('Max rows per file', { exact: true }).fill('2000');
    await page.getByRole('button', { name: 'Start export' }).click();
    await page.waitForURL((u) => /#\/exports\/[^/]+$/.test(u.hash) && !u.hash.includes(taskId));
    const slowId = decodeURIComponent(page.url().split('#/exports/')[1]);
    await page.locator('#task-status').filter({ hasText: 'Processing' }).waitFor({ timeout: 10000 });

    section('pause and resume it');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Pause' }).click();
    await page.locator('#task-status').filter({ hasText: 'Paused' }).waitFor({ timeout: 8000 });
    check(await page.getByRole('button', { name: 'Pause' }).count() === 0, 'a Paused task offers Pause');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resume' }).click();
    await page.locator('#task-status').filter({ hasText: 'Processing' }).waitFor({ timeout: 8000 });
    const events = await apiGet(server.base, `/v1/exports/${slowId}/events`);
    const types = events.items.map((e) => e.type);
    check(types.includes('pause') && types.includes('resume'), `events ${types.join(',')}`);

    section('live progress in the table');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    const pct = page.locator(`tr[data-id="${slowId}"] .pct`);
    const percentNow = async () => Number(((await pct.textContent()) || '').replace('%', '')) || 0;
    const firstPct = await waitFor('a percent above 0', async () => percentNow(), 10000);
    await waitFor('the percent to grow without a reload', async () => (await percentNow()) > firstPct, 8000);
    check(await page.locator(`tr[data-id="${slowId}"] [data-label="ETA"]`).textContent() !== '–', 'no ETA while running');
    log(`progress went from ${firstPct}% to ${await percentNow()}% in place`);
    await page.screenshot({ path: path.join(artifacts, 'exports-live-desktop.png'), clip: { x: 0, y: 0, width: 1280, height: 440 } });
    await page.getByRole('link', { name: slowId }).click();
    await page.locator('#task-status').filter({ hasText: 'Processing' }).waitFor();
    await page.getByRole('button', { name: 'Cancel export' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    check((await dialog.textContent()).includes('cannot be undone'), 'the confirmation does not warn');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#task-status').filter({ hasText: 'Cancelled' }).waitFor({ timeout: 8000 });
    const slow = await apiGet(server.base, `/v1/exports/${slowId}`);
    check(slow.status === 'Cancelled' && slow.files.length === 0, `cancelled task ${JSON.stringify(slow).slice(0, 300)}`);

    section('the exports table and its filters');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    const rows = page.locator('table.tasks tbody tr');
    await waitFor('two rows', async () => (await rows.count()) === 2, 5000);
    check(await rows.nth(0).getAttribute('data-id') === slowId, 'not newest first');
    await page.getByLabel('Status').selectOption('Succeeded');
    await page.waitForURL(/status=Succeeded/);
    await waitFor('one Succeeded row', async () => (await rows.count()) === 1
      && (await rows.nth(0).getAttribute('data-id')) === taskId, 5000);
    await page.screenshot({ path: path.join(artifacts, 'exports-desktop.png'), fullPage: true });
    await checkLabels(page, 'the exports table');
    await page.getByLabel('Status').selectOption('');
    await waitFor('two rows again', async () => (await rows.count()) === 2, 5000);
    await page.screenshot({ path: path.join(artifacts, 'exports-all-desktop.png') });

    section('a schedule with its preview');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('link', { name: 'New schedule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('nightly-fjords');
    await page.getByLabel(/^Cron/).fill('30 2 * * *');
    await page.getByLabel('Time zone').fill('Europe/Oslo');
    await page.locator('#preview[data-for="30 2 * * *|Europe/Oslo"]').waitFor();
    check(await page.locator('#preview li time').count() === 5, 'not five next runs');
    await checkLabels(page, 'the schedule form');
    const firstRun = await page.locator('#preview li time').first().getAttribute('datetime');
    check(/T0[01]:30:00(\.0+)?Z$/.test(firstRun), `02:30 in Oslo is 00:30 or 01:30 UTC, not ${firstRun}`);
    await page.getByRole('button', { name: 'Add condition' }).click();
    await page.getByLabel('Condition 1: field').selectOption('study');
    await page.getByLabel('Condition 1: value').fill('fjord-sediments');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.locator('table.schedules tbody tr').filter({ hasText: 'nightly-fjords' }).waitFor();
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.locator('table.schedules tbody tr').filter({ hasText: 'disabled' }).waitFor();
    const schedules = await apiGet(server.base, '/v1/schedules');
    check(schedules.items.length === 1 && schedules.items[0].enabled === false
      && schedules.items[0].time_zone === 'Europe/Oslo', `schedules ${JSON.stringify(schedules).slice(0, 300)}`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL((u) => /#\/exports\/[^/]+$/.test(u.hash));
    await page.getByText(/^Schedule nightly-fjords started export/).waitFor();
    await page.locator('#task-status').filter({ hasText: 'Succeeded' }).waitFor({ timeout: 20000 });
    const runId = decodeURIComponent(page.url().split('#/exports/')[1]);
    const run = await apiGet(server.base, `/v1/exports/${runId}`);
    check(run.schedule_id === schedules.items[0].id, `the run's schedule_id ${run.schedule_id}`);

    section('watermarks and audit pages');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Watermarks' }).click();
    await page.getByText('No watermark yet').waitFor();
    await page.getByLabel('Partition', { exact: true }).fill('fjord-sediments');
    await page.getByLabel('Watermark (UTC)').fill('2024-01-01T00:00:00');
    await page.getByRole('button', { name: 'Set watermark' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Set watermark' }).click();
    await page.locator('table tbody tr').filter({ hasText: 'fjord-sediments' }).filter({ hasText: '2024-01-01 00:00:00Z' }).waitFor();
    const wms = await apiGet(server.base, '/v1/datasets/samples/watermarks');
    check(wms.items.length === 1 && wms.items[0].partition === 'fjord-sediments'
      && wms.items[0].watermark.startsWith('2024-01-01T00:00:00'), `watermarks ${JSON.stringify(wms)}`);
    await checkLabels(page, 'the watermarks page');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await page.locator('table.audit tbody tr').filter({ hasText: 'download' }).first().waitFor();
    await checkLabels(page, 'the audit log');

    section('phone width');
    await page.setViewportSize(PHONE);
    await page.goto(`${server.base}/#/exports`);
    await waitFor('three rows', async () => (await rows.count()) === 3, 5000);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `the exports page scrolls sideways by ${overflow}px at phone width`);
    await page.screenshot({ path: path.join(artifacts, 'exports-phone.png'), fullPage: true });
    await page.goto(`${server.base}/#/exports/${taskId}`);
    await page.locator('#task-status').filter({ hasText: 'Succeeded' }).waitFor();
    const overflowTask = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflowTask <= 0, `the task page scrolls sideways by ${overflowTask}px at phone width`);
    await page.screenshot({ path: path.join(artifacts, 'task-phone.png'), fullPage: true });

    section('keyboard: sign out and back in without a mouse');
    await page.setViewportSize(DESKTOP);
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('API key').waitFor();
    check(await page.evaluate(() => sessionStorage.length === 0), 'sign-out left the key');
    await page.keyboard.type(KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Export / }).waitFor();

    section('a non-admin key sees only its own tasks');
    const keyRun = spawnSync(binary, ['keys', 'create', '--name', 'browser-exporter', '--role', 'exporter'],
      { env: server.env, encoding: 'utf8', timeout: 20000 });
    check(keyRun.status === 0, `keys create: ${keyRun.stderr}`);
    const exporterKey = keyRun.stdout.trim();
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Expected: the 403 of its audit-log probe, and the 404s of the admin's task, whose page the
    // tab is on when it signs in (and which the test opens again below).
    allowStatus = /status of 40[34]/;
    await page.getByLabel('API key').fill(exporterKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in (sees its own tasks)').waitFor();
    check(!(await page.getByRole('link', { name: 'Audit log' }).isVisible()), 'a non-admin sees the audit log link');
    await page.goto(`${server.base}/#/exports`);
    await page.getByText('No exports match.').waitFor();
    await page.goto(`${server.base}/#/exports/${taskId}`);
    await page.getByText(`There is no export ${taskId} that this API key may see.`).waitFor();

    section('the filter builder: every operator, typed values, and back');
    const built = await page.evaluate(async () => {
      const m = await import('/ui/request_editor.js');
      const types = { depth_m: 'real', id: 'integer', study: 'text', sample_mass_g: 'integer', site: 'text' };
      const rows = [
        { field: 'study', op: 'eq', value: 'fjord-sediments' },
        { field: 'depth_m', op: 'gte', value: '10.5' },
        { field: 'depth_m', op: 'lt', value: '2000' },
        { field: 'id', op: 'in', value: '1, 2,3' },
        { field: 'id', op: 'ne', value: '2' },
        { field: 'site', op: 'prefix', value: 'Mount' },
        { field: 'sample_mass_g', op: 'not-null', value: '' },
      ];
      const filter = m.buildFilter(rows, types);
      const again = m.buildFilter(m.filterRows(filter), types);
      let refused = '';
      try {
        m.buildFilter([{ field: 'id', op: 'gt', value: 'ten' }], types);
      } catch (err) {
        refused = err.message;
      }
      return { filter, again, refused };
    });
    const expected = { study: 'fjord-sediments', depth_m: { gte: 10.5, lt: 2000 }, id: { in: [1, 2, 3], ne: 2 },
      site: { prefix: 'Mount' }, sample_mass_g: { null: false } };
    check(JSON.stringify(built.filter) === JSON.stringify(expected), `built ${JSON.stringify(built.filter)}`);
    check(JSON.stringify(built.again) === JSON.stringify(expected), `round trip ${JSON.stringify(built.again)}`);
    check(built.refused.includes('not a number'), `a non-number for an integer field: "${built.refused}"`);
    // The server takes what the builder makes.
    const accepted = await fetch(`${server.base}/v1/exports`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ dataset: 'samples', filter: built.filter }),
    });
    check(accepted.status === 202, `POST with the built filter: ${accepted.status} ${await accepted.text()}`);

    check(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`);
    ok = true;
  } catch (err) {
    console.error(`FAIL: ${err.stack || err.message}`);
    if (consoleErrors.length) console.error(`console errors:\n  ${consoleErrors.join('\n  ')}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
    if (ok) {
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    } else {
      fs.copyFileSync(server.logPath, path.join(artifacts, 'exportd.log'));
      console.error(`server log and data kept: ${server.dataDir}`);
    }
  }
  log(ok ? `PASS (screenshots in ${artifacts})` : 'FAILED');
  process.exit(ok ? 0 : 1);
}

main();
