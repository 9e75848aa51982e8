/**
 * The Owlet dashboard: plain DOM, no framework, no remote resources; same-origin fetches only
 * (the service's CSP allows nothing else). The same page runs in a browser and in the app's
 * window, where the preload adds `window.owlet` (folder picker, open a file, show in folder).
 */
import { api, post, setCsrf, SignedOut, updatesBridge, type Alert, type AlertsView, type Health, type Status, type StatusReport } from './api.js';
import { $, el, pathText, say } from './dom.js';
import { ago, indexingText, pauseUntil, shortenMiddle } from './format.js';
import { initSearch } from './search.js';
import { initFolders, refreshFolders } from './folders.js';
import { initProblems, refreshProblems } from './problems.js';
import { initBackups, refreshBackups } from './backups.js';
import { initSettings, refreshSettings } from './settings.js';
import { initCharts, refreshCharts } from './charts.js';
import { initUpdates, refreshUpdates } from './updates.js';

let timer: number | undefined;
let paused = false;

const LABEL: Record<Status, string> = { ok: 'Healthy', degraded: 'Degraded', failed: 'Failed' };

function renderHealth(h: Health): void {
  const pill = $('overall');
  pill.dataset.status = h.status;
  const bad = h.checks.filter((c) => c.status !== 'ok');
  pill.textContent = bad.length ? `${LABEL[h.status]}: ${bad[0]!.name.toLowerCase()}` : LABEL[h.status];
  pill.title = bad.map((c) => `${c.name}: ${c.message}`).join('\n') || 'All checks pass';
  $('checks').replaceChildren(
    ...h.checks
      .filter((c) => c.id !== 'backup')
      .map((c) =>
        el(
          'li',
          { 'data-check': c.id, 'data-status': c.status },
          el('span', { class: `badge ${c.status}` }, c.status),
          el('span', { class: 'name' }, c.name),
          el('span', { class: 'msg' }, c.message),
          c.status !== 'ok' && c.remedy ? el('span', { class: 'remedy' }, `What to do: ${c.remedy}`) : null,
        ),
      ),
  );
  const backup = h.checks.find((c) => c.id === 'backup');
  $('backup').replaceChildren(backup ? el('span', { class: `badge ${backup.status}` }, backup.status) : '', ' ', backup ? backup.message : 'no backup information');
}

function renderStatus(s: StatusReport): void {
  const p = s.progress;
  const { text, busy } = indexingText(s);
  const prog = $<HTMLProgressElement>('progress');
  prog.max = Math.max(1, p.done + p.queued);
  prog.value = busy ? p.done : prog.max;
  prog.dataset.busy = String(busy);
  $('progress-text').textContent = text;
  paused = s.paused && s.pausedBecause.includes('user');
  const toggle = $<HTMLButtonElement>('pause-toggle');
  toggle.textContent = paused ? 'Resume indexing' : 'Pause indexing';
  toggle.setAttribute('aria-pressed', String(paused));
  $('pause-for').hidden = paused;
  const item = (label: string, value: string) => el('div', {}, el('dt', {}, label), el('dd', {}, value));
  $('counts').replaceChildren(item('Indexed', s.counts.indexed.toLocaleString('en')), item('Skipped', s.counts.skipped.toLocaleString('en')), item('Failed', s.counts.failed.toLocaleString('en')));
  $('roots').replaceChildren(
    ...(s.roots.length
      ? s.roots.map((r) => el('li', { 'data-root': r.path, 'data-state': r.state }, pathText(r.path, shortenMiddle(r.path, 48)), ` — ${r.state}${r.lastScanAt ? `, scanned ${ago(Date.parse(r.lastScanAt))}` : ', not scanned yet'}`))
      : [el('li', { class: 'muted' }, 'No folders yet.')]),
  );
  $('version').textContent = `Owlet ${s.version} · up ${Math.round(s.uptimeMs / 60_000)} min`;
}

function alertLine(a: Alert): HTMLLIElement {
  const when = a.state === 'resolved' && a.resolvedAt ? `resolved ${ago(a.resolvedAt)}` : a.firedAt ? `since ${ago(a.firedAt)}` : `pending since ${ago(a.startedAt)}`;
  const ack = a.acknowledgedAt ? ', acknowledged' : '';
  return el('li', { 'data-alert': a.id }, el('span', { class: `sev ${a.severity}` }, a.severity), `${a.summary} (${when}${ack})`);
}

function renderAlerts(v: AlertsView): void {
  const banner = $('banner');
  banner.hidden = v.banner.length === 0;
  banner.replaceChildren(
    ...v.banner.map((a) => {
      const btn = el('button', { type: 'button', 'aria-label': `Acknowledge: ${a.summary}` }, 'Acknowledge');
      btn.addEventListener('click', () => void acknowledge(a.id, btn));
      return el(
        'div',
        { class: 'alert', role: 'alert', 'data-alert': a.id, 'data-severity': a.severity },
        el('div', { class: 'text' }, el('span', { class: `sev ${a.severity}` }, a.severity), el('strong', {}, a.summary), a.remedy ? el('p', { class: 'remedy' }, a.remedy) : null),
        btn,
      );
    }),
  );
  $('alerts').replaceChildren(...(v.active.length ? v.active.map(alertLine) : [el('li', { class: 'muted' }, v.enabled ? 'No active alerts.' : 'Alerts are off (monitoring is turned off).')]));
  $('history').replaceChildren(...(v.history.length ? v.history.map(alertLine) : [el('li', { class: 'muted' }, 'Nothing resolved recently.')]));
}

async function acknowledge(id: string, btn: HTMLButtonElement): Promise<void> {
  btn.disabled = true;
  try {
    await api(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST' });
    renderAlerts(await api<AlertsView>('/api/v1/alerts?history=10'));
    $('search-input').focus();
  } catch (e) {
    btn.disabled = false;
    handle(e);
  }
}

async function refresh(): Promise<void> {
  const [health, status, alerts] = await Promise.all([api<Health>('/api/v1/health'), api<StatusReport>('/api/v1/status'), api<AlertsView>('/api/v1/alerts?history=10')]);
  renderHealth(health);
  renderStatus(status);
  renderAlerts(alerts);
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString('en')}`;
}

function handle(e: unknown): void {
  if (e instanceof SignedOut) {
    $('app').hidden = true;
    $('signin').hidden = false;
    const pill = $('overall');
    pill.dataset.status = 'unknown';
    pill.textContent = 'Signed out';
    if (timer !== undefined) clearInterval(timer);
    return;
  }
  $('updated').textContent = `Update failed: ${(e as Error).message}`;
}

async function togglePause(): Promise<void> {
  const b = $<HTMLButtonElement>('pause-toggle');
  b.disabled = true;
  try {
    const until = paused ? null : pauseUntil($<HTMLSelectElement>('pause-for').value);
    await post(paused ? '/api/v1/index/resume' : '/api/v1/index/pause', until === null ? {} : { until: new Date(until).toISOString() });
    say($('indexing-status'), paused ? 'Indexing resumed.' : until === null ? 'Indexing paused until you resume it.' : `Indexing paused until ${new Date(until).toLocaleString('en', { weekday: 'short', hour: '2-digit', minute: '2-digit' })}.`);
    await refresh();
  } catch (e) {
    if (e instanceof SignedOut) handle(e);
    else say($('indexing-status'), (e as Error).message, 'error');
  } finally {
    b.disabled = false;
    if (document.activeElement === document.body || document.activeElement === null) b.focus();
  }
}

/**
 * A place in the page named by the fragment (the app's tray opens `#search`, a notification
 * `#alert=<id>`): the search box gets the focus, or the alert is brought into view and focused.
 */
function goToFragment(): void {
  const h = decodeURIComponent(location.hash.slice(1));
  if (h === 'search') return $('search-input').focus();
  const m = /^alert=([a-z0-9-]{1,100})$/.exec(h);
  if (!m) return;
  const target = document.querySelector<HTMLElement>(`#banner [data-alert="${m[1]}"], #alerts [data-alert="${m[1]}"], #history [data-alert="${m[1]}"]`);
  if (!target) return void ($('updated').textContent = 'That alert is no longer listed: it was resolved and left the history.');
  if (target.closest('details')) target.closest('details')!.open = true;
  target.tabIndex = -1;
  target.classList.add('highlight');
  target.scrollIntoView({ block: 'center' });
  target.focus();
}

async function start(): Promise<void> {
  try {
    setCsrf((await api<{ csrf: string | null }>('/api/v1/session')).csrf);
  } catch (e) {
    return handle(e);
  }
  $('app').hidden = false;
  initSearch(handle);
  initFolders(() => void Promise.all([refresh(), refreshProblems()]).catch(handle), handle);
  initProblems(handle);
  initBackups(handle, () => void refresh().catch(handle));
  initSettings(handle);
  initCharts(handle);
  initUpdates(handle, updatesBridge());
  $('pause-toggle').addEventListener('click', () => void togglePause());
  await Promise.all([refresh(), refreshFolders(), refreshProblems(), refreshBackups(), refreshSettings(), refreshCharts(), refreshUpdates()]).catch(handle);
  goToFragment();
  window.addEventListener('hashchange', goToFragment);
  let n = 0;
  timer = window.setInterval(() => {
    if (document.hidden) return;
    refresh().catch(handle);
    refreshProblems().catch(handle);
    // An update under way is followed closely (the app's preload also pushes its progress).
    refreshUpdates().catch(handle);
    if (++n % 3 === 0) {
      refreshCharts().catch(handle);
      refreshBackups().catch(handle);
      refreshFolders().catch(handle);
    }
  }, 5000);
}

void start();
