/**
 * Child processes for the benchmark: bounded (every one has a timeout and is killed with its whole
 * process group), timed by wall clock, and optionally sampled for the resident memory of the
 * whole process tree (the indexer forks extraction workers) by reading /proc every ~100 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

const PAGE_KB = 1024;

/** Every process group we started and have not seen exit, so Ctrl-C / a crash never leaves orphans. */
const live = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Kills every process group this benchmark started and that is still running. */
export function killAllStarted(): void {
  for (const pid of live) killGroup(pid, 'SIGKILL');
  live.clear();
}

// ---------------------------------------------------------------------------------------------
// /proc sampling

const hasChildrenFile = (() => {
  try {
    return fs.existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  } catch {
    return false;
  }
})();

function childrenViaTasks(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const s = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (s) for (const c of s.split(/\s+/)) out.push(Number(c));
    } catch {
      /* task ended */
    }
  }
  return out;
}

/** ppid of every process, from /proc/N/stat (the command may contain spaces and parentheses). */
function parentMap(): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(rest[1]);
      const list = m.get(ppid) ?? [];
      list.push(Number(name));
      m.set(ppid, list);
    } catch {
      /* process ended */
    }
  }
  return m;
}

/** Live (non-zombie) processes in a process group, e.g. workers that outlived the process that started them. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid && rest[0] !== 'Z') out.push(Number(name));
    } catch {
      /* process ended */
    }
  }
  return out;
}

/** The process and all its descendants (breadth first). */
export function processTree(root: number): number[] {
  const seen = new Set<number>([root]);
  const order = [root];
  const byParent = hasChildrenFile ? null : parentMap();
  for (let i = 0; i < order.length; i++) {
    const pid = order[i]!;
    const kids = byParent ? (byParent.get(pid) ?? []) : childrenViaTasks(pid);
    for (const k of kids) {
      if (!seen.has(k)) {
        seen.add(k);
        order.push(k);
      }
    }
  }
  return order;
}

/** VmRSS and VmHWM (peak RSS) of one process in bytes, or null if it is gone or a zombie. */
export function memOf(pid: number): { rss: number; hwm: number } | null {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(s);
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(s);
  if (!rss) return null;
  return { rss: Number(rss[1]) * PAGE_KB, hwm: hwm ? Number(hwm[1]) * PAGE_KB : Number(rss[1]) * PAGE_KB };
}

export interface TreePeak {
  /** Highest sum of VmRSS over the process and its descendants at one sampling instant. */
  peakTreeBytes: number;
  /** Highest VmHWM (kernel-tracked peak RSS) of the main process. */
  peakMainBytes: number;
  /** Highest VmHWM of any single descendant (extraction worker, filter). */
  peakChildBytes: number;
  /** Most processes alive in the tree at one instant. */
  maxProcs: number;
  /** Distinct pids seen in the tree (workers replaced after a crash or memory cap show up here). */
  distinctPids: number;
  /** CPU seconds (user + system) of the tree, from the last sample of each process (may miss its last ≤ 100 ms). */
  cpuS: number;
  samples: number;
  intervalMs: number;
  /** [ms since start, tree RSS MB, main RSS MB, processes] every ~500 ms. */
  timeline: [number, number, number, number][];
}

/** utime + stime of one process in clock ticks, or null. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) ... utime(11) stime(12)
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Linux reports CPU times in USER_HZ, 100 on every mainstream architecture. */
const CLK_TCK = 100;

/** Samples a process tree's memory every `intervalMs` until stopped. */
export class TreeSampler {
  private timer: NodeJS.Timeout | null = null;
  private peak: TreePeak;
  private readonly ticks = new Map<number, number>();
  private readonly t0 = Date.now();
  private lastTimeline = -Infinity;

  constructor(private readonly root: number, private readonly intervalMs = 100) {
    this.peak = { peakTreeBytes: 0, peakMainBytes: 0, peakChildBytes: 0, maxProcs: 0, distinctPids: 0, cpuS: 0, samples: 0, intervalMs, timeline: [] };
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample(): void {
    const tree = processTree(this.root);
    let total = 0;
    let main = 0;
    let alive = 0;
    for (const pid of tree) {
      const m = memOf(pid);
      if (!m) continue;
      alive++;
      const t = cpuTicks(pid);
      if (t !== null) this.ticks.set(pid, Math.max(t, this.ticks.get(pid) ?? 0));
      total += m.rss;
      if (pid === this.root) main = m.rss;
      if (pid === this.root) this.peak.peakMainBytes = Math.max(this.peak.peakMainBytes, m.hwm);
      else this.peak.peakChildBytes = Math.max(this.peak.peakChildBytes, m.hwm);
    }
    if (alive === 0) return;
    this.peak.samples++;
    this.peak.maxProcs = Math.max(this.peak.maxProcs, alive);
    this.peak.peakTreeBytes = Math.max(this.peak.peakTreeBytes, total);
    const now = Date.now() - this.t0;
    if (now - this.lastTimeline >= 500) {
      this.lastTimeline = now;
      this.peak.timeline.push([now, Math.round(total / 1048576), Math.round(main / 1048576), alive]);
    }
  }

  stop(): TreePeak {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let ticks = 0;
    for (const t of this.ticks.values()) ticks += t;
    return { ...this.peak, distinctPids: this.ticks.size, cpuS: Math.round((ticks / CLK_TCK) * 10) / 10 };
  }
}

// ---------------------------------------------------------------------------------------------
// running processes

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Sample the memory of the process tree (every 100 ms). */
  sampleMemory?: boolean;
  /** Keep at most this many bytes of stdout / stderr (the tail for stderr, the head for stdout). */
  maxOutput?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** From spawn to the process's exit, milliseconds. */
  wallMs: number;
  stdout: string;
  stderr: string;
  peak: TreePeak | null;
  /** Processes of its group still running when the main process had exited and its output closed (then killed). */
  leftovers: number;
}

/** Runs a command to completion (or its timeout), in its own process group. */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const max = opts.maxOutput ?? 8 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      reject(e);
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    const sampler = opts.sampleMemory && pid !== undefined ? new TreeSampler(pid).start() : null;
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      if (outLen < max) {
        out.push(d);
        outLen += d.length;
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-max);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    }, opts.timeoutMs);
    let wallMs = 0;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let peak: TreePeak | null = null;
    child.on('exit', (code, signal) => {
      wallMs = performance.now() - t0;
      exitCode = code;
      exitSignal = signal;
      peak = sampler ? sampler.stop() : null;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      if (pid !== undefined) live.delete(pid);
      sampler?.stop();
      reject(e);
    });
    child.on('close', () => {
      clearTimeout(timer);
      const finish = (leftovers: number) => {
        if (pid !== undefined) live.delete(pid);
        if (!wallMs) wallMs = performance.now() - t0;
        resolve({
          code: exitCode,
          signal: exitSignal,
          timedOut,
          wallMs,
          stdout: Buffer.concat(out).toString('utf8').slice(0, max),
          stderr: err,
          peak,
          leftovers,
        });
      };
      if (pid === undefined || groupMembers(pid).length === 0) return finish(0);
      // Workers that outlive their parent would skew later measurements: give them a moment to
      // exit on their own, count the ones that did not, and kill them.
      setTimeout(() => {
        const n = groupMembers(pid).length;
        if (n) killGroup(pid, 'SIGKILL');
        finish(n);
      }, 500);
    });
  });
}

export interface LongProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything printed on stdout so far (bounded). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout match of `re`, or rejects after `timeoutMs` or if the process exits. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Sends `signal`, waits up to `timeoutMs` for the exit, then kills the group. Resolves with the exit code. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running process (a server) that the caller stops. */
export function start(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): LongProcess {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  live.add(pid);
  let out = '';
  let err = '';
  const cap = 1024 * 1024;
  child.stdout?.on('data', (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-cap);
  });
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString('utf8')).slice(-cap);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
    });
    child.on('error', () => resolve({ code: null, signal: null }));
  });
  void exited.then(() => {
    killGroup(pid, 'SIGKILL');
    live.delete(pid);
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const tick = () => {
          const m = re.exec(out);
          if (m) return resolve(m);
          if (done) return reject(new Error(`${cmd} exited before printing ${re}; stderr: ${err.slice(-800)}`));
          if (Date.now() > deadline) return reject(new Error(`${cmd} did not print ${re} within ${timeoutMs} ms; stderr: ${err.slice(-800)}`));
          setTimeout(tick, 20);
        };
        tick();
      });
    },
    async stop(signal, timeoutMs) {
      if (!done) {
        try {
          process.kill(pid, signal);
        } catch {
          /* gone */
        }
      }
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        killGroup(pid, 'SIGKILL');
      }, timeoutMs);
      const r = await exited;
      clearTimeout(timer);
      return { ...r, forced };
    },
  };
}

/** Full path of a command on PATH, or null. */
export function which(cmd: string, pathEnv = process.env.PATH ?? ''): string | null {
  for (const dir of pathEnv.split(':')) {
    if (!dir) continue;
    const f = `${dir}/${cmd}`;
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return f;
    } catch {
      /* not here */
    }
  }
  return null;
}
