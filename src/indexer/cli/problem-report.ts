import type { ProblemFile } from '../../shared/api.js';
import { reasonText } from '../../shared/problem-reasons.js';

/** A group of files not indexed, as `owlet errors` and the index summary word it. */
export interface ProblemGroupView {
  status: 'skipped' | 'failed';
  reason: string;
  count: number;
}

/** What each reason means, briefly (the same words as the dashboard's, from shared/problem-reasons.ts). */
export function reasonWords(reason: string): string {
  return reasonText(reason).meaning;
}

/**
 * `owlet errors`, human form: counts by reason first (failures, then the largest groups), then
 * the files of each group with their own messages.
 */
export function formatProblems(groups: readonly ProblemGroupView[], files: readonly ProblemFile[], total = files.length): string[] {
  if (groups.length === 0) return ['No skipped or failed files.'];
  const sum = groups.reduce((n, g) => n + g.count, 0);
  const width = String(Math.max(...groups.map((g) => g.count))).length;
  const lines = [`${sum} file${sum === 1 ? '' : 's'} not indexed:`];
  for (const g of groups) lines.push(`  ${String(g.count).padStart(width)}  ${g.status.padEnd(7)} ${g.reason.padEnd(12)} ${reasonWords(g.reason)}`);
  for (const g of groups) {
    const of = files.filter((f) => f.status === g.status && f.reason === g.reason);
    if (of.length === 0) continue;
    lines.push('', `${g.status} ${g.reason} (${g.count}):`);
    for (const f of of) lines.push(`  ${f.path}`, `      ${f.message}`);
  }
  if (total < sum) lines.push('', `(${total} of ${sum} files listed; --limit N shows more)`);
  return lines;
}

/**
 * The end-of-index line about files not indexed: skipped files are named by what they are (a
 * normal folder holds binaries and files without an extractor); only failures send the user to
 * `owlet errors`.
 */
export function summaryOfProblems(groups: readonly ProblemGroupView[]): string[] {
  const skipped = groups.filter((g) => g.status === 'skipped');
  const failed = groups.filter((g) => g.status === 'failed');
  const lines: string[] = [];
  if (skipped.length) lines.push(`Not documents Owlet reads (skipped): ${skipped.map((g) => `${g.count} ${g.reason}`).join(', ')}.`);
  if (failed.length) {
    const n = failed.reduce((s, g) => s + g.count, 0);
    lines.push(`${n} file${n === 1 ? '' : 's'} could not be indexed (${failed.map((g) => `${g.count} ${g.reason}`).join(', ')}): see "owlet errors".`);
  }
  return lines;
}
