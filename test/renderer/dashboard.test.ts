import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { StatusReport } from '../../src/shared/api.js';
import { repoRoot, startOwlet, waitExit } from '../helpers/cli.js';
import { fetchAuthed } from '../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../helpers/tmp.js';
import { defaultConfig } from '../../src/indexer/config/schema.js';
import { HEALTH_COLOURS } from '../../src/shared/health.js';
import type { ServiceInfo } from '../../src/shared/api.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];
const ARTIFACTS = path.join(repoRoot, 'test-artifacts');

test('the dashboard in headless Chromium: signs in, shows health, an alert fires and clears on acknowledge, search returns results', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    // .ci/run installs Debian's chromium; without it this end-to-end test cannot run.
    t.skip('Chromium is not installed at /usr/bin/chromium (apt-get install chromium)');
    return;
  }
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'renderer', 'app.js')), 'the dashboard is built (npm run build)');
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  fs.chmodSync(data, 0o700);
  writeTree(root, {
    'reports/quarterly.md': '# Quarterly report\nRevenue grew in the owlscape region; the owlscape numbers are final.',
    'notes/meeting.txt': 'Meeting notes: discuss the owlscape launch & <b>markup</b> that must stay text.',
    'misc/other.txt': 'Nothing relevant here.',
  });
  const base = defaultConfig();
  // A rule with a tiny threshold fires at the first sample, so the test sees a real alert.
  const config = {
    ...base,
    roots: [root],
    monitoring: {
      ...base.monitoring,
      sampleSeconds: 1,
      alerts: { ...base.monitoring.alerts, rules: [{ id: 'test-uptime', metric: 'uptime_seconds', op: '>', threshold: 0, forSeconds: 0, severity: 'warning', summary: 'Test alert: the service has been up for a moment', remedy: 'Acknowledge it.' }] },
    },
  };
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify(config, null, 2));
  const child = startOwlet(['serve', '--data-dir', data, '--port', '0']);
  let browser: Browser | null = null;
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 30_000, `service.json (${child.output()})`);
    await waitFor(async () => (await fetchAuthed(data, `${info.url}/api/v1/search?q=owlscape`)).ok && ((await (await fetchAuthed(data, `${info.url}/api/v1/search?q=owlscape`)).json()) as { total: number }).total === 2, 30_000, 'documents indexed');
    const link = (await (await fetchAuthed(data, `${info.url}/api/v1/auth/login-link`, { method: 'POST' })).json()) as { url: string };

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
    const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    const requests: string[] = [];
    const failed: string[] = [];
    page.on('console', (m) => {
      // Failed requests are checked one by one below (the malformed query must answer 400).
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => requests.push(r.url()));

    // Sign in through the one-time link: the cookie is set and we land on the dashboard.
    await page.goto(link.url);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.locator('#app').waitFor({ state: 'visible' });

    // Health: the overall pill gets a status and the tray's colour; every check is listed.
    await page.locator('#overall[data-status="ok"], #overall[data-status="degraded"], #overall[data-status="failed"]').waitFor();
    const status = (await page.getAttribute('#overall', 'data-status')) as keyof typeof HEALTH_COLOURS;
    const apiHealth = (await (await fetchAuthed(data, `${info.url}/api/v1/health`)).json()) as { status: string; colour: string };
    assert.equal(status, apiHealth.status);
    const bg = await page.$eval('#overall', (e) => getComputedStyle(e).backgroundColor);
    const hex = HEALTH_COLOURS[status];
    const rgb = `rgb(${parseInt(hex.slice(1, 3), 16)}, ${parseInt(hex.slice(3, 5), 16)}, ${parseInt(hex.slice(5, 7), 16)})`;
    assert.equal(bg, rgb, 'the pill uses the shared status colour');
    await page.locator('#checks li[data-check="database"][data-status="ok"]').waitFor();
    assert.match(await page.locator('#checks li[data-check="database"]').innerText(), /searchable/);
    assert.ok((await page.locator('#checks li').count()) >= 6);
    await page.locator('#progress-text', { hasText: 'Up to date' }).waitFor();

    // The Indexing card tells the truth: between two passes (phase idle) with files still queued
    // and the pool busy, the service says 'indexing' and the card must not say "Up to date".
    const live = (await (await fetchAuthed(data, `${info.url}/api/v1/status`)).json()) as StatusReport;
    const busy: StatusReport = {
      ...live,
      state: 'indexing',
      progress: { ...live.progress, phase: 'idle', queued: 2 },
      resilience: { ...live.resilience, pool: { ...live.resilience.pool, busy: 2, queued: 2 } },
    };
    await page.route('**/api/v1/status', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(busy) }));
    await page.locator('#progress-text', { hasText: 'Catching up: 2 queued' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getAttribute('#progress', 'data-busy'), 'true', 'the bar is not shown full');
    await page.unroute('**/api/v1/status');
    await page.locator('#progress-text', { hasText: 'Up to date' }).waitFor({ timeout: 30_000 });

    // The alert fires (banner, role=alert) and is acknowledged from the page with the keyboard.
    const banner = page.locator('#banner .alert[data-severity="warning"]', { hasText: 'Test alert' });
    await banner.waitFor({ state: 'visible' });
    assert.equal(await banner.getAttribute('role'), 'alert');
    const ack = banner.getByRole('button', { name: /Acknowledge/ });
    await ack.focus();
    await page.keyboard.press('Enter');
    await banner.waitFor({ state: 'detached' });
    assert.equal(await page.locator('#banner').isHidden(), true);
    const alerts = (await (await fetchAuthed(data, `${info.url}/api/v1/alerts`)).json()) as { active: { rule: string; acknowledgedAt: number | null }[]; banner: unknown[] };
    assert.equal(alerts.banner.length, 0);
    assert.notEqual(alerts.active.find((a) => a.rule === 'test-uptime')?.acknowledgedAt ?? null, null, 'acknowledged in the service (the POST carried the CSRF token)');
    await page.locator('#alerts li', { hasText: 'acknowledged' }).waitFor();

    // Search from the page: results with highlighted snippets, markup in documents stays text.
    await page.getByLabel('Search your documents').fill('owlscape');
    await page.keyboard.press('Enter');
    await page.locator('#results li').nth(1).waitFor();
    assert.equal(await page.locator('#results li').count(), 2);
    assert.match(await page.locator('#search-status').innerText(), /2 documents/);
    assert.ok((await page.locator('#results mark').count()) >= 2);
    assert.equal(await page.locator('#results mark').first().innerText(), 'owlscape');
    assert.equal(await page.locator('#results b').count(), 0, 'document text is never parsed as HTML');
    assert.match(await page.locator('#results').innerText(), /<b>markup<\/b>/);
    // A typo: "did you mean" from the index vocabulary, one click runs it.
    await page.getByLabel('Search your documents').fill('owlsacpe');
    await page.keyboard.press('Enter');
    await page.locator('#did-you-mean').waitFor();
    assert.equal(await page.locator('#did-you-mean').innerText(), 'owlscape');
    await page.locator('#did-you-mean').click();
    await page.locator('#results li').nth(1).waitFor();
    assert.equal(await page.getByLabel('Search your documents').inputValue(), 'owlscape');
    assert.match(await page.locator('#search-status').innerText(), /2 documents/);
    await page.getByLabel('Search your documents').fill('"unterminated');
    await page.keyboard.press('Enter');
    await page.locator('#search-status', { hasText: /quote/i }).waitFor();
    await page.getByLabel('Search your documents').fill('owlscape');
    await page.keyboard.press('Enter');
    await page.locator('#results li').nth(1).waitFor();

    // Charts draw from the time series (samples every second here; charts refresh every 15 s).
    await page.locator('#charts figure').first().waitFor();
    assert.equal(await page.locator('#charts figure').count(), 6);
    await page.locator('#ranges button[data-range="15m"]').click();
    await page.locator('#charts svg path.line').first().waitFor({ state: 'attached' });
    assert.match((await page.locator('#charts svg').first().getAttribute('aria-label')) ?? '', /latest|no data/);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    await page.locator('#ranges button[data-range="90d"]').click();
    // Seconds of data in 90 days: one bucket per chart, drawn as a dot.
    await page.locator('#charts svg circle.dot').first().waitFor({ state: 'attached' });
    assert.equal(await page.getAttribute('#ranges button[data-range="90d"]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('#ranges button[data-range="15m"]', 'aria-pressed'), 'false');

    // Everything came from the service itself; no script error, no CSP violation.
    const origin = new URL(info.url).origin;
    assert.deepEqual(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:')), []);
    assert.deepEqual(problems, []);
    assert.deepEqual(failed, ['400 /api/v1/search?q=%22unterminated&limit=20'], 'the only failed request is the malformed query');
    const headers = (await page.request.get(`${info.url}/`)).headers();
    assert.match(headers['content-security-policy'] ?? '', /default-src 'self'/);

    // A session that ends (service restarted, cookie gone): the page says how to sign in again.
    await context.clearCookies();
    await page.locator('#signin').waitFor({ state: 'visible', timeout: 12_000 });
    assert.match(await page.locator('#signin').innerText(), /owlet open/);
    await context.close();
  } finally {
    await browser?.close();
    child.kill('SIGTERM');
    const exit = await waitExit(child, 15_000);
    assert.equal(exit.killed, false, 'the service stopped cleanly');
  }
});

test('the dashboard stylesheet uses the shared status colours (the tray reuses them)', () => {
  const css = fs.readFileSync(path.join(repoRoot, 'src', 'renderer', 'app.css'), 'utf8');
  for (const [s, c] of Object.entries(HEALTH_COLOURS)) assert.match(css, new RegExp(`--${s}: ${c};`), s);
  const html = fs.readFileSync(path.join(repoRoot, 'src', 'renderer', 'index.html'), 'utf8');
  assert.doesNotMatch(html, /https?:\/\//, 'no remote resources');
  assert.doesNotMatch(html, /<script>(?!<\/script>)|style="/, 'no inline script or style (the CSP forbids them)');
});
