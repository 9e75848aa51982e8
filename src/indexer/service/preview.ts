import fs from 'node:fs';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';
import type { DocumentStore } from '../store/documents.js';

export const PREVIEW_CHARS = 2048;

export interface DocumentPreview {
  path: string;
  title: string | null;
  /** The first PREVIEW_CHARS characters of the stored text (never read from the file itself). */
  text: string;
  truncated: boolean;
  size: number;
  mtime: string;
}

/**
 * The rule for anything that returns a file's content: only documents of the index, only under
 * the configured roots once every symlink is resolved. A request path is refused before any file
 * system access if it is relative, holds `..` segments, a NUL, or percent-escapes left over after
 * the URL was decoded once (double encoding: `%252e%252e` arrives as `%2e%2e`).
 */
export function checkRequestedPath(requested: string): void {
  if (requested.length === 0 || requested.length > 4096) throw owletError('OWL_ERR_ARG_INVALID', { reason: 'path: must be 1 to 4096 characters' });
  if (requested.includes('\0')) throw owletError('OWL_ERR_ARG_INVALID', { reason: 'path: must not contain NUL' });
  if (/%(2e|2f|5c|25|00)/i.test(requested)) throw owletError('OWL_ERR_ARG_INVALID', { reason: 'path: encoded separators or dots are refused (send the path URL-encoded once)' });
  if (!path.isAbsolute(requested)) throw owletError('OWL_ERR_ARG_INVALID', { reason: 'path: must be absolute' });
  if (requested.split(/[\\/]/).some((seg) => seg === '..')) throw owletError('OWL_ERR_ARG_INVALID', { reason: 'path: ".." segments are refused' });
}

function realOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

export function insideRoot(real: string, roots: readonly string[]): boolean {
  return roots.some((root) => {
    const rel = path.relative(root, real);
    return rel === '' ? false : !rel.startsWith('..') && !path.isAbsolute(rel);
  });
}

/** The one wording for a path that is not a document of the index (missing, or never indexed). */
const notIndexed = () => owletError('OWL_ERR_NOT_FOUND', { reason: 'path: no such indexed document' });

export function previewDocument(store: DocumentStore, roots: readonly string[], requested: string, maxChars = PREVIEW_CHARS): DocumentPreview {
  checkRequestedPath(requested);
  const realRoots = roots.map((r) => realOrNull(path.resolve(r))).filter((r): r is string => r !== null);
  let real: string;
  try {
    real = fs.realpathSync(requested);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw owletError('OWL_ERR_PATH_FORBIDDEN', { reason: 'not readable' });
    throw notIndexed();
  }
  if (!insideRoot(real, realRoots)) throw owletError('OWL_ERR_PATH_FORBIDDEN', { reason: 'outside the indexed folders' });
  // Stored paths are as crawled: under a root named through a symlink they differ from the real path.
  const state = store.stateOf(real) ?? store.stateOf(path.normalize(requested));
  if (!state || state.status !== 'indexed') throw notIndexed();
  const row = store.get(state.id);
  let text = '';
  for (const passage of store.passages(state.id)) {
    text += passage;
    if (text.length > maxChars) break;
  }
  return {
    path: real,
    title: row?.title ?? null,
    text: text.slice(0, maxChars),
    truncated: text.length > maxChars,
    size: state.size,
    mtime: new Date(state.mtimeMs).toISOString(),
  };
}
