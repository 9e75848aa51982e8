import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TreeInfo {
  files: number;
  bytes: number;
  /** Count and bytes per lower-case extension ('' for none). */
  byExt: Record<string, { files: number; bytes: number }>;
}

/** Regular files under `dir` (no symlink following), skipping the corpus marker `.complete`. */
export function walkFiles(dir: string, onFile?: (abs: string, size: number) => void): TreeInfo {
  const info: TreeInfo = { files: 0, bytes: 0, byExt: {} };
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const abs = path.join(d, e.name);
      if (e.isDirectory()) stack.push(abs);
      else if (e.isFile() && !(d === dir && e.name === '.complete')) {
        let size = 0;
        try {
          size = fs.statSync(abs).size;
        } catch {
          continue;
        }
        info.files++;
        info.bytes += size;
        const ext = path.extname(e.name).slice(1).toLowerCase();
        const x = (info.byExt[ext] ??= { files: 0, bytes: 0 });
        x.files++;
        x.bytes += size;
        onFile?.(abs, size);
      }
    }
  }
  return info;
}

/** Total bytes of the regular files under `p` (a file or a folder); 0 if missing. */
export function diskBytes(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  let total = 0;
  for (const e of fs.readdirSync(p)) total += diskBytes(path.join(p, e));
  return total;
}

export function fileBytes(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

export function makeTmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 });
}
