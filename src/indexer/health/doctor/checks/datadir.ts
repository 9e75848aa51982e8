import fs from 'node:fs';
import path from 'node:path';
import { inspectDataDir } from '../../../security/data-dir-guard.js';
import type { DoctorCheck, DoctorFinding } from '../types.js';

const uidOf = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

/** What each chmod finding of one inspection changes (kept beside the finding, not in its JSON). */
const targets = new WeakMap<DoctorFinding, { path: string; folder: boolean }>();

/**
 * The data folder and every folder in it: exists, real folders, ours, 0700 (the service refuses to
 * start otherwise); files in it: no symlinks, ours, writable by us only; and we can write there.
 * Without a data folder nothing else can be checked.
 */
export const datadirCheck: DoctorCheck = {
  id: 'datadir',
  inspect(ctx) {
    const { dataDir } = ctx;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dataDir);
    } catch {
      ctx.stop = true;
      return [{ id: 'datadir', name: 'Data directory', status: 'failed', message: `there is no Owlet data directory at ${dataDir}`, remedy: 'index a folder with "owlet index --root DIR", or pass the right --data-dir' }];
    }
    const out: DoctorFinding[] = [];
    const uid = ctx.deps.uid === undefined ? uidOf() : ctx.deps.uid;
    const problems = st.isDirectory() ? inspectDataDir(dataDir, { uid }) : [];
    if (!st.isDirectory()) out.push({ id: 'datadir', name: 'Data directory', status: 'failed', message: `${dataDir} is not a folder`, remedy: 'move that file away or pass another --data-dir' });
    for (const p of problems) {
      const rel = path.relative(dataDir, p.path);
      const f: DoctorFinding = { id: rel ? `datadir:${rel}` : 'datadir', name: rel ? `Data directory: ${rel}` : 'Data directory', status: 'failed', message: `${p.message}; the service refuses to start`, remedy: p.fix };
      if (p.kind === 'mode') {
        const folder = fs.lstatSync(p.path).isDirectory();
        const chmod: DoctorFinding = { ...f, fix: folder ? `restrict ${p.path} to its owner (chmod 700)` : `make ${p.path} writable by its owner only (chmod 600)` };
        targets.set(chmod, { path: p.path, folder });
        out.push(chmod);
      } else out.push(f);
    }
    if (st.isDirectory() && problems.length === 0) {
      try {
        const probe = path.join(dataDir, `.doctor-probe-${process.pid}`);
        fs.writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
        fs.unlinkSync(probe);
        out.push({ id: 'datadir', name: 'Data directory', status: 'ok', message: `${dataDir} and every folder in it private (mode ${(st.mode & 0o777).toString(8)}), owned by you, no symlinks; writable` });
      } catch (e) {
        out.push({ id: 'datadir', name: 'Data directory', status: 'failed', message: `${dataDir} is not writable: ${(e as Error).message}`, remedy: 'free space on that disk or fix its permissions' });
      }
    }
    return out;
  },
  fix: {
    async each(finding) {
      const t = targets.get(finding);
      if (!t) throw new Error(`no permission change is known for ${finding.id}`);
      fs.chmodSync(t.path, t.folder ? 0o700 : 0o600);
      return `changed ${t.path} to mode ${t.folder ? '700' : '600'}`;
    },
  },
};
