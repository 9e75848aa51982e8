/**
 * The Owlet dashboard: plain DOM, no framework, no remote resources; same-origin fetches only
 * (the service's CSP allows nothing else). Signs in through the HttpOnly session cookie set by
 * the `owlet open` link; sends the per-session CSRF token on every POST. Types mirror
 * src/shared (the renderer is compiled on its own, for the browser).
 */

type Status = 'ok' | 'degraded' | 'failed';
interface Check { id: string; name: string; status: Status; message: string; remedy?: string }
interface Health { status: Status; colour: string; checkedAt: string; checks: Check[] }
interface Alert { id: string; rule: string; state: 'pending' | 'firing' | 'resolved'; severity: 'info' | 'warning' | 'critical'; summary: string; remedy: string | null; value: number | null; firedAt: number | null; startedAt: number; resolvedAt: number | null; acknowledgedAt: number | null; escalations: number }
interface AlertsView { enabled: boolean; active: Alert[]; banner: Alert[]; history: Alert[] }
interface StatusReport {
  version: string;
  state: string;
  paused: boolean;
  pausedBecause: string[];
  progress: { phase: string; scanned: number; queued: number; done: number };
  counts: { indexed: number; skipped: number; failed: number; bytes: number };
  roots: { path: string; state: string; lastScanAt: string | null }[];
  uptimeMs: number;
}
interface Hit { path: string; title: string; snippet: string; mtime: string; size: number }
interface Series { enabled: boolean; step: number; series: Record<string, [number, number | null][]>; units: Record<string, string> }

class SignedOut extends Error {}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let csrf: string | null = null;
let range = '1h';
let timer: number | undefined;

async function api<T>(url: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (init.method === 'POST' && csrf) headers.set('X-Owlet-CSRF', csrf);
  const res = await fetch(url, { ...init, headers, credentials: 'same-origin', cache: 'no-store' });
  if (res.status === 401) throw new SignedOut();
  const body = (await res.json().catch(() => ({}))) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(body.error?.message ?? `${res.status} ${res.statusText}`);
  return body;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

function svgEl(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
/** The server's snippet is escaped text with <mark> around matches: rebuilt as nodes, never parsed as HTML. */
function snippetNodes(html: string): Node[] {
  const out: Node[] = [];
  let marked = false;
  for (const part of html.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) {
      const text = part.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m] ?? m);
      out.push(marked ? el('mark', {}, text) : document.createTextNode(text));
    }
  }
  return out;
}

function fmtBytes(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(n >= 10 || i === 0 ? 0 : 1)} ${u[i]}`;
}

function fmtValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined) return '–';
  if (unit === 'B') return fmtBytes(v);
  if (unit === 'ratio') return `${(v * 100).toFixed(1)} %`;
  if (unit === 'ms') return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  const n = Number.isInteger(v) || v >= 10 ? Math.round(v).toLocaleString() : v.toFixed(v < 1 ? 2 : 1);
  return `${n}${unit.startsWith('/') ? ` ${unit}` : unit === 's' ? ' s' : unit === 'h' ? ' h' : ''}`;
}

function ago(ms: number): string {
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

const LABEL: Record<Status, string> = { ok: 'Healthy', degraded: 'Degraded', failed: 'Failed' };

function renderHealth(h: Health): void {
  const pill = $('overall');
  pill.dataset.status = h.status;
  const bad = h.checks.filter((c) => c.status !== 'ok');
  pill.textContent = bad.length ? `${LABEL[h.status]}: ${bad[0]!.name.toLowerCase()}` : LABEL[h.status];
  pill.title = bad.map((c) => `${c.name}: ${c.message}`).join('\n') || 'All checks pass';
  const list = $('checks');
  list.replaceChildren(
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
  const b = $('backup');
  b.replaceChildren(backup ? el('span', { class: `badge ${backup.status}` }, backup.status) : '', ' ', backup ? backup.message : 'no backup information');
}

function renderStatus(s: StatusReport): void {
  const p = s.progress;
  const total = p.done + p.queued;
  const prog = $<HTMLProgressElement>('progress');
  // "Up to date" only when the service says nothing is in hand: its state is 'indexing' whenever
  // files are queued, the extraction pool is busy, watcher changes wait or a rescan is pending,
  // even between two passes (progress.phase 'idle').
  const busy = s.state === 'indexing' || s.state === 'starting' || p.phase !== 'idle' || p.queued > 0;
  prog.max = Math.max(1, total);
  prog.value = busy ? p.done : prog.max;
  prog.dataset.busy = String(busy);
  $('progress-text').textContent = s.paused
    ? `Paused (${s.pausedBecause.join(', ') || 'by you'})`
    : !busy
      ? 'Up to date'
      : s.state === 'starting'
        ? 'Starting…'
        : p.phase === 'idle'
          ? `Catching up: ${p.queued} queued`
          : `${p.phase === 'scanning' ? 'Scanning' : 'Indexing'}: ${p.done} done, ${p.queued} queued, ${p.scanned} found`;
  const item = (label: string, value: string) => el('div', {}, el('dt', {}, label), el('dd', {}, value));
  $('counts').replaceChildren(item('Indexed', s.counts.indexed.toLocaleString()), item('Skipped', s.counts.skipped.toLocaleString()), item('Failed', s.counts.failed.toLocaleString()));
  $('roots').replaceChildren(...s.roots.map((r) => el('li', {}, `${r.path} — ${r.state}${r.lastScanAt ? `, scanned ${ago(Date.parse(r.lastScanAt))}` : ''}`)));
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
  $('alerts').replaceChildren(...(v.active.length ? v.active.map(alertLine) : [el('li', { class: 'muted' }, v.enabled ? 'No active alerts.' : 'Alerts are off (monitoring.enabled is false).')]));
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

const CHARTS: { name: string; label: string }[] = [
  { name: 'search_p95_ms', label: 'Search latency (p95)' },
  { name: 'docs_per_second', label: 'Documents indexed per second' },
  { name: 'queue_depth', label: 'Queue depth' },
  { name: 'rss_bytes', label: 'Memory (RSS)' },
  { name: 'cpu_ratio', label: 'CPU' },
  { name: 'disk_free_bytes', label: 'Free disk space' },
];

function chart(points: [number, number | null][], unit: string, label: string): HTMLElement {
  const W = 300;
  const H = 90;
  const vals = points.filter((p): p is [number, number] => p[1] !== null);
  const latest = vals.length ? vals[vals.length - 1]![1] : null;
  const svg = svgEl('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${label}: ${vals.length ? `latest ${fmtValue(latest, unit)}, peak ${fmtValue(Math.max(...vals.map((v) => v[1])), unit)}` : 'no data yet'}` });
  svg.append(svgEl('line', { class: 'axis', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }));
  if (vals.length >= 2) {
    const t0 = vals[0]![0];
    const t1 = vals[vals.length - 1]![0];
    const max = Math.max(...vals.map((v) => v[1]), unit === 'ratio' ? 0.01 : 1);
    const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * W;
    const y = (v: number) => H - 4 - (v / max) * (H - 14);
    const d = vals.map((v, i) => `${i ? 'L' : 'M'}${x(v[0]).toFixed(1)},${y(v[1]).toFixed(1)}`).join('');
    svg.append(svgEl('path', { class: 'area', d: `${d}L${x(t1).toFixed(1)},${H}L0,${H}Z` }), svgEl('path', { class: 'line', d }));
    const top = svgEl('text', { x: 2, y: 10 });
    top.textContent = fmtValue(max, unit);
    svg.append(top);
  } else if (vals.length === 1) {
    // One sample so far (a service that just started): a dot, not an empty box.
    svg.append(svgEl('circle', { class: 'dot', cx: W - 4, cy: H / 2, r: 3 }));
  }
  return el('figure', {}, el('figcaption', {}, el('span', {}, label), el('strong', {}, fmtValue(latest, unit))), svg);
}

async function refreshCharts(): Promise<void> {
  const ts = await api<Series>(`/api/v1/timeseries?series=${CHARTS.map((c) => c.name).join(',')}&range=${range}&points=200`);
  const box = $('charts');
  if (!ts.enabled) return void box.replaceChildren(el('p', { class: 'muted' }, 'Charts are off (monitoring.enabled is false).'));
  box.replaceChildren(...CHARTS.map((c) => chart(ts.series[c.name] ?? [], ts.units[c.name] ?? '', c.label)));
}

async function refresh(): Promise<void> {
  const [health, status, alerts] = await Promise.all([api<Health>('/api/v1/health'), api<StatusReport>('/api/v1/status'), api<AlertsView>('/api/v1/alerts?history=10')]);
  renderHealth(health);
  renderStatus(status);
  renderAlerts(alerts);
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

async function search(q: string): Promise<void> {
  const status = $('search-status');
  const list = $('results');
  if (!q.trim()) {
    status.textContent = '';
    return void list.replaceChildren();
  }
  status.textContent = 'Searching…';
  try {
    const r = await api<{ total: number; hits: Hit[]; suggestion?: { query: string } }>(`/api/v1/search?q=${encodeURIComponent(q)}&limit=20`);
    status.textContent = r.total === 0 ? 'No documents match.' : `${r.total.toLocaleString()} document${r.total === 1 ? '' : 's'}${r.total > r.hits.length ? `, showing the best ${r.hits.length}` : ''}.`;
    const suggested = r.suggestion?.query;
    if (suggested) {
      // "Did you mean": one click runs the corrected query.
      const link = el('button', { type: 'button', class: 'link', id: 'did-you-mean' }, suggested);
      link.addEventListener('click', () => {
        ($('search-input') as HTMLInputElement).value = suggested;
        search(suggested).catch(handle);
      });
      status.append(' Did you mean ', link, '?');
    }
    list.replaceChildren(
      ...r.hits.map((h) =>
        el('li', {}, el('div', { class: 'title' }, h.title), el('div', { class: 'path' }, `${h.path} · ${fmtBytes(h.size)} · ${h.mtime.slice(0, 10)}`), el('p', { class: 'snippet' }, ...snippetNodes(h.snippet))),
      ),
    );
  } catch (e) {
    if (e instanceof SignedOut) throw e;
    status.textContent = (e as Error).message;
    list.replaceChildren();
  }
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

async function start(): Promise<void> {
  try {
    csrf = (await api<{ csrf: string | null }>('/api/v1/session')).csrf;
  } catch (e) {
    return handle(e);
  }
  $('app').hidden = false;
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search(($('search-input') as HTMLInputElement).value).catch(handle);
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>('#ranges button')) {
    b.addEventListener('click', () => {
      range = b.dataset.range ?? '1h';
      for (const o of document.querySelectorAll<HTMLButtonElement>('#ranges button')) o.setAttribute('aria-pressed', String(o === b));
      refreshCharts().catch(handle);
    });
  }
  await Promise.all([refresh(), refreshCharts()]).catch(handle);
  let n = 0;
  timer = window.setInterval(() => {
    if (document.hidden) return;
    refresh().catch(handle);
    if (++n % 3 === 0) refreshCharts().catch(handle);
  }, 5000);
}

void start();
