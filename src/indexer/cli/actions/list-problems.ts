import type { ProblemFile } from '../../../shared/api.js';
import { resolveDataDir } from '../../config/paths.js';
import { openIndex } from '../../service/context.js';
import { problemOf } from '../../service/service.js';
import { formatProblems, type ProblemGroupView } from '../problem-report.js';
import type { Io } from '../io.js';

/** `owlet errors`: the files not indexed, grouped by reason, read from the index on disk. */
export function listProblems(o: { dataDir?: string; json?: boolean; limit: number }, io: Io): void {
  const ctx = openIndex(resolveDataDir(o.dataDir), { readonly: true });
  let files: ProblemFile[];
  let groups: ProblemGroupView[];
  try {
    groups = ctx.store.problemGroups();
    files = ctx.store.problems(o.limit, 0).map(problemOf);
  } finally {
    ctx.close();
  }
  if (o.json) return io.out(JSON.stringify({ groups, files }));
  for (const l of formatProblems(groups, files)) io.out(l);
}
