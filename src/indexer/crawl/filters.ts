import picomatch from 'picomatch';

/**
 * Include/exclude rules. An exclude glob matches either a base name (`node_modules`, `*.tmp`) or a
 * root-relative path (`build/**`); include globs match root-relative paths. Paths use '/'.
 */
export interface PathFilter {
  excluded(relPath: string, baseName: string): boolean;
  included(relPath: string): boolean;
}

export function createPathFilter(exclude: readonly string[], include: readonly string[]): PathFilter {
  const opts = { dot: true, nocase: process.platform !== 'linux' };
  const ex = exclude.length ? picomatch([...exclude], opts) : () => false;
  const inc = include.length ? picomatch([...include], opts) : () => true;
  return {
    excluded: (rel, base) => ex(base) || ex(rel),
    included: (rel) => inc(rel),
  };
}

/** Lower-case extension without the dot; '' when there is none. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 || dot === name.length - 1 ? '' : name.slice(dot + 1).toLowerCase();
}
