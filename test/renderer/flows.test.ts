import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot, startOwlet, waitExit } from '../helpers/cli.js';
import { fetchAuthed } from '../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../helpers/tmp.js';
import { defaultConfig } from '../../src/indexer/config/schema.js';
import type { ServiceInfo } from '../../src/shared/api.js';

/**
 * The dashboard flows a person without a terminal goes through, in real headless Chromium against
 * a real `owlet serve` on 127.0.0.1: first run → add a folder → indexed; search as you type, page 2,
 * a preview; the files that failed, and "Try again"; Back up now → listed; restore with its
 * confirmation; change a setting → saved in config.json; keyboard-only use; an accessibility check.
 * Screenshots of each state go to test-artifacts/dashboard-flows/.
 */

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];
const SHOTS = path.join(repoRoot, 'test-artifacts', 'dashboard-flows');
const MATCHING = 45;

const DESKTOP = { viewport: { width: 1280, height: 1000 } };

/** Chromium as every flow drives it (Debian's binary, no sandbox, nothing fetched). */
function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}

/** Waits for the real service to write service.json, then asks it for a one-time sign-in link. */
async function signInLink(data: string, child: { output(): string }): Promise<{ info: ServiceInfo; link: { url: string } }> {
  const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 30_000, `service.json (${child.output()})`);
  const link = (await (await fetchAuthed(data, `${info.url}/api/v1/auth/login-link`, { method: 'POST' })).json()) as { url: string };
  return { info, link };
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

test('dashboard flows in headless Chromium against a real service', { timeout: 200_000 }, async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip('Chromium is not installed at /usr/bin/chromium (apt-get install chromium)');
    return;
  }
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'renderer', 'search.js')), 'the dashboard is built (npm run build)');
  const home = tmpDir('owlet-home-');
  const data = tmpDir('owlet-data-');
  fs.chmodSync(data, 0o700);
  const docs = path.join(home, 'Documents');
  const files: Record<string, string | Uint8Array> = {};
  for (let i = 0; i < MATCHING; i++) files[`notes/note-${String(i).padStart(2, '0')}.${i % 3 === 0 ? 'md' : 'txt'}`] = `Note ${i}: the owlscape survey, entry ${i}.`;
  files['reports/broken.pdf'] = '%PDF-1.7\nthis is not really a pdf at all, the xref table is missing\n%%EOF';
  // Binary now (skipped); rewritten as text of the same size and time later, so only "Try again" can index it.
  const binary = Buffer.alloc(64, 0);
  binary.write('PK', 0);
  files['misc/blob.txt'] = binary;
  writeTree(docs, files);
  // A whole-second time that utimes can set again exactly (sub-millisecond times do not round-trip).
  const blobTime = new Date('2026-11-30T10:00:00Z');
  fs.utimesSync(path.join(docs, 'misc', 'blob.txt'), blobTime, blobTime);
  fs.mkdirSync(path.join(home, 'Downloads'));
  const base = defaultConfig();
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ ...base, roots: [], monitoring: { ...base.monitoring, sampleSeconds: 1 } }, null, 2));
  const child = startOwlet(['serve', '--data-dir', data, '--port', '0'], { HOME: home });
  let browser: Browser | null = null;
  try {
    const { info, link } = await signInLink(data, child);
    browser = await launchChromium();
    const context = await browser.newContext(DESKTOP);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    const searches: string[] = [];
    const failed: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === '/api/v1/search') searches.push(u.search);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });

    // ── First run: no folders, a welcome offering the folders that exist (no Desktop here).
    await page.goto(link.url);
    await page.locator('#welcome').waitFor({ state: 'visible' });
    const offers = await page.locator('#suggestions button').allInnerTexts();
    assert.deepEqual(offers, ['Add Documents', 'Add Downloads']);
    // No window.owlet in a browser: "Add a folder…" is a path field the service validates.
    assert.equal(await page.locator('#welcome-form').isVisible(), true);
    await page.getByLabel('Add a folder…').fill('/etc');
    await page.locator('#welcome-form button[type="submit"]').click();
    await page.locator('#welcome-status[role="alert"]', { hasText: 'system folder' }).waitFor();
    await shot(page, '01-first-run-refused-folder');
    assert.equal(JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8')).roots.length, 0, 'a refused folder is not saved');

    // ── Add a folder → saved, scanned, indexed.
    await page.getByRole('button', { name: /^Add Documents/ }).click();
    await page.locator('#welcome').waitFor({ state: 'hidden' });
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8')).roots, [docs]);
    await page.locator(`#roots li[data-root="${docs}"]`).waitFor();
    await page.locator('#counts dd', { hasText: String(MATCHING) }).first().waitFor({ timeout: 60_000 });
    await page.locator('#progress-text', { hasText: 'Up to date' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#folder-list li', { hasText: docs }).count(), 1, 'the Settings card lists the folder');
    await shot(page, '02-folder-added-and-indexed');

    // ── Search as you type (debounced): no Enter, results appear; the total is shown.
    const box = page.getByLabel('Search your documents');
    await box.click();
    searches.length = 0;
    await page.keyboard.type('owlscape', { delay: 25 });
    await page.locator('#search-status', { hasText: `${MATCHING} documents, showing 1–20 of ${MATCHING}` }).waitFor();
    assert.equal(await page.locator('#results li').count(), 20);
    assert.ok(searches.length >= 1 && searches.length < 8, `typing 8 letters sent ${searches.length} searches (debounced): ${searches.join(' ')}`);
    // Page 2.
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.locator('#search-status', { hasText: `21–40 of ${MATCHING}` }).waitFor();
    assert.ok(searches.some((s) => s.includes('offset=20')), 'page 2 asks the service for offset 20');
    assert.equal(await page.locator('#page-of').innerText(), 'Page 2 of 3');
    const page2 = await page.locator('#results .hit').first().getAttribute('data-path');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.locator('#search-status', { hasText: `41–45 of ${MATCHING}` }).waitFor();
    assert.equal(await page.locator('#results li').count(), 5);
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    // A type filter narrows to Markdown and text: the .md files are every third note.
    await page.getByLabel('Type').selectOption('pdf');
    await page.locator('#search-status', { hasText: 'No documents match.' }).waitFor();
    await page.getByLabel('Type').selectOption('text');
    await page.locator('#search-status', { hasText: `${MATCHING} documents` }).waitFor();
    await page.getByLabel('Modified').selectOption('week');
    await page.locator('#search-status', { hasText: `${MATCHING} documents` }).waitFor();
    assert.ok(searches.at(-1)?.includes(encodeURIComponent('ext:txt ext:md after:')), searches.at(-1));
    await page.getByLabel('Type').selectOption('');
    await page.getByLabel('Modified').selectOption('');
    await page.locator('#search-status', { hasText: 'showing 1–20' }).waitFor();
    assert.notEqual(page2, await page.locator('#results .hit').first().getAttribute('data-path'));
    // Open a preview (browser: /api/v1/preview).
    const first = page.locator('#results .hit').first();
    const firstPath = (await first.getAttribute('data-path'))!;
    await first.click();
    await page.locator('#preview').waitFor({ state: 'visible' });
    await page.locator('#preview-text', { hasText: 'owlscape survey' }).waitFor();
    assert.equal(await page.locator('#preview-meta .path').getAttribute('title'), firstPath);
    await shot(page, '03-search-page-and-preview');
    await page.getByRole('button', { name: 'Close the preview' }).click();
    await page.locator('#preview').waitFor({ state: 'hidden' });

    // ── The files that are not searchable, by reason, with what to do; "Try again".
    const failedGroup = page.locator('#problem-groups details[data-reason="parse-error"]');
    await failedGroup.waitFor();
    assert.match(await failedGroup.locator('summary').innerText(), /failed.*damaged.*\(1\)/s);
    assert.match((await failedGroup.locator('.remedy').textContent()) ?? '', /re-save/);
    await failedGroup.locator('summary').click();
    await failedGroup.locator(`li[data-path="${path.join(docs, 'reports', 'broken.pdf')}"]`).waitFor();
    const binaryGroup = page.locator('#problem-groups details[data-reason="binary"]');
    await binaryGroup.locator('summary').click();
    const blob = path.join(docs, 'misc', 'blob.txt');
    await binaryGroup.locator(`li[data-path="${blob}"]`).waitFor();
    await shot(page, '04-files-not-searchable');
    await page.locator('#problems-title').locator('xpath=..').screenshot({ path: path.join(SHOTS, '04b-problems-card.png') });
    // Make the file text, keeping its size and time: nothing but a retry indexes it again.
    fs.writeFileSync(blob, 'retrytoken '.padEnd(64, 'x'));
    fs.utimesSync(blob, blobTime, blobTime);
    await new Promise((r) => setTimeout(r, 1500));
    const retryQuery = async () => ((await (await fetchAuthed(data, `${info.url}/api/v1/search?q=retrytoken`)).json()) as { total: number }).total;
    assert.equal(await retryQuery(), 0, 'an unchanged size and time do not re-index the file by themselves');
    await binaryGroup.getByRole('button', { name: `Try again: ${blob}` }).click();
    await page.locator('#problems-status', { hasText: 'Trying' }).waitFor();
    await waitFor(async () => (await retryQuery()) === 1, 20_000, 'the retried file indexed');
    await page.locator('#problem-groups details[data-reason="binary"]').waitFor({ state: 'detached', timeout: 20_000 });

    // ── Backups: Back up now → listed, verified, with its size; restore asks first.
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.locator('#backups-status', { hasText: 'Backup taken and verified' }).waitFor({ timeout: 60_000 });
    const row = page.locator('#backup-list li[data-backup]').first();
    await row.waitFor();
    assert.match(await row.innerText(), /verified/);
    assert.match(await row.innerText(), /\d+(\.\d)? (B|KB|MB)/);
    assert.match(await page.locator('#backup-next').innerText(), /Next scheduled backup: /);
    // #16: the storage used against the backup budget, both non-zero sizes.
    assert.match(await page.locator('#backup-storage').innerText(), /^[1-9][\d.]* (B|KB|MB) used of [1-9][\d.]* (KB|MB|GB) allowed$/);
    await row.getByRole('button', { name: /Verify the backup/ }).click();
    await page.locator('#backups-status', { hasText: 'is verified' }).waitFor({ timeout: 60_000 });
    await row.getByRole('button', { name: /Restore the backup/ }).click();
    const dialog = page.locator('#restore-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.innerText(), /current index will be replaced.*set aside/s);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'restore-cancel', 'the safe choice has the focus');
    await shot(page, '05-backup-listed-restore-confirmation');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#backups-title').locator('xpath=..').screenshot({ path: path.join(SHOTS, '05b-backups-card.png') });
    await row.getByRole('button', { name: /Restore the backup/ }).click();
    await dialog.waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await row.getByRole('button', { name: /Restore the backup/ }).click();
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.locator('#backups-status', { hasText: 'Restored the backup' }).waitFor({ timeout: 60_000 });

    // ── Settings: validated by the service, saved to config.json, live or at the next start.
    await page.getByLabel('CPU share for indexing').fill('5');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#settings-status[role="alert"]', { hasText: 'resilience.cpuShare' }).waitFor();
    await page.getByLabel('CPU share for indexing').fill('0.5');
    await page.getByLabel('Backup hour (local time)').fill('5');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#settings-status', { hasText: 'Takes effect when Owlet restarts: Backup hour (local time).' }).waitFor();
    const saved = JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8'));
    assert.equal(saved.resilience.cpuShare, 0.5);
    assert.equal(saved.backup.hour, 5);
    await page.getByLabel('Name or pattern to exclude').fill('*.bak');
    await page.getByRole('button', { name: 'Exclude', exact: true }).click();
    await page.locator('#exclude-list li', { hasText: '*.bak' }).waitFor();
    assert.ok(JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8')).exclude.includes('*.bak'));
    await shot(page, '06-settings-saved');

    // A setting the machine policy fixes is shown locked with the reason (the lock itself is the
    // service's: test/indexer/http/config-routes.test.ts; here the page's rendering of it).
    await page.route('**/api/v1/settings', async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const real = (await (await route.fetch()).json()) as { settings: { key: string; locked: string | null }[] };
      for (const s of real.settings) if (s.key === 'updates.channel') s.locked = 'the machine policy (/etc/owlet/policy.json)';
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(real) });
    });
    await page.reload();
    await page.locator('[data-setting="updates.channel"][data-locked="true"]').waitFor();
    assert.equal(await page.getByLabel('Update channel').isDisabled(), true);
    assert.match(await page.locator('[data-setting="updates.channel"] .locked').innerText(), /Locked: set by the machine policy/);
    await page.unroute('**/api/v1/settings');

    // ── Charts: time axes and units; an empty chart says why.
    await page.locator('#charts figure').first().waitFor();
    assert.equal(await page.locator('#charts figure').count(), 6);
    assert.match((await page.locator('#charts svg').first().getAttribute('aria-label')) ?? '', /milliseconds over the last hour/);
    await page.route('**/api/v1/timeseries*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ enabled: true, step: 60, series: {}, units: {} }) }));
    await page.locator('#ranges button[data-range="24h"]').click();
    await page.locator('#charts figure .empty', { hasText: 'No samples in the last 24 hours' }).first().waitFor();
    await page.unroute('**/api/v1/timeseries*');
    await page.locator('#ranges button[data-range="15m"]').click();
    await page.locator('#charts svg text', { hasText: /^\d\d:\d\d$/ }).first().waitFor({ state: 'attached' });
    await shot(page, '07-charts');

    // ── Keyboard only: skip link → search; ↓/↑ through results; Enter previews; Esc returns.
    await page.reload();
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to search');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    // After the skip link the next stop is inside the search form (Chromium moves the sequential focus point to the target).
    const afterSkip = await page.evaluate(() => document.activeElement?.id);
    if (afterSkip !== 'search-input') await page.locator('#search-input').focus();
    await page.keyboard.type('owlscape');
    await page.locator('#results li').nth(19).waitFor();
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).className), 'hit');
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate(() => document.activeElement?.getAttribute('data-path'));
    assert.equal(second, await page.locator('#results .hit').nth(1).getAttribute('data-path'));
    await page.keyboard.press('Enter');
    await page.locator('#preview-text', { hasText: 'owlscape' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'preview-title');
    await shot(page, '08-keyboard-preview');
    await page.keyboard.press('Escape');
    await page.locator('#preview').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-path')), second, 'focus returns to the result');
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'search-input');
    // Tab walks the page in reading order and every stop is visible; the pause button works from the keyboard.
    const order: string[] = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        if (!a || a === document.body) return null;
        const r = a.getBoundingClientRect();
        return { id: a.id || a.textContent?.trim().slice(0, 30) || a.tagName, visible: r.width > 0 && r.height > 0 };
      });
      if (!f) break;
      assert.ok(f.visible, `focus stop ${f.id} is visible`);
      order.push(f.id);
    }
    const at = (id: string) => order.indexOf(id);
    for (const id of ['filter-type', 'filter-date', 'pause-toggle', 'backup-now']) assert.ok(at(id) >= 0, `${id} is reachable with Tab: ${order.join(', ')}`);
    assert.ok(at('filter-type') < at('pause-toggle') && at('pause-toggle') < at('backup-now'), `focus order follows the page: ${order.join(', ')}`);
    assert.equal(order.filter((id) => id === 'owlscape').length, 0);
    await page.locator('#pause-toggle').focus();
    await page.keyboard.press('Enter');
    await page.locator('#progress-text', { hasText: 'Paused (by you)' }).waitFor();
    assert.equal(((await (await fetchAuthed(data, `${info.url}/api/v1/status`)).json()) as { paused: boolean }).paused, true);
    await page.keyboard.press('Enter');
    await page.locator('#pause-toggle', { hasText: 'Pause indexing' }).waitFor();
    // A timed pause sends when it ends (the service's timed pause is the tray's half of #13).
    const bodies: string[] = [];
    await page.route('**/api/v1/index/pause', async (route) => {
      bodies.push(route.request().postData() ?? '');
      await route.continue();
    });
    await page.getByLabel('How long to pause').selectOption('1h');
    const before = Date.now();
    await page.locator('#pause-toggle').click();
    await page.locator('#indexing-status', { hasText: 'Indexing paused until' }).waitFor();
    const until = Date.parse((JSON.parse(bodies[0] ?? '{}') as { until: string }).until);
    assert.ok(until >= before + 3_590_000 && until <= Date.now() + 3_600_000, `until ${bodies[0]}`);
    await page.unroute('**/api/v1/index/pause');
    await page.locator('#pause-toggle', { hasText: 'Resume indexing' }).click();
    await page.locator('#pause-toggle', { hasText: 'Pause indexing' }).waitFor();
    assert.equal(((await (await fetchAuthed(data, `${info.url}/api/v1/status`)).json()) as { paused: boolean }).paused, false);

    // ── Accessibility: axe-core (WCAG 2 A/AA: labels, roles, contrast) on the whole page.
    const require = createRequire(import.meta.url);
    const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    await page.locator('#problem-groups details').first().locator('summary').click();
    await page.evaluate(axeSource);
    const result = (await page.evaluate(() => (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<unknown> } }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }))) as {
      violations: { id: string; help: string; nodes: { target: string[] }[] }[];
      passes: { id: string }[];
    };
    const violations = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
    assert.deepEqual(violations, []);
    for (const rule of ['color-contrast', 'label', 'button-name']) assert.ok(result.passes.some((p) => p.id === rule), `axe checked ${rule}`);
    // The dark scheme too (its own colours).
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = (await page.evaluate(() => (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<unknown> } }).axe.run(document, { runOnly: { type: 'rule', values: ['color-contrast'] } }))) as { violations: { id: string; nodes: { target: string[] }[] }[] };
    assert.deepEqual(dark.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('; ')}`), []);
    await shot(page, '10-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // ── A narrow window: nothing runs out of its card, long paths included.
    await page.setViewportSize({ width: 420, height: 900 });
    await page.locator('#search-input').fill('owlscape');
    await page.locator('#results li').nth(19).waitFor();
    const overflow = await page.evaluate(() => {
      const out: string[] = [];
      if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`page ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
      for (const e of Array.from(document.querySelectorAll<HTMLElement>('.card .path, .card li, .card p, .card button, .card input'))) {
        const card = e.closest('.card')!.getBoundingClientRect();
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > card.right + 1) out.push(`${e.className || e.tagName} ${e.textContent?.slice(0, 40)} ends at ${Math.round(r.right)} > ${Math.round(card.right)}`);
      }
      return out;
    });
    assert.deepEqual(overflow, []);
    await shot(page, '11-narrow-window');
    await page.setViewportSize({ width: 1280, height: 1000 });

    // ── Remove the folder from Settings: it stops being indexed and the welcome returns.
    await page.getByRole('button', { name: `Remove ${docs}` }).click();
    await page.locator('#welcome').waitFor({ state: 'visible' });
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8')).roots, []);
    assert.equal(((await (await fetchAuthed(data, `${info.url}/api/v1/search?q=owlscape`)).json()) as { total: number }).total, 0);

    assert.deepEqual(problems, []);
    assert.deepEqual(failed.filter((f) => f !== '400 /api/v1/roots' && f !== '400 /api/v1/settings'), [], 'only the two refused inputs failed');
    await context.close();
  } finally {
    await browser?.close();
    child.kill('SIGTERM');
    const exit = await waitExit(child, 15_000);
    assert.equal(exit.killed, false, `the service stopped cleanly\n${child.output().slice(-2000)}`);
  }
});

test('in the app window (window.owlet present): the native folder picker adds a folder, a result opens the file, "Show in folder" reveals it, a refusal is shown; #search and #alert=<id> land in place', { timeout: 120_000 }, async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip('Chromium is not installed at /usr/bin/chromium (apt-get install chromium)');
    return;
  }
  const home = tmpDir('owlet-home-');
  const data = tmpDir('owlet-data-');
  fs.chmodSync(data, 0o700);
  const picked = path.join(home, 'Projects');
  writeTree(picked, { 'plan.txt': 'The owlscape plan for the app window.', 'secret.txt': 'owlscape second file' });
  const base = defaultConfig();
  const config = {
    ...base,
    roots: [],
    monitoring: {
      ...base.monitoring,
      sampleSeconds: 1,
      alerts: { ...base.monitoring.alerts, rules: [{ id: 'test-uptime', metric: 'uptime_seconds', op: '>', threshold: 0, forSeconds: 0, severity: 'warning', summary: 'Test alert for the notification click', remedy: 'Acknowledge it.' }] },
    },
  };
  fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify(config, null, 2));
  const child = startOwlet(['serve', '--data-dir', data, '--port', '0'], { HOME: home });
  let browser: Browser | null = null;
  try {
    const { info, link } = await signInLink(data, child);
    browser = await launchChromium();
    const context = await browser.newContext(DESKTOP);
    // The preload's object, as src/shared/bridge.ts describes it; it records what the page asks.
    // A string, not a function: tsx would add helpers to a function's source that the page lacks.
    await context.addInitScript(`(() => {
      const calls = [];
      window.owletCalls = calls;
      window.owlet = {
        pickFolder: async () => (calls.push(['pickFolder']), ${JSON.stringify(picked)}),
        openPath: async (p) => (calls.push(['openPath', p]), p.endsWith('secret.txt') ? { ok: false, code: 'OWL_ERR_PATH_FORBIDDEN', message: 'not a document of the index' } : { ok: true }),
        showInFolder: async (p) => (calls.push(['showInFolder', p]), { ok: true }),
      };
    })();`);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const calls = () => page.evaluate(() => (window as unknown as { owletCalls: string[][] }).owletCalls);

    await page.goto(link.url);
    await page.locator('#welcome').waitFor({ state: 'visible' });
    // The app has the native picker: no path field.
    // The app has the native picker: no path field.
    assert.equal(await page.locator('#welcome-form').isHidden(), true);
    await page.locator('#welcome-form-pick').click();
    await page.locator('#welcome').waitFor({ state: 'hidden' });
    assert.deepEqual((await calls())[0], ['pickFolder']);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(data, 'config.json'), 'utf8')).roots, [picked]);
    // The folder is indexed in the background: on a loaded machine the first search may come
    // before its files are in; search again (this test is about the picker, not live refresh).
    const found = page.locator('#search-status', { hasText: '2 documents' });
    const end = Date.now() + 90_000;
    for (let n = 0; ; n++) {
      await page.locator('#search-input').fill(n % 2 ? 'owlscape ' : 'owlscape');
      try {
        await found.waitFor({ timeout: 5_000 });
        break;
      } catch (e) {
        if (Date.now() > end) throw e;
      }
    }
    const plan = path.join(picked, 'plan.txt');
    await page.locator(`#results .hit[data-path="${plan}"]`).click();
    await page.getByRole('button', { name: /Show .* in its folder/ }).first().click();
    await waitFor(async () => (await calls()).length >= 3, 5_000, 'bridge calls');
    const c = await calls();
    assert.deepEqual(c[1], ['openPath', plan]);
    assert.equal(c[2]![0], 'showInFolder');
    assert.equal(await page.locator('#preview').isHidden(), true, 'the app opens the file instead of a preview');
    await page.locator(`#results .hit[data-path="${path.join(picked, 'secret.txt')}"]`).click();
    await page.locator('#search-status[role="alert"]', { hasText: 'not a document of the index' }).waitFor();
    await shot(page, '09-app-window');

    // The tray's "Search…" opens #search; a notification click opens #alert=<id>.
    await page.goto(`${info.url}/#search`);
    await page.locator('#app').waitFor({ state: 'visible' });
    await waitFor(() => page.evaluate(() => document.activeElement?.id === 'search-input'), 10_000, 'the search box focused');
    const alertId = await waitFor(async () => ((await (await fetchAuthed(data, `${info.url}/api/v1/alerts`)).json()) as { banner: { id: string }[] }).banner[0]?.id, 30_000, 'the test alert fires');
    await page.goto(`${info.url}/#alert=${alertId}`);
    await waitFor(() => page.evaluate((id) => document.activeElement?.getAttribute('data-alert') === id, alertId), 10_000, 'the alert focused');
    assert.equal(await page.locator(`[data-alert="${alertId}"].highlight`).count(), 1);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser?.close();
    child.kill('SIGTERM');
    const exit = await waitExit(child, 15_000);
    assert.equal(exit.killed, false, 'the service stopped cleanly');
  }
});

const LONG_REASON =
  '1.2.0 crashed within its first 300 s (exit, code 1): Error: /home/someone-with-a-long-name/.local/share/owlet/versions/1.2.0/node_modules/better-sqlite3-multiple-ciphers/build/Release/better_sqlite3.node: invalid ELF header';

function installedView(over: Record<string, unknown> = {}) {
  return {
    host: 'service',
    running: '1.2.1',
    off: null,
    channel: 'latest',
    available: '1.3.0',
    lastCheck: { at: '2026-12-03T02:00:00.000Z', result: 'available 1.3.0' },
    progress: null,
    readyToRestart: false,
    previous: '1.1.0',
    problem: null,
    history: [
      { at: '2026-12-02T08:00:00.000Z', outcome: 'refused', from: '1.2.1', to: '1.2.9', reason: 'bad-signature', message: 'the manifest latest-linux.yml is not signed by a trusted key (bad signature): nothing was downloaded' },
      { at: '2026-12-01T08:01:00.000Z', outcome: 'installed', from: '1.1.0', to: '1.2.1', reason: null, message: null },
      { at: '2026-11-20T10:05:00.000Z', outcome: 'rolled-back', from: '1.1.0', to: '1.2.0', reason: 'crashed', message: LONG_REASON },
    ],
    bad: [{ version: '1.2.0', at: '2026-11-20T10:05:00.000Z', reason: LONG_REASON }],
    ...over,
  };
}

async function axeOn(page: Page, selector: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const r = (await page.evaluate(
    (sel) => (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<unknown> } }).axe.run({ include: [sel] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
    selector,
  )) as { violations: { id: string; help: string; nodes: { target: string[] }[] }[] };
  return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
}

async function overflowIn(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((sel) => {
    const out: string[] = [];
    if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`page ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    const card = document.querySelector(sel)!.getBoundingClientRect();
    for (const e of Array.from(document.querySelectorAll<HTMLElement>(`${sel} *`))) {
      const r = e.getBoundingClientRect();
      if (r.width > 0 && r.right > card.right + 1) out.push(`${e.tagName}.${e.className} "${e.textContent?.slice(0, 40)}" ends at ${Math.round(r.right)} > ${Math.round(card.right)}`);
    }
    return out;
  }, selector);
}

test('the Updates card: off from a source checkout (real service); available, history, install progress, roll back with a confirmation, locked by policy; and in the app, download progress and Restart to update through window.owlet.updates', { timeout: 150_000 }, async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip('Chromium is not installed at /usr/bin/chromium (apt-get install chromium)');
    return;
  }
  const home = tmpDir('owlet-home-');
  const data = tmpDir('owlet-data-');
  fs.chmodSync(data, 0o700);
  const child = startOwlet(['serve', '--data-dir', data, '--port', '0'], { HOME: home });
  let browser: Browser | null = null;
  try {
    const { info, link } = await signInLink(data, child);
    browser = await launchChromium();
    const context = await browser.newContext(DESKTOP);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const card = page.locator('#updates-card');

    // ── The real service runs from this source checkout: updates are off, and the card says why.
    await page.goto(link.url);
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.locator('#updates-card[data-off="not-installed"]').waitFor();
    assert.match(await page.locator('#update-off').innerText(), /^Updates are off: This Owlet runs from .*, not from an installation .*Install a release to get updates\.$/s);
    assert.match(await page.locator('#update-version').innerText(), /^Owlet \d+\.\d+\.\d+.* · channel latest$/);
    assert.equal(await page.locator('#update-actions button').count(), 0, 'no action offered where none can work');
    assert.equal(await page.locator('#update-history').innerText(), 'No updates yet.');
    await card.screenshot({ path: path.join(SHOTS, '12-updates-source-checkout.png') });
    const real = await (await fetchAuthed(data, `${info.url}/api/v1/update/apply`, { method: 'POST' })).json() as { error: { code: string; message: string } };
    assert.equal(real.error.code, 'OWL_ERR_UPDATE_REFUSED');

    // ── States a source checkout cannot produce, fed to the page on the same routes.
    let view = installedView();
    const posted: string[] = [];
    await page.route('**/api/v1/update', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(view) }));
    await page.route('**/api/v1/update/*', async (route) => {
      const action = new URL(route.request().url()).pathname.split('/').pop()!;
      posted.push(action);
      if (action === 'apply') {
        view = installedView({ progress: { version: '1.3.0', phase: 'unpacking', percent: null } });
        return route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ started: 'apply', version: '1.3.0' }) });
      }
      if (action === 'rollback') return route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ started: 'rollback', version: '1.1.0' }) });
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(view) });
    });
    await page.reload();
    await page.locator('#update-available', { hasText: 'Owlet 1.3.0 is available.' }).waitFor();
    assert.equal(await page.locator('#update-off').isHidden(), true);
    assert.deepEqual(await page.locator('#update-actions button').allInnerTexts(), ['Check for updates', 'Install 1.3.0 and restart', 'Roll back to 1.1.0…']);
    const rows = page.locator('#update-history li');
    assert.equal(await rows.count(), 3, 'the bad version is the rollback already in the history, not listed twice');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome'))), ['refused', 'installed', 'rolled-back']);
    assert.match(await rows.nth(0).innerText(), /refused\s+Dec 2, 2026.*1\.2\.9 \(from 1\.2\.1\): the manifest latest-linux\.yml is not signed/s);
    assert.match(await rows.nth(1).innerText(), /installed\s+Dec 1, 2026.*1\.2\.1 \(from 1\.1\.0\)/s);
    assert.match(await rows.nth(2).innerText(), /rolled back\s+Nov 20, 2026.*1\.2\.0 \(from 1\.1\.0\): 1\.2\.0 crashed within its first 300 s/s);
    await page.getByRole('button', { name: 'Check for updates' }).click();
    await waitFor(() => posted.includes('check'), 5_000, 'the check posted');
    assert.deepEqual(await axeOn(page, '#updates-card'), [], 'light');
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual(await axeOn(page, '#updates-card'), [], 'dark');
    await card.screenshot({ path: path.join(SHOTS, '13-updates-available-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await card.screenshot({ path: path.join(SHOTS, '13-updates-available.png') });

    // Install: handed to the supervisor; the card follows the update under way.
    await page.getByRole('button', { name: 'Install 1.3.0 and restart' }).click();
    await page.locator('#update-status', { hasText: 'Installing Owlet 1.3.0: the service restarts' }).waitFor();
    await page.locator('#update-available', { hasText: 'Updating to 1.3.0: unpacking…' }).waitFor();
    assert.equal(await page.locator('#update-progress').isVisible(), true);
    assert.deepEqual(await page.locator('#update-actions button').allInnerTexts(), ['Check for updates']);
    assert.equal(await page.getByRole('button', { name: 'Check for updates' }).isDisabled(), true, 'no second update while one runs');
    await card.screenshot({ path: path.join(SHOTS, '14-updates-installing.png') });

    // Roll back: a confirmation that says what happens, the safe choice focused; Escape cancels.
    view = installedView({ available: null, lastCheck: { at: '2026-12-03T02:00:00.000Z', result: 'up-to-date' } });
    await page.reload();
    await page.locator('#update-available', { hasText: 'Up to date, checked' }).waitFor();
    await page.getByRole('button', { name: 'Roll back to 1.1.0…' }).click();
    const dialog = page.locator('#rollback-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.innerText(), /Owlet 1\.2\.1 will be replaced by 1\.1\.0.*index and settings stay.*1\.2\.1 will not be installed automatically again/s);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rollback-cancel');
    assert.deepEqual(await axeOn(page, '#rollback-dialog'), []);
    await shot(page, '15-updates-rollback-confirmation');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.ok(!posted.includes('rollback'), 'cancelled: nothing sent');
    await page.getByRole('button', { name: 'Roll back to 1.1.0…' }).click();
    await page.getByRole('button', { name: 'Roll back', exact: true }).click();
    await page.locator('#update-status', { hasText: 'Rolling back to Owlet 1.1.0' }).waitFor();
    assert.ok(posted.includes('rollback'));

    // Locked by the machine policy: shown as locked, with the reason; nothing to press.
    view = installedView({ off: { kind: 'policy', message: 'Updates are turned off by the machine policy: /etc/owlet/policy.json.' } });
    await page.reload();
    await page.locator('#updates-card[data-off="policy"]').waitFor();
    assert.equal(await page.locator('#update-off').innerText(), 'Locked: Updates are turned off by the machine policy: /etc/owlet/policy.json.');
    assert.equal(await page.locator('#update-available').innerText(), '', 'an update found before cannot be installed: not offered');
    assert.equal(await page.locator('#update-actions button').count(), 0);
    assert.deepEqual(await axeOn(page, '#updates-card'), []);
    await card.screenshot({ path: path.join(SHOTS, '16-updates-locked-by-policy.png') });

    // A narrow window: the long reason wraps inside the card.
    view = installedView();
    await page.reload();
    await page.setViewportSize({ width: 420, height: 900 });
    await page.locator('#update-history li').nth(2).waitFor();
    assert.deepEqual(await overflowIn(page, '#updates-card'), []);
    await card.screenshot({ path: path.join(SHOTS, '17-updates-narrow.png') });
    await page.unroute('**/api/v1/update');
    await page.unroute('**/api/v1/update/*');
    assert.deepEqual(problems, []);
    await context.close();

    // ── In the app: the card asks main's updater through the preload; progress is pushed.
    const app = await browser.newContext(DESKTOP);
    await app.addInitScript(`(() => {
      const calls = [];
      const listeners = [];
      let v = ${JSON.stringify({ ...installedView({ host: 'app', previous: null, history: [], bad: [] }) })};
      const push = (p) => { v = { ...v, ...p }; for (const l of listeners) l(v); };
      window.owletUpdateCalls = calls;
      window.owletPush = push;
      window.owlet = {
        pickFolder: async () => null,
        openPath: async () => ({ ok: true }),
        showInFolder: async () => ({ ok: true }),
        updates: {
          state: async () => (calls.push('state'), v),
          check: async () => (calls.push('check'), v),
          download: async () => {
            calls.push('download');
            push({ progress: { version: '1.3.0', phase: 'downloading', percent: 30 } });
            await new Promise((r) => (window.owletFinishDownload = r));
            push({ progress: null, readyToRestart: true });
            return v;
          },
          restart: async () => (calls.push('restart'), v),
          rollback: async () => (calls.push('rollback'), v),
          onState: (l) => { listeners.push(l); return () => {}; },
        },
      };
    })();`);
    const appPage = await app.newPage();
    appPage.setDefaultTimeout(20_000);
    const httpUpdateCalls: string[] = [];
    appPage.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/v1/update')) httpUpdateCalls.push(r.url());
    });
    const appProblems: string[] = [];
    appPage.on('pageerror', (e) => appProblems.push(e.message));
    // A sign-in link works once: the app's window gets its own.
    const appLink = (await (await fetchAuthed(data, `${info.url}/api/v1/auth/login-link`, { method: 'POST' })).json()) as { url: string };
    await appPage.goto(appLink.url);
    await appPage.locator('#updates-card[data-host="app"]').waitFor();
    await appPage.getByRole('button', { name: 'Download 1.3.0' }).click();
    await appPage.locator('#update-available', { hasText: 'Updating to 1.3.0: downloading (30 %)…' }).waitFor();
    assert.equal(await appPage.locator('#update-progress').getAttribute('value'), '30');
    await appPage.evaluate(() => (window as unknown as { owletPush: (p: unknown) => void }).owletPush({ progress: { version: '1.3.0', phase: 'downloading', percent: 75 } }));
    await appPage.locator('#update-available', { hasText: '(75 %)' }).waitFor();
    assert.equal(await appPage.locator('#update-progress').getAttribute('value'), '75');
    await appPage.locator('#updates-card').screenshot({ path: path.join(SHOTS, '18-app-downloading.png') });
    await appPage.evaluate(() => (window as unknown as { owletFinishDownload: () => void }).owletFinishDownload());
    await appPage.locator('#update-available', { hasText: 'Owlet 1.3.0 is downloaded and verified: restart to update.' }).waitFor();
    await appPage.getByRole('button', { name: 'Restart to update' }).click();
    await appPage.locator('#update-status', { hasText: 'Owlet restarts now to finish the update.' }).waitFor();
    await appPage.locator('#updates-card').screenshot({ path: path.join(SHOTS, '19-app-restart-to-update.png') });
    const calls = await appPage.evaluate(() => (window as unknown as { owletUpdateCalls: string[] }).owletUpdateCalls);
    assert.deepEqual(calls.filter((c) => c !== 'state'), ['download', 'restart']);
    assert.deepEqual(httpUpdateCalls, [], 'in the app the card never uses the HTTP update routes');
    assert.deepEqual(appProblems, []);
    await app.close();
  } finally {
    await browser?.close();
    child.kill('SIGTERM');
    const exit = await waitExit(child, 15_000);
    assert.equal(exit.killed, false, 'the service stopped cleanly');
  }
});
