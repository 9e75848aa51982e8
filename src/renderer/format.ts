import type { StatusReport } from './api.js';

/**
 * Pure formatting and query helpers of the dashboard: no DOM, so tests run them under Node.
 */

export function fmtBytes(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(n >= 10 || i === 0 ? 0 : 1)} ${u[i]}`;
}

export function fmtValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined) return '–';
  if (unit === 'B') return fmtBytes(v);
  if (unit === 'ratio') return `${(v * 100).toFixed(1)} %`;
  if (unit === 'ms') return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
  const n = Number.isInteger(v) || v >= 10 ? Math.round(v).toLocaleString('en') : v.toFixed(v < 1 ? 2 : 1);
  return `${n}${unit.startsWith('/') ? ` ${unit}` : unit === 's' ? ' s' : unit === 'h' ? ' h' : ''}`;
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/**
 * A long path shortened in the middle so both the start (which drive or folder) and the end (the
 * file name) stay readable: "/home/ann/…/2024/report.pdf". Never longer than `max` characters.
 */
export function shortenMiddle(p: string, max = 60): string {
  if (p.length <= max) return p;
  if (max < 5) return p.slice(0, max);
  const sep = p.includes('\\') && !p.includes('/') ? '\\' : '/';
  const name = p.slice(p.lastIndexOf(sep) + 1);
  // The file name is kept whole when it fits with a little of the start; else cut in the middle of all.
  const keepEnd = name.length + 1 <= max - 8 ? name.length + 1 : Math.floor((max - 1) / 2);
  const keepStart = max - 1 - keepEnd;
  return `${p.slice(0, keepStart)}…${p.slice(p.length - keepEnd)}`;
}

/** File types of the search filter, each a list of extensions (several ext: filters mean any of them). */
export const TYPE_FILTERS: Readonly<Record<string, { label: string; exts: readonly string[] }>> = {
  pdf: { label: 'PDF', exts: ['pdf'] },
  word: { label: 'Word and text documents', exts: ['docx', 'odt', 'rtf'] },
  text: { label: 'Plain text and Markdown', exts: ['txt', 'md'] },
  web: { label: 'Web pages', exts: ['html', 'htm'] },
  sheet: { label: 'Spreadsheets and CSV', exts: ['xlsx', 'ods', 'csv'] },
  slides: { label: 'Presentations', exts: ['pptx', 'odp'] },
  mail: { label: 'E-mail and e-books', exts: ['eml', 'epub'] },
};

/** Date filter choices: modified within the last N days. */
export const DATE_FILTERS: Readonly<Record<string, { label: string; days: number }>> = {
  week: { label: 'Past week', days: 7 },
  month: { label: 'Past month', days: 31 },
  year: { label: 'Past year', days: 366 },
};

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The query sent to the service: what the person typed plus the chosen filters in the query
 * language (`ext:`, `after:`). Filters the person typed themselves stay as typed.
 */
export function withFilters(typed: string, type: string, date: string, now = Date.now()): string {
  const parts = [typed.trim()];
  const t = TYPE_FILTERS[type];
  if (t) parts.push(...t.exts.map((e) => `ext:${e}`));
  const d = DATE_FILTERS[date];
  if (d) parts.push(`after:${isoDay(now - d.days * 86_400_000)}`);
  return parts.filter(Boolean).join(' ');
}

/** "21–40 of 57": the range shown on a page of `size` results. */
export function pageRange(page: number, size: number, total: number): string {
  if (total === 0) return '0';
  const first = page * size + 1;
  const last = Math.min(total, (page + 1) * size);
  return `${first.toLocaleString('en')}–${last.toLocaleString('en')} of ${total.toLocaleString('en')}`;
}

/** Time labels for a chart's x axis: `count` evenly spaced ticks from t0 to t1 (epoch seconds). */
export function timeTicks(t0: number, t1: number, count = 3): { t: number; label: string }[] {
  const span = Math.max(1, t1 - t0);
  const out: { t: number; label: string }[] = [];
  for (let i = 0; i < count; i++) {
    const t = t0 + (span * i) / Math.max(1, count - 1);
    const d = new Date(t * 1000);
    const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    out.push({ t, label: span > 2 * 86_400 ? `${d.getDate()} ${d.toLocaleString('en', { month: 'short' })}` : hm });
  }
  return out;
}

const PAUSE_WORDS: Record<string, string> = { user: 'by you', battery: 'on battery power', 'disk-full': 'the disk is full' };

/** The Indexing card tells the truth: "Up to date" only when the service has no work in hand. */
export function indexingText(s: Pick<StatusReport, 'state' | 'paused' | 'pausedBecause' | 'pausedUntil' | 'progress' | 'roots'>): { text: string; busy: boolean } {
  const p = s.progress;
  if (s.roots.length === 0 && s.state !== 'starting') return { text: 'No folders yet: add one to start indexing.', busy: false };
  // The service's state is 'indexing' whenever files are queued, the extraction pool is busy,
  // watcher changes wait or a rescan is pending, even between two passes (phase 'idle').
  const busy = s.state === 'indexing' || s.state === 'starting' || p.phase !== 'idle' || p.queued > 0;
  const left = p.queued;
  const text = s.paused
    ? `Paused (${s.pausedBecause.map((r) => PAUSE_WORDS[r] ?? r).join(', ') || 'by you'}${s.pausedUntil ? ` until ${clock(Date.parse(s.pausedUntil))}` : ''})${left ? `: ${left.toLocaleString('en')} files left` : ''}`
    : !busy
      ? 'Up to date'
      : s.state === 'starting'
        ? 'Starting…'
        : p.phase === 'idle'
          ? `Catching up: ${left} queued`
          : `${p.phase === 'scanning' ? 'Scanning' : 'Indexing'}: ${p.done.toLocaleString('en')} done, ${left.toLocaleString('en')} files left, ${p.scanned.toLocaleString('en')} found`;
  return { text, busy };
}


/** "14:05", or "Thu 08:00" when not today. */
export function clock(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return new Date(now).toDateString() === d.toDateString() ? hm : `${d.toLocaleString('en', { weekday: 'short' })} ${hm}`;
}

/** When a timed pause ends: in an hour, or tomorrow at 08:00 local time; null: until resumed. */
export function pauseUntil(choice: string, now = Date.now()): number | null {
  if (choice === '1h') return now + 3_600_000;
  if (choice === 'tomorrow') {
    const d = new Date(now);
    d.setDate(d.getDate() + 1);
    d.setHours(8, 0, 0, 0);
    return d.getTime();
  }
  return null;
}
