import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, clock, fmtBytes, indexingText, pageRange, pauseUntil, shortenMiddle, timeTicks, withFilters } from '../../src/renderer/format.js';

test('long paths are shortened in the middle, keeping the file name and never passing the limit', () => {
  const p = '/home/ann/Documents/projects/2024/customers/very-long-folder-name/quarterly-report-final.pdf';
  const s = shortenMiddle(p, 50);
  assert.ok(s.length <= 50, s);
  assert.ok(s.startsWith('/home/'), s);
  assert.ok(s.endsWith('/quarterly-report-final.pdf'), s);
  assert.ok(s.includes('…'));
  assert.equal(shortenMiddle('/short/path.txt', 50), '/short/path.txt');
  // A file name longer than the limit: cut in the middle of everything.
  const long = shortenMiddle(`/a/${'x'.repeat(100)}.txt`, 30);
  assert.equal(long.length, 30);
  assert.ok(long.endsWith('.txt'));
  assert.equal(shortenMiddle('C:\\Users\\ann\\Documents\\deep\\deeper\\deepest\\file.docx', 30).endsWith('\\file.docx'), true);
});

test('filters become query-language filters appended to what was typed', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  assert.equal(withFilters('owl report', '', '', now), 'owl report');
  assert.equal(withFilters(' owl ', 'pdf', '', now), 'owl ext:pdf');
  assert.equal(withFilters('owl', 'word', 'week', now), 'owl ext:docx ext:odt ext:rtf after:2026-11-25');
  assert.equal(withFilters('', 'text', '', now), 'ext:txt ext:md');
  assert.equal(withFilters('owl', 'unknown-type', 'unknown-date', now), 'owl');
});

test('page ranges, sizes and ages read as a person would say them', () => {
  assert.equal(pageRange(0, 20, 57), '1–20 of 57');
  assert.equal(pageRange(2, 20, 57), '41–57 of 57');
  assert.equal(pageRange(0, 20, 0), '0');
  assert.equal(fmtBytes(1536), '1.5 KB');
  assert.equal(fmtBytes(12), '12 B');
  assert.equal(ago(0, 30_000), '30 s ago');
  assert.equal(ago(0, 3 * 86_400_000), '3 days ago');
});

test('chart time ticks span the range: clock times within two days, dates beyond', () => {
  const t0 = Date.parse('2026-12-02T10:00:00') / 1000;
  const ticks = timeTicks(t0, t0 + 3600, 3);
  assert.deepEqual(ticks.map((t) => t.label), ['10:00', '10:30', '11:00']);
  const days = timeTicks(t0, t0 + 7 * 86_400, 2);
  assert.deepEqual(days.map((t) => t.label), ['2 Dec', '9 Dec']);
});

test('the Indexing card never says "Up to date" while work is in hand, and says what is left', () => {
  const idle = { state: 'idle', paused: false, pausedBecause: [] as string[], progress: { phase: 'idle', scanned: 10, queued: 0, done: 10 }, roots: [{ path: '/r', state: 'online', lastScanAt: null }] };
  assert.deepEqual(indexingText(idle), { text: 'Up to date', busy: false });
  assert.equal(indexingText({ ...idle, state: 'indexing' }).busy, true, 'the service says indexing (pool busy, changes waiting) even between passes');
  assert.equal(indexingText({ ...idle, state: 'indexing', progress: { ...idle.progress, queued: 2 } }).text, 'Catching up: 2 queued');
  assert.equal(indexingText({ ...idle, state: 'indexing', progress: { phase: 'indexing', scanned: 1200, queued: 1150, done: 50 } }).text, 'Indexing: 50 done, 1,150 files left, 1,200 found');
  assert.equal(indexingText({ ...idle, state: 'paused', paused: true, pausedBecause: ['battery'], progress: { ...idle.progress, queued: 7 } }).text, 'Paused (on battery power): 7 files left');
  assert.equal(indexingText({ ...idle, roots: [] }).text, 'No folders yet: add one to start indexing.');
});

test('a timed pause ends in an hour or tomorrow at 08:00, and the card says until when', () => {
  const now = new Date(2026, 11, 2, 22, 30).getTime();
  assert.equal(pauseUntil('', now), null);
  assert.equal(pauseUntil('1h', now), now + 3_600_000);
  assert.equal(pauseUntil('tomorrow', now), new Date(2026, 11, 3, 8, 0).getTime());
  assert.equal(clock(new Date(2026, 11, 2, 23, 5).getTime(), now), '23:05');
  assert.equal(clock(new Date(2026, 11, 3, 8, 0).getTime(), now), 'Thu 08:00');
  const s = { state: 'paused', paused: true, pausedBecause: ['user'], pausedUntil: new Date(Date.now() + 60_000).toISOString(), progress: { phase: 'idle', scanned: 0, queued: 0, done: 0 }, roots: [{ path: '/r', state: 'online', lastScanAt: null }] };
  assert.match(indexingText(s).text, /^Paused \(by you until (\w{3} )?\d\d:\d\d\)$/);
});
