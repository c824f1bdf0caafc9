// Browser tests of steward's dashboard: Playwright drives Debian's headless
// Chromium against a real `steward run` (started by scripts/browser-test.sh),
// and every action is checked against the real processes with
// `steward ps -o json`. Screenshots of each page go to $ARTIFACTS.
//
// Environment: STEWARD_URL (the dashboard), STEWARD_BIN, STEWARD_CONFIG,
// STEWARD_TOKEN_FILE, FLEET_URL (the dashboard of fleet-a, clustered with
// fleet-b), FLEET_TOKEN_FILE (fleet-a's), FLEET_CONFIG_B (fleet-b's config),
// ARTIFACTS, CHROMIUM (default /usr/bin/chromium),
// STEWARD_RESULT (a file to write the summary line to instead of stdout).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const URL = process.env.STEWARD_URL.replace(/\/$/, '');
const BIN = process.env.STEWARD_BIN;
const CONFIG = process.env.STEWARD_CONFIG;
const TOKEN = fs.readFileSync(process.env.STEWARD_TOKEN_FILE, 'utf8').trim();
const ARTIFACTS = process.env.ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'steward-shots-'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(ARTIFACTS, { recursive: true });

// steward runs a CLI command against the running steward.
function steward(...args) {
  return execFileSync(BIN, ['-c', CONFIG, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// ps returns the services as `steward ps -o json` reports them, by name.
function ps() {
  return Object.fromEntries(JSON.parse(steward('ps', '-o', 'json')).map((s) => [s.name, s]));
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

// waitFor polls cond until it returns a truthy value or the deadline passes.
async function waitFor(what, cond, timeout = 10000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ': ' + last.message : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function apiGet(p) {
  const res = await fetch(URL + p, { headers: { Authorization: 'Bearer ' + TOKEN } });
  assert.equal(res.status, 200, `GET ${p} with the token`);
  return res.json();
}

// parseCSV parses RFC 4180 text (quoted fields, doubled quotes, CRLF or
// LF) into rows; it throws on a quote left open.
function parseCSV(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (quoted) throw new Error('a quoted field is left open');
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let page;
const problems = []; // script errors and CSP violations seen by any page

async function shot(name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });
}

// marked reports whether the page is still the document marked by mark():
// a reload or navigation would have dropped the mark.
const mark = () => page.evaluate(() => { window.__stewardMark = 1; });
const marked = () => page.evaluate(() => window.__stewardMark === 1);

async function login(next = '/', token = TOKEN, base = URL) {
  await page.goto(base + next);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
}

test('without a session: the login page, never data', async () => {
  await page.goto(URL + '/services');
  assert.equal(new globalThis.URL(page.url()).pathname, '/login');
  const html = await page.content();
  for (const name of ['worker', 'migrate', 'payments-port']) assert.ok(!html.includes(name), `login page shows ${name}`);
  const api = await fetch(URL + '/v1/services');
  assert.equal(api.status, 401);
  const res = await fetch(URL + '/login');
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  await shot('01-login');
  await page.fill('#token', 'not-the-token');
  await page.click('button[type=submit]');
  await page.waitForSelector('.notice.error');
  assert.match(await page.textContent('.notice.error'), /not valid/);
});

test('login with the API token', async () => {
  await login('/services');
  assert.equal(new globalThis.URL(page.url()).pathname, '/services');
  const cookies = await page.context().cookies();
  const s = cookies.find((c) => c.name === 'steward_session');
  assert.ok(s, 'session cookie');
  assert.equal(s.httpOnly, true);
  assert.equal(s.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('steward_session')), false);
});

test('overview: node, service counts, machine gauges, live', async () => {
  await page.goto(URL + '/');
  await page.waitForSelector('#live[data-state="live"]');
  assert.match(await page.textContent('main h1'), /Overview/);
  assert.match(await page.textContent('.page-head'), /demo-01/);
  assert.match(await page.textContent('#ov-stats'), /running/);
  // sysmon samples every 2s; the page refreshes on its own every 15s.
  await waitFor('machine gauges', async () => {
    if (await page.$('.gauge')) return true;
    await page.reload();
    return false;
  }, 20000);
  assert.ok(await page.$('#ov-machine .chart-card'));
});

test('services table shows the real services', async () => {
  await page.goto(URL + '/services');
  const real = await waitFor('api running', () => { const p = ps(); return p.api.state === 'running' && p; });
  const row = page.locator('tr[data-service="api"]');
  await waitFor('api row running', async () => (await row.getAttribute('data-state')) === 'running');
  assert.equal((await row.locator('td.pid').textContent()).trim(), String(real.api.pid));
  for (const name of Object.keys(real)) assert.ok(await page.$(`tr[data-service="${name}"]`), `row for ${name}`);
  await page.fill('#filter', 'work');
  assert.equal(await page.locator('tr[data-service="api"]').isVisible(), false);
  assert.equal(await page.locator('tr[data-service="worker"]').isVisible(), true);
  await page.fill('#filter', '');
  await shot('03-services');
});

test('stop and start from the UI change the real process', async () => {
  await page.goto(URL + '/services');
  await page.waitForSelector('#live[data-state="live"]');
  await mark();
  const before = ps().api;
  assert.equal(before.state, 'running');
  const row = () => page.locator('tr[data-service="api"]');
  await row().getByRole('button', { name: 'Stop', exact: true }).click();
  await page.locator('#confirm-dialog').getByRole('button', { name: 'Stop api' }).click();
  await waitFor('api stopped in the table', async () => (await row().getAttribute('data-state')) === 'stopped');
  const stopped = ps().api;
  assert.equal(stopped.state, 'stopped');
  assert.equal(stopped.pid, 0);
  await waitFor(`old process ${before.pid} gone`, () => !alive(before.pid), 20000);

  await row().getByRole('button', { name: 'Start', exact: true }).click();
  await waitFor('api running in the table', async () => (await row().getAttribute('data-state')) === 'running');
  const started = ps().api;
  assert.equal(started.state, 'running');
  assert.ok(started.pid > 0 && started.pid !== before.pid, `new pid ${started.pid}, old ${before.pid}`);
  assert.ok(alive(started.pid));
  await waitFor('new pid shown', async () => (await row().locator('td.pid').textContent()).trim() === String(started.pid));
  assert.ok(await marked(), 'the page reloaded');
});

test('an action without the CSRF token is refused', async () => {
  const status = await page.evaluate(async () => (await fetch('/v1/services/api/stop', { method: 'POST' })).status);
  assert.equal(status, 403);
  const forged = await page.evaluate(async () => (await fetch('/v1/services/api/stop', {
    method: 'POST', headers: { 'X-CSRF-Token': 'forged' } })).status);
  assert.equal(forged, 403);
  assert.equal(ps().api.state, 'running');
});

test('service detail: a live log line appears', async () => {
  await page.goto(URL + '/services/api');
  await mark();
  const numbers = () => page.$$eval('#logs .line .text', (els) =>
    els.map((e) => +(e.textContent.match(/served request #(\d+)/) || [])[1]).filter((n) => n > 0));
  const first = await waitFor('log tail', async () => { const n = await numbers(); return n.length && Math.max(...n); });
  const next = await waitFor('a new log line', async () => { const n = await numbers(); return Math.max(...n) > first && Math.max(...n); }, 20000);
  assert.ok(next > first);
  assert.ok(await marked(), 'the page reloaded');
  assert.match(await page.textContent('#svc-config'), /served request/);
  assert.match(await page.textContent('#svc-deps'), /db/);
  assert.equal((await page.textContent('#svc-pid')).trim(), String(ps().api.pid));
  await page.waitForSelector('#svc-charts .chart-card');
  await shot('04-service-detail');
});

test('events arrive live', async () => {
  await page.goto(URL + '/events');
  await page.waitForSelector('#live[data-state="live"]');
  await mark();
  const newest = () => page.$$eval('#events tr[data-id]', (trs) => Math.max(0, ...trs.map((tr) => +tr.dataset.id)));
  // A row of worker with a chip of state `to` and an ID past `after`.
  const arrived = (after, to) => page.$$eval('#events tr[data-id]', (trs, [after, to]) => trs.some((tr) =>
    +tr.dataset.id > after && tr.textContent.includes('worker') && tr.querySelector('.state-' + to)), [after, to]);
  let seen = await newest();
  steward('stop', 'worker');
  await waitFor('a live row: worker stopped', () => arrived(seen, 'stopped'), 20000);
  assert.ok(await page.$('#events tr.fresh'), 'new rows are highlighted');
  seen = await newest();
  steward('start', 'worker');
  await waitFor('a live row: worker starting', () => arrived(seen, 'starting'), 20000);
  assert.ok(await marked(), 'the page reloaded');
  await page.selectOption('select[name="type"]', 'config');
  await page.waitForURL(/type=config/);
  assert.equal(await page.locator('#events tr[data-id]:has(.type-state)').count(), 0);
  await page.selectOption('select[name="type"]', '');
  await page.waitForURL((u) => !u.search.includes('type=config'));
  await shot('05-events');
});

test('an alert is acknowledged and silenced', async () => {
  await page.goto(URL + '/alerts');
  await mark();
  const row = page.locator('#alerts-open tr[data-subject="payments-port"]');
  await row.waitFor({ timeout: 15000 });
  await row.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await page.fill('#ack-comment', 'looking into it');
  await page.locator('#ack-dialog').getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await page.locator('#alerts-open tr[data-subject="payments-port"] .acked').waitFor({ timeout: 5000 });
  const alerts = await apiGet('/v1/alerts');
  const a = alerts.find((x) => x.subject === 'payments-port');
  assert.ok(a.acked_by, 'acked_by');
  assert.equal(a.ack_comment, 'looking into it');

  await page.locator('#alerts-open tr[data-subject="payments-port"]').getByRole('button', { name: 'Silence', exact: true }).click();
  await page.selectOption('#sil-duration', '4h');
  await page.fill('#sil-comment', 'port moves tonight');
  await page.locator('#silence-dialog').getByRole('button', { name: 'Silence', exact: true }).click();
  await page.locator('#alerts-silences tr:has-text("subject=payments-port")').waitFor({ timeout: 5000 });
  const silences = await apiGet('/v1/silences');
  const sl = silences.find((s) => s.matchers.subject === 'payments-port');
  assert.ok(sl, 'silence stored');
  const hours = (Date.parse(sl.ends) - Date.parse(sl.starts)) / 3600e3;
  assert.ok(Math.abs(hours - 4) < 0.01, `silence of ${hours}h`);
  assert.ok(await marked(), 'the page reloaded');
  await shot('06-alerts');
});

test('config: history, diff and a rollback', async () => {
  const text = fs.readFileSync(CONFIG, 'utf8');
  // A new version with one more service, applied as the CLI does.
  fs.writeFileSync(CONFIG, text.replace('checks:\n', '  extra:\n    command: ["sleep", "3600"]\nchecks:\n'));
  steward('reload');
  await waitFor('extra running', () => ps().extra?.state === 'running');
  await page.goto(URL + '/config');
  await page.waitForSelector('#live[data-state="live"]');
  await mark();
  const cur = +(await page.getAttribute('#cfg-versions tr.current', 'data-version'));
  assert.ok(cur >= 2);
  assert.match(await page.textContent('#cfg-diff'), /\+\s+extra:/);
  await shot('07-config');
  await page.locator(`#cfg-versions tr[data-version="${cur - 1}"]`).getByRole('button', { name: 'Roll back' }).click();
  const dlg = page.locator('#confirm-dialog');
  await dlg.locator('.d-del:has-text("extra:")').waitFor();
  await shot('08-config-rollback-confirm');
  await dlg.getByRole('button', { name: `Roll back to ${cur - 1}` }).click();
  await page.locator('.toast:has-text("Applied as version")').waitFor({ timeout: 10000 });
  await waitFor('extra removed', () => !ps().extra);
  await waitFor('the new version shown current', async () =>
    +(await page.getAttribute('#cfg-versions tr.current', 'data-version')) === cur + 1);
  const history = await apiGet('/v1/config/versions');
  const v = history.find((x) => x.n === cur + 1);
  assert.match(v.source, /, via web:127\.0\.0\.1\)/); // the dashboard, not a bearer token
  assert.ok(await marked(), 'the page reloaded');
  fs.writeFileSync(CONFIG, text);
});

test('overview after a while: charts filled in', async () => {
  await page.goto(URL + '/');
  await page.waitForSelector('#ov-machine .chart .line');
  await shot('02-overview');
  // The dark scheme, as a system set to dark shows it.
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot('dark-overview');
  await page.goto(URL + '/services/api');
  await page.waitForSelector('#logs .line');
  await shot('dark-service-detail');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('usable at a phone\'s width (390×844)', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.context().clearCookies();
  await page.goto(URL + '/');
  await page.waitForSelector('#token');
  await page.screenshot({ path: path.join(ARTIFACTS, 'phone-01-login.png') });
  await login('/');
  const pages = [['/', 'overview'], ['/services', 'services'], ['/services/api', 'service-detail'],
    ['/alerts', 'alerts'], ['/events', 'events'], ['/config', 'config']];
  for (const [p, name] of pages) {
    await page.goto(URL + p);
    await page.waitForSelector('#live[data-state="live"]');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 390) {
      const wide = await page.evaluate(() => Array.from(document.querySelectorAll('main *'))
        .filter((e) => e.getBoundingClientRect().right > 391).slice(-3)
        .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className).join(', '));
      assert.fail(`${p} is ${width}px wide at 390px: ${wide}`);
    }
    // What the phone shows: the first screen, with the tab bar.
    await page.screenshot({ path: path.join(ARTIFACTS, `phone-${name}.png`) });
  }
  await page.goto(URL + '/services');
  const stop = page.locator('tr[data-service="api"]').getByRole('button', { name: 'Stop', exact: true });
  assert.ok(await stop.isVisible());
  const box = await stop.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, 'Stop button within the screen');
  assert.ok(await page.locator('nav a[href="/alerts"]').isVisible());
  await page.setViewportSize({ width: 1440, height: 900 });
});

test('bus page: streams, dead letters and a live tail of a subject', async () => {
  await page.goto(URL + '/bus');
  // The bus starts in the background: until it is ready the page says so.
  await waitFor('the streams', async () => {
    if (await page.$('tr[data-stream="STEWARD_EVENTS"]')) return true;
    await page.reload();
    return false;
  }, 20000);
  assert.match(await page.textContent('tr[data-stream="DEMO"]'), /demo\.>/);
  assert.match(await page.textContent('#bus-dlq'), /dead letters route|No dead letters|id/);
  await page.fill('#bus-subject', 'demo.>');
  await page.click('#bus-tail-start');
  await waitFor('the tail following', async () => (await page.textContent('#bus-tail-status')) === 'following demo.>');
  steward('bus', 'pub', 'demo.hello', 'hello from the CLI');
  await waitFor('the message in the tail', async () => (await page.textContent('#bus-tail tbody')).includes('hello from the CLI'));
  assert.match(await page.textContent('#bus-tail tbody tr.bus-msg'), /demo\.hello/);
  // From the last hour: the stream replays it, with its sequence.
  await page.selectOption('#bus-since', '1h');
  await page.click('#bus-tail-clear');
  await page.click('#bus-tail-start');
  await waitFor('the replayed message', async () => (await page.textContent('#bus-tail tbody')).includes('hello from the CLI'));
  await shot('09-bus');
  await page.click('#bus-tail-stop');
  assert.equal(await page.textContent('#bus-tail-status'), 'stopped');
});

test('runs: a workflow drawn as its DAG, its run followed live', async () => {
  await page.goto(URL + '/runs');
  await page.waitForSelector('#live[data-state="live"]');
  const card = page.locator('.wf-card[data-workflow="deploy"]');
  const status = (step) => page.getAttribute(`g.dag-node[data-step="${step}"]`, 'data-status');
  const layer = (step) => card.locator(`g.dag-node[data-step="${step}"]`).getAttribute('data-layer');
  // Not run yet: every step idle, in the layers of its needs.
  assert.deepEqual(await Promise.all(['prepare', 'slow', 'quick', 'publish'].map(layer)), ['0', '1', '1', '2']);
  assert.equal(await card.locator('g.dag-node[data-status="idle"]').count(), 4);
  assert.equal(await card.locator('path.dag-edge').count(), 4);
  await shot('10-runs');
  // Run leads to the run's page, which follows the run without a reload.
  await Promise.all([page.waitForURL(/\/runs\/\d+$/), card.getByRole('button', { name: 'Run', exact: true }).click()]);
  const id = +new globalThis.URL(page.url()).pathname.split('/').pop();
  await mark();
  await waitFor('slow running', async () => (await status('slow')) === 'running');
  assert.equal(await status('prepare'), 'succeeded');
  assert.equal(await status('publish'), 'queued');
  assert.ok(await page.locator('[data-needs="operator"][data-action$="/cancel"]').isVisible(), 'no cancel button');
  await shot('11-run-live');
  await waitFor('slow succeeded', async () => (await status('slow')) === 'succeeded', 15000);
  await waitFor('publish running', async () => (await status('publish')) === 'running', 20000);
  assert.equal(await status('quick'), 'succeeded');
  await waitFor('the run ended', async () => (await page.getAttribute('#run-head', 'data-status')) === 'succeeded', 15000);
  assert.equal(await status('publish'), 'succeeded');
  assert.ok(await marked(), 'the page reloaded');
  assert.equal(await page.locator('[data-action$="/cancel"]').count(), 0, 'a cancel button for an ended run');
  assert.match(await page.textContent('#run-output'), /slow: done/);
  await shot('12-run-done');
  const run = await apiGet('/v1/runs/' + id);
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(run.steps.map((s) => s.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
});

test('report page: the availability table, the range form and each download', async () => {
  // worker exits every 7 s and is restarted: it has crashes to show.
  await waitFor('a crash of worker in the store', async () => JSON.parse(steward('report', '--since', '1h'))
    .services.some((s) => s.name === 'worker' && s.crashes > 0), 30000);
  await page.goto(URL + '/report?since=1h');
  const rows = async () => page.locator('#rep-table tbody tr[data-service]').evaluateAll((trs) => trs.map((tr) => tr.dataset.service));
  const all = await rows();
  for (const svc of ['api', 'db', 'worker']) assert.ok(all.includes(svc), `the table lists ${svc}: ${all}`);
  assert.match(await page.textContent('#rep-table tr[data-service="api"] td[data-label="Availability"]'), /\d+(\.\d+)?\s*%/);
  assert.ok(Number(await page.textContent('#rep-table tr[data-service="worker"] .rep-crashes')) > 0, 'worker shows its crashes');
  assert.equal(await page.inputValue('#rep-since'), '1h');
  const period = await page.textContent('#rep-period');
  await shot('10-report');

  // The form: a shorter range and one service.
  await page.fill('#rep-since', '30m');
  await page.selectOption('#rep-services', ['worker']);
  await Promise.all([page.waitForURL((u) => u.searchParams.get('since') === '30m'), page.click('#rep-form button[type=submit]')]);
  const u = new globalThis.URL(page.url());
  assert.deepEqual(u.searchParams.getAll('service'), ['worker']);
  assert.deepEqual(await rows(), ['worker']);
  assert.notEqual(await page.textContent('#rep-period'), period, 'the period shown follows the range');
  assert.equal(await page.inputValue('#rep-since'), '30m');

  // Each download: the right type, a file that opens.
  const links = await page.locator('#rep-downloads a[download]').evaluateAll((as) => as.map((a) => ({ label: a.textContent.trim(), href: a.getAttribute('href') })));
  assert.deepEqual(links.map((l) => l.label), ['Excel (XLSX)', 'HTML', 'CSV: services', 'CSV: incidents', 'JSON']);
  const types = { 'Excel (XLSX)': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    HTML: 'text/html', 'CSV: services': 'text/csv', 'CSV: incidents': 'text/csv', JSON: 'application/json' };
  for (const l of links) {
    const got = await page.evaluate(async (href) => {
      const res = await fetch(href);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, type: res.headers.get('Content-Type'), disposition: res.headers.get('Content-Disposition'),
        head: Array.from(bytes.slice(0, 4)), text: new TextDecoder().decode(bytes) };
    }, l.href);
    assert.equal(got.status, 200, `${l.label}: ${got.text.slice(0, 200)}`);
    assert.equal(got.type.split(';')[0], types[l.label], `${l.label}'s Content-Type`);
    assert.match(got.disposition || '', /filename="?steward-report-/, `${l.label}'s Content-Disposition`);
    if (l.label.startsWith('Excel')) {
      assert.deepEqual(got.head, [0x50, 0x4b, 0x03, 0x04], 'the XLSX is a zip');
    } else if (l.label.startsWith('CSV')) {
      const table = parseCSV(got.text);
      assert.ok(table.length >= 1 && table.every((r) => r.length === table[0].length), `${l.label} parses as CSV: ${got.text.slice(0, 200)}`);
      if (l.label === 'CSV: services') {
        assert.equal(table[0][0], 'service');
        assert.deepEqual(table.slice(1).map((r) => r[0]), ['worker']);
      }
    } else if (l.label === 'JSON') {
      assert.deepEqual(JSON.parse(got.text).services.map((s) => s.name), ['worker']);
    } else {
      assert.match(got.text, /^<!doctype html>/i);
      assert.match(got.text, /worker/);
    }
  }
  // A click downloads the file under its name.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#rep-downloads a[download]:text("Excel (XLSX)")')]);
  assert.match(dl.suggestedFilename(), /^steward-report-.*\.xlsx$/);
  assert.deepEqual([...fs.readFileSync(await dl.path()).subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04]);

  // A bad range: said on the page, no table.
  await page.goto(URL + '/report?since=yesterday');
  assert.match(await page.textContent('#rep-error'), /yesterday/);
  assert.equal(await page.locator('#rep-table').count(), 0);
});

test('logout ends the session', async () => {
  await page.goto(URL + '/');
  await Promise.all([page.waitForURL(/\/login/), page.getByRole('button', { name: 'Log out' }).click()]);
  const status = await page.evaluate(async () => (await fetch('/v1/services')).status);
  assert.equal(status, 401);
  await page.goto(URL + '/config');
  assert.equal(new globalThis.URL(page.url()).pathname, '/login');
});

test('a viewer sees no action buttons, an operator no admin ones', async () => {
  const secret = (role) => steward('token', 'create', 'e2e-' + role, '--role', role).trim();
  const visible = (sel) => page.locator(sel).evaluateAll((els) => els.filter((e) => e.offsetParent !== null).length);
  await page.context().clearCookies();
  await login('/services', secret('viewer'));
  await page.waitForSelector('#live[data-state="live"]');
  assert.equal((await page.locator('.role-pill').textContent()).trim(), 'viewer');
  assert.ok(await page.locator('[data-action$="/stop"]').count() > 0, 'the stop buttons are in the page');
  assert.equal(await visible('[data-needs]'), 0, 'a viewer sees an action button');
  await shot('role-viewer-services');
  await page.goto(URL + '/runs');
  assert.ok(await page.locator('[data-needs="operator"][data-action$="/run"]').count() > 0, 'the run buttons are in the page');
  assert.equal(await visible('[data-needs]'), 0, 'a viewer sees a run button');
  // The API refuses what the page does not offer.
  const status = await page.evaluate(async () => (await fetch('/v1/services/api/stop', { method: 'POST',
    headers: { 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content } })).status);
  assert.equal(status, 403);
  assert.equal(ps().api.state, 'running');

  await page.context().clearCookies();
  await login('/services', secret('operator'));
  await page.waitForSelector('#live[data-state="live"]');
  assert.ok(await visible('[data-needs="operator"]') > 0, 'an operator sees no service actions');
  await page.goto(URL + '/config');
  assert.ok(await page.locator('[data-needs="admin"]').count() > 0, 'the rollback buttons are in the page');
  assert.equal(await visible('[data-needs="admin"]'), 0, 'an operator sees a rollback button');
  assert.ok(await visible('[data-action="/v1/reload"]') === 1, 'an operator sees no reload button');
  await page.context().clearCookies();
});

test('fleet: the nodes and the registry, drill-down into another node\'s services, output and events', async () => {
  const base = process.env.FLEET_URL.replace(/\/$/, '');
  const token = fs.readFileSync(process.env.FLEET_TOKEN_FILE, 'utf8').trim();
  const psB = () => Object.fromEntries(JSON.parse(execFileSync(BIN, ['-c', process.env.FLEET_CONFIG_B, 'ps', '-o', 'json'],
    { encoding: 'utf8' })).map((s) => [s.name, s]));
  await page.context().clearCookies();
  await login('/fleet', token, base);
  await page.waitForSelector('tr[data-node="fleet-b"][data-state="up"]');
  assert.match(await page.textContent('tr[data-node="fleet-a"]'), /this node/);
  assert.match(await page.textContent('#fleet-registry'), /clock[\s\S]*fleet-b[\s\S]*9000/);
  await shot('fleet-01-nodes');

  await Promise.all([page.waitForURL(/\/fleet\/fleet-b$/), page.click('tr[data-node="fleet-b"] a')]);
  const row = () => page.locator('tr[data-service="ticker"]');
  await row().waitFor();
  assert.equal(await row().getAttribute('data-state'), 'running');
  assert.match(await page.textContent('#node-events'), /ticker/);

  // The ticker's output, followed live through fleet-a's proxy route.
  await Promise.all([page.waitForURL(/service=ticker/), row().locator('a.strong').click()]);
  await mark();
  const ticks = () => page.$$eval('#logs .line .text', (els) =>
    els.map((e) => +(e.textContent.match(/tick #(\d+)/) || [])[1]).filter((n) => n > 0));
  const first = await waitFor('the ticker\'s output', async () => { const n = await ticks(); return n.length && Math.max(...n); }, 20000);
  await waitFor('a new tick, live', async () => Math.max(...await ticks()) > first, 20000);
  assert.ok(await marked(), 'the page reloaded');
  await shot('fleet-02-node');

  // Restart, through the proxy route: fleet-b's process changes.
  const before = psB().ticker;
  await row().getByRole('button', { name: 'Restart', exact: true }).click();
  await page.locator('#confirm-dialog').getByRole('button', { name: 'Restart ticker' }).click();
  await waitFor('the ticker restarted on fleet-b', () => { const t = psB().ticker; return t.pid > 0 && t.pid !== before.pid; }, 20000);
  await page.context().clearCookies();
});

test('no script errors or CSP violations', async () => {
  assert.deepEqual(problems, []);
});

// Run them in order, each failure reported; the last line is the count.
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1440, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
context.setDefaultTimeout(10000);
page = context.pages()[0] || await context.newPage();
page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
// Chromium logs every 4xx answer as an error; the tests cause some on purpose.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`${page.url()}: ${m.text()}`);
});

let passed = 0, failed = 0;
for (const t of tests) {
  const start = Date.now();
  try {
    await t.fn();
    passed++;
    console.log(`ok   ${t.name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name} (${Date.now() - start} ms)\n     ${String(e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
    try { await shot('FAILED-' + t.name.replace(/[^a-z0-9]+/gi, '-')); } catch { /* the page is gone */ }
  }
}
await context.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
const summary = `${passed} passed, ${failed} failed`;
// Under scripts/browser-test.sh the summary goes to a file: the script prints
// it as its own last line, after stopping steward.
if (process.env.STEWARD_RESULT) fs.writeFileSync(process.env.STEWARD_RESULT, summary + '\n');
else console.log(`screenshots in ${ARTIFACTS}\n${summary}`);
process.exit(failed ? 1 : 0);
