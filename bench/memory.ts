/**
 * Memory of the service's process tree (issue #14): `owlet serve` indexes the corpus into a fresh
 * data folder while /proc is sampled every 100 ms; then it is left alone and sampled again after
 * `idleS` seconds. Both are reported per process (the service, each extraction worker), because
 * "the tree" hides whether the service or a worker holds the memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { memOf, processTree } from './lib/proc.js';
import { round } from './lib/stats.js';
import { OWLET_BIN, owletEnv, startServe } from './owlet.js';

export interface ProcessMemory {
  pid: number;
  role: string;
  /** Highest VmHWM seen (kernel-tracked peak resident set), MB. */
  peakMb: number;
  /** VmRSS at the last sample it was alive in, MB. */
  lastMb: number;
}

export interface MemoryProfile {
  /** The launcher measured (bin/owlet.js of this build, or --compare-bin). */
  bin: string;
  /** Node flags the service ran with (the hosts' SERVICE_EXEC_ARGV of that build). */
  execArgv: string[];
  /** GLIBC_TUNABLES the service ran with (the hosts' serviceEnv of that build), or null. */
  glibcTunables: string | null;
  /** config.json the data folder started with (--config-json), or null for the defaults. */
  config: Record<string, unknown> | null;
  ok: boolean;
  error: string | null;
  /** From spawn until the first pass finished. */
  indexWallS: number | null;
  /**
   * CPU seconds (user + system) the tree had used when the first pass finished: the service's own,
   * its exited workers' (reaped children's times) and its live workers'. On a loaded machine this
   * moves far less than the wall time, so it is the figure to compare a change's cost by.
   */
  indexCpuS: number | null;
  /** Highest sum of VmRSS over the tree at one sampling instant, MB. */
  peakTreeMb: number;
  /**
   * Highest sum of Pss (/proc/PID/smaps_rollup) over the tree, sampled once a second, MB: each page
   * shared between processes (the `node` binary's, ~40 MB in every one) counted once in all, so
   * this is what the tree costs the machine; the RSS sum counts the binary once per process.
   * Null where smaps_rollup is unreadable.
   */
  peakTreePssMb: number | null;
  /** Every process the tree had while indexing (workers replaced by recycling show up separately). */
  indexing: ProcessMemory[];
  idleAfterS: number;
  /** The tree `idleAfterS` seconds after the first pass finished, MB. */
  idleTreeMb: number | null;
  idle: ProcessMemory[];
  /** [s since start, tree MB, service MB, processes] every ~1 s. */
  timeline: [number, number, number, number][];
  /**
   * The service's resident memory at the idle sample split by kind (/proc status): `fileMb` is
   * mapped files, mostly the node binary's pages, which every Node process on the machine shares;
   * `anonMb` is the process's own memory (V8's heap, malloc: SQLite's caches).
   */
  idleService: { anonMb: number; fileMb: number } | null;
  /** The service's own log of its idle release (V8's heap before and after, MB), or null if it did not run. */
  idleRelease: { before: Record<string, number>; after: Record<string, number> } | null;
  /**
   * Backups the service ran inside the measured window (a fresh data folder gets a catch-up backup
   * 5 minutes after start, indexing or not): their memory is in the figures, so they are named.
   */
  backups: string[];
}

/** RssAnon and RssFile of a process, MB (null once it is gone). */
function residentKinds(pid: number): { anonMb: number; fileMb: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { anonMb: round(kb('RssAnon') / 1024, 1), fileMb: round((kb('RssFile') + kb('RssShmem')) / 1024, 1) };
  } catch {
    return null;
  }
}

/** utime + stime (+ cutime + cstime with `reaped`) of one process, in clock ticks (USER_HZ, 100 on Linux). */
export function cpuTicksOf(pid: number, reaped: boolean): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return null;
  }
}

/** CPU seconds of a process tree: the root with its reaped children, plus its live descendants. */
export function treeCpuS(root: number): number | null {
  const own = cpuTicksOf(root, true);
  if (own === null) return null;
  let ticks = own;
  for (const pid of processTree(root)) if (pid !== root) ticks += cpuTicksOf(pid, false) ?? 0;
  return round(ticks / 100, 1);
}

/** Proportional set size of a process, bytes (null once it is gone, or without smaps_rollup). */
export function pssOf(pid: number): number | null {
  try {
    const kb = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** What the service logged about its idle release and any backup, from `<dataDir>/logs/service.log`. */
export function serviceLogFacts(dataDir: string): Pick<MemoryProfile, 'idleRelease' | 'backups'> {
  const out: Pick<MemoryProfile, 'idleRelease' | 'backups'> = { idleRelease: null, backups: [] };
  let text = '';
  try {
    text = fs.readFileSync(path.join(dataDir, 'logs', 'service.log'), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let e: { component?: string; msg?: string; reason?: string; before?: Record<string, number>; after?: Record<string, number> };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue;
    }
    if (e.msg === 'idle: released cached memory' && e.before && e.after && !out.idleRelease) out.idleRelease = { before: e.before, after: e.after };
    if (e.component === 'backup' && /^(backup created|scheduled backup failed|backup cancelled)/.test(e.msg ?? '')) out.backups.push(`${e.msg}${e.reason ? ` (${e.reason})` : ''}`);
  }
  return out;
}

function cmdlineOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

/**
 * What a process of the service's tree is, from its command line; null while it is a fork not yet
 * replaced by its own program (`fork()` then `exec()`: for those few milliseconds the child shows
 * the service's command line, or none, and its VmRSS and VmHWM are the service's own pages, shared
 * copy-on-write). Counting such a sample added a second service to the tree's sum and filed a
 * "process" with the service's peak: seen 6 times in one run with 22 worker restarts.
 */
export function roleOf(pid: number, root: number, rootCmd: string, cmd: string | null): string | null {
  if (pid === root) return 'service';
  if (cmd === null || cmd === '' || cmd === rootCmd) return null;
  if (/extract\/worker-main/.test(cmd)) return 'extraction worker';
  return cmd.split(' ').slice(0, 2).join(' ').slice(-60) || 'child';
}

class PerProcessSampler {
  readonly procs = new Map<number, ProcessMemory>();
  peakTree = 0;
  /** Null until a whole tree's Pss could be read. */
  peakTreePss: number | null = null;
  readonly timeline: MemoryProfile['timeline'] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastLine = -Infinity;
  private readonly t0 = performance.now();
  /** The service's command line, which a fork shows until its exec. */
  private rootCmd: string | null = null;
  constructor(private readonly root: number) {}

  sample(): { tree: number; alive: ProcessMemory[] } {
    let tree = 0;
    let main = 0;
    const alive: ProcessMemory[] = [];
    this.rootCmd ??= cmdlineOf(this.root) ?? '';
    for (const pid of processTree(this.root)) {
      let p = this.procs.get(pid);
      if (!p) {
        const role = roleOf(pid, this.root, this.rootCmd, cmdlineOf(pid));
        if (role === null) continue; // not exec'd yet: the service's pages, counted once already
        this.procs.set(pid, (p = { pid, role, peakMb: 0, lastMb: 0 }));
      }
      const m = memOf(pid);
      if (!m) continue;
      p.peakMb = Math.max(p.peakMb, round(m.hwm / 1048576, 1));
      p.lastMb = round(m.rss / 1048576, 1);
      tree += m.rss;
      if (pid === this.root) main = m.rss;
      alive.push({ ...p });
    }
    this.peakTree = Math.max(this.peakTree, tree);
    const s = (performance.now() - this.t0) / 1000;
    if (s - this.lastLine >= 1) {
      this.lastLine = s;
      this.timeline.push([round(s, 1), Math.round(tree / 1048576), Math.round(main / 1048576), alive.length]);
      // Once a second: reading smaps_rollup walks the process's page tables.
      let pss = 0;
      for (const p of alive) {
        const b = pssOf(p.pid);
        if (b === null) return { tree, alive };
        pss += b;
      }
      this.peakTreePss = Math.max(this.peakTreePss ?? 0, pss);
    }
    return { tree, alive };
  }
  start(): this {
    this.timer = setInterval(() => this.sample(), 100);
    return this;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/**
 * The Node flags the hosts (`owlet run`'s supervisor, the Electron app) start the service with,
 * read from the build being measured: the profile is of the service as users run it.
 */
export async function serviceExecArgv(bin: string): Promise<string[]> {
  const runJs = path.join(path.dirname(bin), '..', 'dist', 'indexer', 'host', 'run.js');
  try {
    const m = (await import(pathToFileURL(runJs).href)) as { SERVICE_EXEC_ARGV?: string[] };
    return [...(m.SERVICE_EXEC_ARGV ?? [])];
  } catch {
    return [];
  }
}

/**
 * The environment the hosts start the service with, from the build being measured (its
 * host/launcher.js `serviceEnv`, e.g. glibc malloc settings); a build without one gets the bench's.
 */
export async function serviceEnvOf(bin: string): Promise<NodeJS.ProcessEnv> {
  const launcherJs = path.join(path.dirname(bin), '..', 'dist', 'indexer', 'host', 'launcher.js');
  try {
    const m = (await import(pathToFileURL(launcherJs).href)) as { serviceEnv?: (env: NodeJS.ProcessEnv) => NodeJS.ProcessEnv };
    return m.serviceEnv ? m.serviceEnv(owletEnv()) : owletEnv();
  } catch {
    return owletEnv();
  }
}

export async function memoryProfile(corpus: string, dataDir: string, idleS: number, timeoutMs: number, bin = OWLET_BIN, config: Record<string, unknown> | null = null): Promise<MemoryProfile> {
  const out: MemoryProfile = { bin, execArgv: [], glibcTunables: null, config, ok: false, error: null, indexWallS: null, indexCpuS: null, peakTreeMb: 0, peakTreePssMb: null, indexing: [], idleAfterS: idleS, idleTreeMb: null, idle: [], timeline: [], idleService: null, idleRelease: null, backups: [] };
  let serve: Awaited<ReturnType<typeof startServe>> | null = null;
  let sampler: PerProcessSampler | null = null;
  try {
    // startServe resolves when the first pass is over; the sampler starts as soon as the pid exists.
    out.execArgv = await serviceExecArgv(bin);
    const env = await serviceEnvOf(bin);
    out.glibcTunables = env.GLIBC_TUNABLES ?? null;
    if (config) {
      // Knobs under test (--config-json): the fresh data folder starts with them.
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    }
    const starting = startServe(['--root', corpus, '--data-dir', dataDir], timeoutMs, (pid) => (sampler = new PerProcessSampler(pid).start()), bin, out.execArgv, env);
    serve = await starting;
    const s = sampler as PerProcessSampler | null;
    if (!s) throw new Error('the service started without a pid');
    out.indexWallS = round(serve.startedMs / 1000, 1);
    out.indexCpuS = treeCpuS(serve.proc.pid);
    out.peakTreeMb = round(s.peakTree / 1048576, 1);
    out.peakTreePssMb = s.peakTreePss === null ? null : round(s.peakTreePss / 1048576, 1);
    out.indexing = [...s.procs.values()];
    await new Promise((r) => setTimeout(r, idleS * 1000));
    const idle = s.sample();
    out.idleTreeMb = round(idle.tree / 1048576, 1);
    out.idle = idle.alive.map((p) => ({ ...p }));
    out.idleService = residentKinds(serve.proc.pid);
    out.timeline = s.timeline;
    out.ok = true;
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  } finally {
    (sampler as PerProcessSampler | null)?.stop();
    await serve?.proc.stop('SIGTERM', 30_000);
    await serve?.proc.stop('SIGKILL', 1000);
  }
  Object.assign(out, serviceLogFacts(dataDir));
  return out;
}

export function formatMemory(m: MemoryProfile): string[] {
  if (!m.ok) return [`Memory (owlet serve): not measured: ${m.error}`];
  const per = (ps: ProcessMemory[], key: 'peakMb' | 'lastMb') => {
    const by = new Map<string, number[]>();
    for (const p of ps) by.set(p.role, [...(by.get(p.role) ?? []), p[key]]);
    return [...by].map(([role, v]) => `${role}${v.length > 1 ? ` ×${v.length}` : ''} ${v.length > 1 ? `max ${Math.max(...v)}` : v[0]} MB`).join(', ');
  };
  return [
    `Memory of \`owlet serve\` (${m.bin}${m.execArgv.length ? `, node ${m.execArgv.join(' ')}` : ''}${m.glibcTunables ? `, GLIBC_TUNABLES=${m.glibcTunables}` : ''}${m.config ? `, config ${JSON.stringify(m.config)}` : ''}) indexing the corpus into a fresh folder (first pass ${m.indexWallS} s${m.indexCpuS !== null ? `, ${m.indexCpuS} s CPU` : ''})`,
    `  peak RSS of the tree while indexing: ${m.peakTreeMb} MB  (peak per process: ${per(m.indexing, 'peakMb')})`,
    ...(m.peakTreePssMb !== null ? [`  peak PSS of the tree (shared pages counted once, sampled each second): ${m.peakTreePssMb} MB`] : []),
    `  RSS of the tree ${m.idleAfterS} s after the first pass: ${m.idleTreeMb} MB  (${per(m.idle, 'lastMb')})`,
    ...(m.idleService ? [`  service at idle: ${m.idleService.anonMb} MB its own (anonymous), ${m.idleService.fileMb} MB mapped files (the node binary, shared)`] : []),
    ...(m.idleRelease ? [`  its idle release: V8 heap ${m.idleRelease.before.heapTotalMb} -> ${m.idleRelease.after.heapTotalMb} MB (${m.idleRelease.after.heapUsedMb} MB live), RSS then ${m.idleRelease.before.rssMb} -> ${m.idleRelease.after.rssMb} MB`] : ['  no idle release logged in the window']),
    ...(m.backups.length ? [`  NOTE: backups ran inside the window and are in these figures: ${m.backups.join('; ')}`] : []),
  ];
}
