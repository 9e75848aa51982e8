import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblems, summaryOfProblems } from '../../../src/indexer/cli/problem-report.js';
import type { ProblemFile } from '../../../src/shared/api.js';

const file = (p: string, status: 'skipped' | 'failed', reason: string, message = `${reason} message`): ProblemFile => ({ path: p, status, reason, message, size: 1, mtime: '2026-12-02T00:00:00.000Z' });

test('owlet errors: counts by reason come first (failures, then the largest groups), then each group lists its files', () => {
  const groups = [
    { status: 'failed' as const, reason: 'parse-error', count: 2 },
    { status: 'skipped' as const, reason: 'binary', count: 150 },
    { status: 'skipped' as const, reason: 'unsupported', count: 39 },
  ];
  const files = [file('/r/a.pdf', 'failed', 'parse-error'), file('/r/b.docx', 'failed', 'parse-error'), file('/r/blob', 'skipped', 'binary'), file('/r/x.jpg', 'skipped', 'unsupported')];
  const lines = formatProblems(groups, files);
  assert.deepEqual(lines.slice(0, 4), [
    '191 files not indexed:',
    '    2  failed  parse-error  damaged, or uses features the extractor cannot read',
    '  150  skipped binary       binary content, not text',
    '   39  skipped unsupported  a kind of file Owlet has no extractor for',
  ]);
  assert.deepEqual(lines.slice(4, 10), ['', 'failed parse-error (2):', '  /r/a.pdf', '      parse-error message', '  /r/b.docx', '      parse-error message']);
  assert.equal(lines.at(-1), '(4 of 191 files listed; --limit N shows more)');
  assert.deepEqual(formatProblems([], []), ['No skipped or failed files.']);
});

test('index summary: skipped files are named by what they are; only failures point at "owlet errors"', () => {
  assert.deepEqual(summaryOfProblems([{ status: 'skipped', reason: 'binary', count: 150 }, { status: 'skipped', reason: 'unsupported', count: 39 }]), [
    'Not documents Owlet reads (skipped): 150 binary, 39 unsupported.',
  ]);
  assert.deepEqual(summaryOfProblems([{ status: 'failed', reason: 'parse-error', count: 1 }]), ['1 file could not be indexed (1 parse-error): see "owlet errors".']);
  assert.deepEqual(summaryOfProblems([]), []);
});
