import { api, type Series } from './api.js';
import { $, el, svgEl } from './dom.js';
import { fmtValue, timeTicks } from './format.js';

/** Charts of the time series: a time axis, the unit on the value axis, and words when empty. */

export const CHARTS: { name: string; label: string }[] = [
  { name: 'search_p95_ms', label: 'Search latency (p95)' },
  { name: 'docs_per_second', label: 'Documents indexed per second' },
  { name: 'queue_depth', label: 'Files waiting (queue depth)' },
  { name: 'rss_bytes', label: 'Memory (RSS)' },
  { name: 'cpu_ratio', label: 'CPU' },
  { name: 'disk_free_bytes', label: 'Free disk space' },
];

let range = '1h';
const RANGE_SECONDS: Record<string, number> = { '15m': 900, '1h': 3600, '24h': 86_400, '7d': 7 * 86_400, '90d': 90 * 86_400 };
const RANGE_WORDS: Record<string, string> = { '15m': '15 minutes', '1h': 'hour', '24h': '24 hours', '7d': '7 days', '90d': '90 days' };

export function initCharts(onError: (e: unknown) => void): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('#ranges button')) {
    b.addEventListener('click', () => {
      range = b.dataset.range ?? '1h';
      for (const o of document.querySelectorAll<HTMLButtonElement>('#ranges button')) o.setAttribute('aria-pressed', String(o === b));
      refreshCharts().catch(onError);
    });
  }
}

const UNIT_WORDS: Record<string, string> = { ms: 'milliseconds', B: 'bytes', ratio: 'share of one core', '/s': 'per second' };

function chart(points: [number, number | null][], unit: string, label: string, name: string): HTMLElement {
  const W = 300;
  const H = 110;
  const L = 4;
  const B = 16; // room for the time labels
  const vals = points.filter((p): p is [number, number] => p[1] !== null);
  const latest = vals.length ? vals[vals.length - 1]![1] : null;
  const empty = vals.length === 0 ? (points.length === 0 ? `No samples in the last ${RANGE_WORDS[range] ?? range}: the service was not running or monitoring had not started.` : `No ${label.toLowerCase()} was recorded in the last ${RANGE_WORDS[range] ?? range}${name === 'search_p95_ms' ? ' (no searches were made)' : ''}.`) : null;
  const svg = svgEl('svg', {
    class: 'chart',
    viewBox: `0 0 ${W} ${H}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': `${label}${UNIT_WORDS[unit] ? ` in ${UNIT_WORDS[unit]}` : ''} over the last ${RANGE_WORDS[range] ?? range}: ${vals.length ? `latest ${fmtValue(latest, unit)}, peak ${fmtValue(Math.max(...vals.map((v) => v[1])), unit)}` : 'no data'}`,
  });
  svg.append(svgEl('line', { class: 'axis', x1: L, y1: H - B + 0.5, x2: W, y2: H - B + 0.5 }));
  if (vals.length >= 1) {
    // The axis spans the whole range asked for, so a service that started recently draws at the right.
    const t1 = Math.max(points[points.length - 1]![0], Math.floor(Date.now() / 1000));
    const t0 = Math.min(points[0]![0], t1 - (RANGE_SECONDS[range] ?? 3600));
    const max = Math.max(...vals.map((v) => v[1]), unit === 'ratio' ? 0.01 : 1);
    const x = (t: number) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - 2);
    const y = (v: number) => H - B - 2 - (v / max) * (H - B - 14);
    if (vals.length >= 2) {
      const d = vals.map((v, i) => `${i ? 'L' : 'M'}${x(v[0]).toFixed(1)},${y(v[1]).toFixed(1)}`).join('');
      svg.append(svgEl('path', { class: 'area', d: `${d}L${x(vals[vals.length - 1]![0]).toFixed(1)},${H - B}L${x(vals[0]![0]).toFixed(1)},${H - B}Z` }), svgEl('path', { class: 'line', d }));
    } else svg.append(svgEl('circle', { class: 'dot', cx: x(vals[0]![0]), cy: y(vals[0]![1]), r: 3 }));
    const top = svgEl('text', { x: L + 2, y: 10 });
    top.textContent = `max ${fmtValue(max, unit)}`;
    svg.append(top);
    for (const [i, tick] of timeTicks(t0, t1, 3).entries()) {
      const t = svgEl('text', { x: i === 0 ? L : i === 2 ? W - 2 : (L + W) / 2, y: H - 3, 'text-anchor': i === 0 ? 'start' : i === 2 ? 'end' : 'middle' });
      t.textContent = tick.label;
      svg.append(t);
    }
  }
  return el('figure', { 'data-series': name }, el('figcaption', {}, el('span', {}, label), el('strong', {}, fmtValue(latest, unit))), svg, empty ? el('p', { class: 'empty muted' }, empty) : null);
}

export async function refreshCharts(): Promise<void> {
  const ts = await api<Series>(`/api/v1/timeseries?series=${CHARTS.map((c) => c.name).join(',')}&range=${range}&points=200`);
  const box = $('charts');
  if (!ts.enabled) return void box.replaceChildren(el('p', { class: 'muted' }, 'Charts are off: monitoring is turned off in the settings.'));
  box.replaceChildren(...CHARTS.map((c) => chart(ts.series[c.name] ?? [], ts.units[c.name] ?? '', c.label, c.name)));
}
