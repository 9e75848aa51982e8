import fs from 'node:fs';
import { forkWorkerLauncher, type WorkerHandle, type WorkerLauncher } from './launcher.js';
import { MEMORY_EXIT_CODE, isReady, isReply, type CancelMessage, type ConfigMessage, type ExtractedFile, type JobMessage, type ReplyMessage } from './protocol.js';
import { truncateUtf8 } from './text-sink.js';
import { Fifo } from './fifo.js';
import type { ExtractLimits, FailureReason } from './types.js';
import { verifiedPassages } from '../store/passages.js';

/**
 * The bulkhead: N persistent worker processes parse untrusted files; this process (which owns the
 * database) only queues jobs and supervises. A job that exceeds its deadline gets its worker
 * SIGKILLed and replaced; a worker that dies or outgrows its memory cap fails only the job it had.
 */

export { forkWorkerLauncher };
export type { WorkerHandle, WorkerLauncher };

export interface ExtractJob {
  path: string;
  ext: string;
  maxBytes: number;
}

export type ExtractOutcome =
  /** Stems absent when the text had to be cut here. */
  | ({ ok: true; lang: string | null } & Omit<ExtractedFile, 'lang'>)
  | {
      ok: false;
      reason: FailureReason;
      message: string;
      errno?: string;
      /**
       * The worker died, or was killed for its deadline or memory, while it had this very job. Only
       * such outcomes may count towards a file's quarantine: a pool that cannot start workers or is
       * closing, or an extractor that reports an error and lives on, says nothing about the file.
       */
      workerLost?: true;
    };

/**
 * What a job settles with when its `mayStart` said no at the moment a worker would have taken it:
 * nothing was run and nothing is known about the file.
 */
export const NOT_STARTED = Object.freeze({ ok: false, reason: 'not-started', message: 'not extracted: declined before a worker took it' } as const);
export type NotStarted = typeof NOT_STARTED;

export interface ExtractOptions {
  /**
   * Asked when a worker is about to take the job (as its current job or one sent ahead); false
   * settles it with NOT_STARTED instead. Jobs wait in the queue for a while: the extractor breakers
   * use this so that files still queued when a breaker opens are not run. (A job already sent ahead
   * runs when its worker reaches it, unless it comes back to the queue first: a worker that hangs,
   * dies or is retired hands its jobs ahead back, and they are asked again.)
   */
  mayStart?: () => boolean;
}

export interface PoolOptions {
  workers: number;
  timeoutMs: number;
  memoryMb: number;
  limits: ExtractLimits;
  /** Configured stemming languages, handed to each worker for language detection. */
  languages?: readonly string[];
  launch?: WorkerLauncher;
  now?: () => number;
  /**
   * Soft memory limit: a worker whose resident memory is above this after a job is replaced
   * between jobs (PDFium's WebAssembly memory only grows). Default: half of memoryMb.
   */
  recycleMb?: number;
  /**
   * With no job queued or running for this long, every worker exits; the next job starts them
   * again. An idle service then holds no worker memory at all (each is a whole Node process).
   * 0 or absent: workers stay.
   */
  idleExitMs?: number;
  /**
   * Files of these extensions go only to at most `heavyWorkers` workers (default: all): PDFium's
   * WebAssembly memory never shrinks, so a worker that has loaded it stays 60-80 MB larger than
   * one that has not. The other workers never load it and stay small (issue #14).
   * Default: ['pdf'].
   */
  heavyExts?: readonly string[];
  /** How many workers may take heavy files at once; 0 or ≥ workers: any worker may. */
  heavyWorkers?: number;
  /**
   * Jobs sent ahead to each busy worker (default 16; 0 turns it off). This process commits batches
   * synchronously, up to a second at a time; a worker without jobs ahead finished its one file in a
   * few milliseconds and then sat idle until the commit ended (measured: half of a core lost).
   */
  prefetch?: number;
  /** A worker on one file this long gives its jobs ahead back to the queue (default 1,000 ms; 0: never). */
  stealAfterMs?: number;
  /**
   * Share of the wall time each worker may spend extracting, read before each job (a live setting;
   * default 1). Below 1 a worker rests after each job for its run time x (1 - share) / share and is
   * sent no jobs ahead, so the share holds however many files wait in the queue.
   */
  cpuShare?: () => number;
}

export interface ExtractionPool {
  /** Without `mayStart` every job runs: no outcome is NOT_STARTED. */
  extract(job: ExtractJob): Promise<ExtractOutcome>;
  extract(job: ExtractJob, opts: ExtractOptions): Promise<ExtractOutcome | NotStarted>;
  close(): Promise<void>;
  stats(): { workers: number; busy: number; queued: number; restarts: number; timeouts: number; crashes: number; memoryKills: number; recycled: number };
}

const MEMORY_POLL_MS = 250;
/** A worker that has not said 'ready' by then is considered failed to start. */
const READY_TIMEOUT_MS = 60_000;
/** After this many workers in a row die before 'ready', queued jobs are failed and restarts back off. */
const START_FAILURE_LIMIT = 3;
const CLOSE_GRACE_MS = 5_000;
/** The longest a throttled worker rests after one job (cpuShare). */
const MAX_REST_MS = 60_000;
const DEFAULT_PREFETCH = 16;
const DEFAULT_STEAL_AFTER_MS = 1_000;

interface Pending {
  id: number;
  job: ExtractJob;
  resolve: (o: ExtractOutcome | NotStarted) => void;
  startedAt: number;
  mayStart: (() => boolean) | undefined;
}

interface Slot {
  handle: WorkerHandle;
  ready: boolean;
  current: Pending | undefined;
  deadline: NodeJS.Timeout | undefined;
  readyTimer: NodeJS.Timeout | undefined;
  memKilled: boolean;
  /** Being killed: gets no more jobs even before its exit event arrives. */
  retired: boolean;
  /** Has taken a heavy file (loaded PDFium): the heavy lane, until it exits. */
  heavy: boolean;
  /**
   * Jobs sent ahead and queued inside the worker behind `current`, oldest first, so the worker goes
   * on to the next the moment it replies instead of waiting for this process to read the reply (it
   * may be busy committing a batch for a second). Each one's deadline starts when it becomes
   * `current`; if the worker dies, is retired, or sits on one file past `stealAfterMs`, they go back
   * to the front of the queue, blamed for nothing.
   */
  ahead: Pending[];
  /** Resting after a job until then (cpuShare below 1); the timer dispatches again when it ends. */
  restUntil: number;
  restTimer: NodeJS.Timeout | undefined;
  /** When the jobs ahead are taken back from a worker stuck on a long file… */
  stealTimer: NodeJS.Timeout | undefined;
  /** …checked once more one event-loop turn later (see armSteal). */
  stealTurn: NodeJS.Immediate | undefined;
}

/** Extensions whose extractor grows a worker for good (PDFium's WebAssembly memory). */
export const HEAVY_EXTS: readonly string[] = ['pdf'];

/** V8 heap bound for a worker: most of the cap, leaving room for wasm memory and buffers. */
export function heapMb(memoryMb: number): number {
  return Math.max(32, Math.floor(memoryMb * 0.75));
}

/**
 * - A small young generation: workers churn through large short-lived strings, and V8's default
 *   lets that garbage sit in up to 48 MB of semi-spaces per worker. 4 MB, not 1: at 1 MB the
 *   scavenger ran so often that extraction of the full bench corpus took 15 % more CPU (49.1 against
 *   42.0 s in one process, same load, peak RSS 227 against 235 MB); 4 MB costs nothing over 16.
 * - No Liftoff: PDFium's WebAssembly is compiled once, by the optimising compiler, function by
 *   function as first called, instead of by the baseline compiler first and then again for hot
 *   functions. Measured on the small corpus's 155 PDFs: 17 MB less resident code per PDF worker
 *   (78 MB against 95 MB after its first PDF) and 8-10 % less CPU.
 */
export const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--no-liftoff'];

/**
 * glibc malloc settings for workers (issue #14). glibc serves an allocation above its mmap threshold
 * with its own mapping, unmapped on free; but it raises that threshold (up to 32 MB) every time such
 * a block is freed, so once a worker has read one large file, the next file buffers (`readFile` of a
 * multi-MB PDF) come from the heap and leave it fragmented and resident. A fixed threshold (setting
 * it at all turns the raising off) keeps every buffer of 1 MB or more in its own mapping. Measured on
 * 150 PDFs of the full bench corpus, one worker: its malloc heap 9 MB against 11-17, its peak 149 MB
 * against 153-159 and its RSS after the run 123-124 against 131-139 MB, for 11.8-12.0 s of CPU
 * against 11.3-11.8 (load 10+; `owlet index` of the full corpus, interleaved: total CPU ratio 1.00).
 * 128 KB cut as much but cost +0.45 s of sys time in page faults. Only glibc reads it; elsewhere the
 * variable is inert (bench/README.md, fourth round). Setting the threshold also fixes glibc's trim
 * threshold at 128 KB, so the heap top was given back and faulted in again on every Brotli call
 * (workers compress the stored passages): 2.8x the CPU of glibc's defaults on 34 MB of text. A 2 MB
 * top pad keeps that much at the top of the heap: 0.70-0.75 s against 2.5 s.
 */
export const WORKER_MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=1048576:glibc.malloc.top_pad=2097152';

/**
 * The environment a worker starts with: this process's, with WORKER_MALLOC_TUNABLES added to any
 * GLIBC_TUNABLES already set (the user's own settings of other tunables are kept; one of ours that
 * the user set too keeps the user's value, which glibc reads last-wins, so ours goes first).
 */
export function workerEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const theirs = base.GLIBC_TUNABLES?.trim();
  return { ...base, GLIBC_TUNABLES: theirs ? `${WORKER_MALLOC_TUNABLES}:${theirs}` : WORKER_MALLOC_TUNABLES };
}

/** Forked workers with a V8 heap bound derived from the memory cap, and the worker malloc settings. */
export function defaultWorkerLauncher(memoryMb: number, env: NodeJS.ProcessEnv = process.env): WorkerLauncher {
  return forkWorkerLauncher({ execArgv: [...WORKER_V8_FLAGS, `--max-old-space-size=${heapMb(memoryMb)}`], env: workerEnv(env) });
}

export function createExtractionPool(opts: PoolOptions): ExtractionPool {
  const size = Math.max(1, Math.floor(opts.workers));
  const now = opts.now ?? Date.now;
  const launch = opts.launch ?? defaultWorkerLauncher(opts.memoryMb);
  const memoryCapKb = opts.memoryMb * 1024;
  const recycleBytes = (opts.recycleMb ?? opts.memoryMb / 2) * 1024 * 1024;
  const slots = new Set<Slot>();
  const prefetch = Math.max(0, Math.floor(opts.prefetch ?? DEFAULT_PREFETCH));
  const stealAfterMs = opts.stealAfterMs ?? DEFAULT_STEAL_AFTER_MS;
  const cpuShare = (): number => {
    const s = opts.cpuShare?.() ?? 1;
    return s > 0 && s < 1 ? s : 1;
  };
  const heavyExts = new Set((opts.heavyExts ?? HEAVY_EXTS).map((e) => e.toLowerCase()));
  // Default: every worker may take PDFs. One lane kept the tree 52 MB smaller on the full bench
  // corpus but made indexing 20% slower (74.4 against 61.7 s, one run each, quiet): the throughput
  // target comes first (issue #14), and neither figure met the 300 MB target.
  const heavyLanes = opts.heavyWorkers === undefined || opts.heavyWorkers <= 0 ? size : Math.min(size, opts.heavyWorkers);
  // Two queues, so a free light worker is never blocked behind heavy files waiting for their lane.
  const heavyQueue = new Fifo<Pending>();
  const lightQueue = new Fifo<Pending>();
  const queue = {
    get length() {
      return heavyQueue.length + lightQueue.length;
    },
    push(p: Pending) {
      (heavyExts.has(p.job.ext.toLowerCase()) ? heavyQueue : lightQueue).push(p);
    },
    drain(): Pending[] {
      return [...heavyQueue.drain(), ...lightQueue.drain()];
    },
    /** A job sent ahead to a worker that is going away: first in line again. */
    requeue(p: Pending) {
      (heavyExts.has(p.job.ext.toLowerCase()) ? heavyQueue : lightQueue).unshift(p);
    },
  };
  /** The next job this worker may take: a heavy lane prefers heavy files (only it can take them). */
  function nextFor(slot: Slot): Pending | undefined {
    let canHeavy = slot.heavy;
    if (!canHeavy) {
      let lanes = 0;
      for (const s of slots) if (s.heavy && !s.retired) lanes++;
      canHeavy = lanes < heavyLanes;
    }
    if (canHeavy) {
      const p = startable(heavyQueue);
      if (p) {
        slot.heavy = true;
        return p;
      }
    }
    return startable(lightQueue);
  }
  /** The first job of `q` that may still start; those that may not are settled as NOT_STARTED. */
  function startable(q: Fifo<Pending>): Pending | undefined {
    for (let p = q.shift(); p; p = q.shift()) {
      if (!p.mayStart || p.mayStart()) return p;
      settle(p, NOT_STARTED);
    }
    return undefined;
  }
  const counters = { restarts: 0, timeouts: 0, crashes: 0, memoryKills: 0, recycled: 0 };
  let nextId = 1;
  let startFailures = 0;
  let respawnTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let onAllExited: (() => void) | undefined;
  /** Workers let go after idleExitMs without work; the next job brings them back. */
  let dormant = false;
  let idleTimer: NodeJS.Timeout | undefined;

  function settle(p: Pending, o: ExtractOutcome | NotStarted): void {
    p.resolve(o);
  }

  function spawn(isRestart: boolean): void {
    if (closed) return;
    if (isRestart) counters.restarts++;
    let handle: WorkerHandle;
    try {
      handle = launch();
    } catch {
      startFailed();
      return;
    }
    const slot: Slot = { handle, ready: false, current: undefined, deadline: undefined, readyTimer: undefined, memKilled: false, retired: false, heavy: false, ahead: [], stealTimer: undefined, stealTurn: undefined, restUntil: 0, restTimer: undefined };
    slots.add(slot);
    slot.readyTimer = setTimeout(() => retire(slot), READY_TIMEOUT_MS);
    slot.readyTimer.unref();
    handle.onMessage((m) => onMessage(slot, m));
    handle.onExit((code) => onExit(slot, code));
  }

  function retire(slot: Slot): void {
    slot.retired = true;
    takeBackAhead(slot);
    slot.handle.kill();
  }

  /**
   * Jobs sent ahead to a worker that will not run them soon return to the front of the queue, in
   * their order (not a failure). A worker still alive is told to skip them.
   */
  function takeBackAhead(slot: Slot, tellWorker = false): void {
    clearSteal(slot);
    const back = slot.ahead;
    if (back.length === 0) return;
    slot.ahead = [];
    if (tellWorker) {
      const cancel: CancelMessage = { type: 'cancel', ids: back.map((p) => p.id) };
      slot.handle.send(cancel);
    }
    if (closed) return;
    for (let i = back.length - 1; i >= 0; i--) {
      // A new id: the worker may still answer (or skip) the old one, and a late reply for it must
      // not settle the job, nor a cancel of it stop the job from running when sent again.
      back[i]!.id = nextId++;
      back[i]!.startedAt = 0;
      queue.requeue(back[i]!);
    }
  }

  /** Keeps the pool at `size` workers; backs off when workers cannot even start. */
  function replenish(): void {
    if (closed || respawnTimer) return;
    const missing = size - slots.size;
    if (missing <= 0) return;
    if (startFailures >= START_FAILURE_LIMIT) {
      const delay = Math.min(30_000, 500 * 2 ** (startFailures - START_FAILURE_LIMIT));
      respawnTimer = setTimeout(() => {
        respawnTimer = undefined;
        for (let i = size - slots.size; i > 0; i--) spawn(true);
      }, delay);
      respawnTimer.unref();
      return;
    }
    for (let i = 0; i < missing; i++) spawn(true);
  }

  function startFailed(): void {
    startFailures++;
    if (startFailures >= START_FAILURE_LIMIT) {
      // Nothing will run these soon: fail them rather than let callers wait indefinitely.
      for (const p of queue.drain()) {
        settle(p, { ok: false, reason: 'crash', message: 'extraction workers fail to start; file not extracted' });
      }
    }
    replenish();
  }

  function onMessage(slot: Slot, m: unknown): void {
    if (isReady(m)) {
      if (slot.ready) return;
      slot.ready = true;
      startFailures = 0;
      clearTimeout(slot.readyTimer);
      const config: ConfigMessage = { type: 'config', memoryMb: opts.memoryMb, languages: [...(opts.languages ?? ['en'])] };
      slot.handle.send(config);
      dispatch();
      return;
    }
    const p = slot.current;
    if (!p) return; // late reply for a job already settled (timeout): ignore
    const aheadAt = isReply(m) ? slot.ahead.findIndex((a) => a.id === m.id) : -1;
    if (aheadAt >= 0 && isReply(m)) {
      // Answered before `current` (a worker runs its jobs in order, so only one that gave up on
      // `current` without saying so does this): settle it all the same.
      const [n] = slot.ahead.splice(aheadAt, 1);
      settleReply(n!, m);
      dispatch();
      return;
    }
    if (!isReply(m)) {
      // A worker speaking nonsense is not trusted with further jobs.
      finishJob(slot, { ok: false, reason: 'crash', message: 'the extraction worker sent an invalid reply' });
      retire(slot);
      return;
    }
    if (m.id !== p.id) return;
    // Between jobs is the free moment to shed a bloated worker: no file is lost or delayed (the
    // job sent ahead goes back to the queue).
    if (typeof m.rss === 'number' && m.rss > recycleBytes) {
      counters.recycled++;
      retire(slot);
    }
    clearTimeout(slot.deadline);
    slot.deadline = undefined;
    slot.current = undefined;
    rest(slot, now() - p.startedAt);
    settleReply(p, m);
    promoteAhead(slot);
    dispatch();
  }

  /** With a CPU share below 1, the worker rests in proportion to the job it just finished. */
  function rest(slot: Slot, busyMs: number): void {
    const share = cpuShare();
    if (share >= 1) return;
    // Jobs sent ahead would run at once, inside the worker: they go back to the queue.
    takeBackAhead(slot, true);
    const ms = Math.min(MAX_REST_MS, (Math.max(0, busyMs) * (1 - share)) / share);
    if (ms < 1) return;
    slot.restUntil = now() + ms;
    clearTimeout(slot.restTimer);
    slot.restTimer = setTimeout(() => {
      slot.restTimer = undefined;
      dispatch();
    }, ms);
  }

  function resting(slot: Slot): boolean {
    return slot.restUntil > now();
  }

  function settleReply(p: Pending, m: ReplyMessage): void {
    if (m.ok) {
      const text = truncateUtf8(m.text, opts.limits.maxTextBytes);
      const o: ExtractOutcome = { ok: true, title: m.title, text, extractor: m.extractor, sha256: m.sha256, size: m.size, lang: m.lang ?? null };
      // Stems of text cut here would index words the document no longer holds: the writer makes them.
      if (m.stems && text.length === m.text.length) o.stems = { lang: m.stems.lang, text: truncateUtf8(m.stems.text, opts.limits.maxTextBytes) };
      // Passages of text cut here would store text the index does not hold: the writer makes them.
      if (m.passages && text.length === m.text.length) {
        const checked = verifiedPassages(text, m.passages);
        if (checked) o.passages = checked;
      }
      settle(p, o);
    } else {
      const o: ExtractOutcome = { ok: false, reason: m.reason, message: m.message };
      if (m.errno !== undefined) o.errno = m.errno;
      settle(p, o);
    }
  }

  function finishJob(slot: Slot, o: ExtractOutcome): void {
    const p = slot.current;
    clearTimeout(slot.deadline);
    slot.deadline = undefined;
    clearSteal(slot);
    slot.current = undefined;
    if (p) settle(p, o);
  }

  /** The worker has moved on to the oldest job sent ahead: it is now the one on the clock. */
  function promoteAhead(slot: Slot): void {
    clearSteal(slot);
    if (slot.retired) return;
    const n = slot.ahead.shift();
    if (n) startClock(slot, n);
  }

  function startClock(slot: Slot, p: Pending): void {
    p.startedAt = now();
    slot.current = p;
    if (slot.ahead.length > 0) armSteal(slot);
    slot.deadline = setTimeout(() => {
      if (slot.current !== p) return;
      counters.timeouts++;
      finishJob(slot, { ok: false, reason: 'timeout', message: `extraction took longer than ${opts.timeoutMs} ms; the worker was stopped`, workerLost: true });
      retire(slot); // its exit brings a replacement
    }, opts.timeoutMs);
  }

  function clearSteal(slot: Slot): void {
    clearTimeout(slot.stealTimer);
    clearImmediate(slot.stealTurn);
    slot.stealTimer = undefined;
    slot.stealTurn = undefined;
  }

  /** Jobs ahead of a worker stuck on one file go where a worker is free (see stealAfterMs). */
  function armSteal(slot: Slot): void {
    if (slot.stealTimer || slot.stealTurn || stealAfterMs <= 0) return;
    slot.stealTimer = setTimeout(() => {
      // Timers run before the event loop reads IPC: after a long synchronous commit here, the
      // worker's replies may be waiting unread. One turn later they have been read (and promoted
      // the jobs ahead, re-arming this timer); only a worker still on the same file is stuck.
      slot.stealTimer = undefined;
      const on = slot.current;
      slot.stealTurn = setImmediate(() => {
        slot.stealTurn = undefined;
        if (slot.ahead.length === 0 || slot.retired || slot.current !== on) return;
        takeBackAhead(slot, true);
        dispatch();
      });
    }, stealAfterMs);
    slot.stealTimer.unref();
  }

  function onExit(slot: Slot, code: number | null): void {
    if (!slots.delete(slot)) return;
    clearTimeout(slot.readyTimer);
    takeBackAhead(slot);
    const memory = slot.memKilled || code === MEMORY_EXIT_CODE;
    if (code === MEMORY_EXIT_CODE && !slot.memKilled) counters.memoryKills++;
    if (slot.current) {
      const secs = ((now() - slot.current.startedAt) / 1000).toFixed(1);
      if (memory) {
        finishJob(slot, { ok: false, reason: 'memory', message: `extraction exceeded the ${opts.memoryMb} MB memory limit; the worker was stopped`, workerLost: true });
      } else {
        counters.crashes++;
        finishJob(slot, { ok: false, reason: 'crash', message: `the extraction worker died while reading this file (after ${secs} s)`, workerLost: true });
      }
    }
    if (closed) {
      if (slots.size === 0) onAllExited?.();
      return;
    }
    if (dormant && !slot.current) return;
    if (!slot.ready) startFailed();
    else replenish();
  }

  /** (Re)arms the idle timer when nothing is queued or running; cancels it otherwise. */
  function armIdle(): void {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    if (!opts.idleExitMs || closed || dormant || queue.length > 0) return;
    for (const s of slots) if (s.current) return;
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      if (closed || queue.length > 0 || [...slots].some((s) => s.current)) return;
      dormant = true;
      for (const s of slots) retire(s);
    }, opts.idleExitMs);
    idleTimer.unref();
  }

  /** A job arrived while the workers were let go: start them again (not counted as restarts). */
  function wake(): void {
    if (!dormant) return;
    dormant = false;
    let live = 0;
    for (const s of slots) if (!s.retired) live++;
    for (let i = live; i < size; i++) spawn(false);
  }

  function dispatch(): void {
    if (closed) return;
    dispatchNext();
    armIdle();
  }

  function dispatchNext(): void {
    // First every idle worker gets a job; then busy ones get jobs ahead, one each per round, so
    // the queue is shared out evenly.
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (!slot.ready || slot.retired || slot.current || resting(slot)) continue;
      const p = nextFor(slot);
      if (p) send(slot, p, false);
    }
    // A worker still starting will want jobs of its own in a moment: none ahead until it is ready.
    for (const slot of slots) if (!slot.ready && !slot.retired) return;
    // Throttled, a worker runs one job and rests: nothing is sent ahead.
    if (cpuShare() < 1) return;
    for (let depth = 0; depth < prefetch; depth++) {
      let sent = false;
      for (const slot of slots) {
        if (queue.length === 0) return;
        // Not to a worker already stuck on a long file: its jobs ahead were just taken back.
        if (!slot.ready || slot.retired || !slot.current || slot.ahead.length > depth) continue;
        if (stealAfterMs > 0 && slot.ahead.length === 0 && now() - slot.current.startedAt >= stealAfterMs) continue;
        const p = nextFor(slot);
        if (!p) continue;
        send(slot, p, true);
        sent = true;
      }
      if (!sent) return;
    }
  }

  function send(slot: Slot, p: Pending, ahead: boolean): void {
    if (ahead) {
      slot.ahead.push(p);
      armSteal(slot);
    } else {
      startClock(slot, p);
    }
    const msg: JobMessage = { id: p.id, path: p.job.path, ext: p.job.ext, maxBytes: p.job.maxBytes, limits: opts.limits };
    slot.handle.send(msg);
  }

  // Parent-side memory watchdog (Linux): sees a worker stuck in a tight loop that cannot check itself.
  let polling = false;
  const memTimer =
    process.platform === 'linux'
      ? setInterval(() => {
          if (polling || slots.size === 0) return;
          polling = true;
          void Promise.all([...slots].map(checkMemory)).finally(() => (polling = false));
        }, MEMORY_POLL_MS)
      : undefined;
  memTimer?.unref();

  async function checkMemory(slot: Slot): Promise<void> {
    const pid = slot.handle.pid;
    if (pid === undefined || slot.memKilled) return;
    let status: string;
    try {
      status = await fs.promises.readFile(`/proc/${pid}/status`, 'utf8');
    } catch {
      return; // already gone
    }
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
    if (kb > memoryCapKb && slots.has(slot)) {
      slot.memKilled = true;
      counters.memoryKills++;
      retire(slot);
    }
  }

  for (let i = 0; i < size; i++) spawn(false);

  return {
    // One implementation for both overloads: NOT_STARTED only ever comes from a `mayStart`.
    extract: ((job: ExtractJob, extractOpts?: ExtractOptions): Promise<ExtractOutcome | NotStarted> => {
      if (closed) {
        return Promise.resolve({ ok: false, reason: 'crash', message: 'the extraction pool is closed; file not extracted' });
      }
      return new Promise<ExtractOutcome | NotStarted>((resolve) => {
        queue.push({ id: nextId++, job, resolve, startedAt: 0, mayStart: extractOpts?.mayStart });
        wake();
        if (startFailures >= START_FAILURE_LIMIT && ![...slots].some((s) => s.ready && !s.retired)) {
          for (const p of queue.drain()) {
            settle(p, { ok: false, reason: 'crash', message: 'extraction workers fail to start; file not extracted' });
          }
          return;
        }
        dispatch();
      });
    }) as ExtractionPool['extract'],

    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        clearTimeout(idleTimer);
        if (memTimer) clearInterval(memTimer);
        clearTimeout(respawnTimer);
        const cancelled: ExtractOutcome = { ok: false, reason: 'crash', message: 'extraction cancelled: the extraction pool was closed' };
        for (const p of queue.drain()) settle(p, cancelled);
        for (const slot of slots) {
          clearTimeout(slot.readyTimer);
          clearTimeout(slot.restTimer);
          if (slot.current) finishJob(slot, cancelled);
          for (const p of slot.ahead) settle(p, cancelled);
          slot.ahead = [];
          clearSteal(slot);
        }
        if (slots.size === 0) return resolve();
        const grace = setTimeout(resolve, CLOSE_GRACE_MS); // a host handle that never reports exit
        grace.unref();
        onAllExited = () => {
          clearTimeout(grace);
          resolve();
        };
        for (const slot of slots) retire(slot);
      });
      return closing;
    },

    stats() {
      let busy = 0;
      for (const s of slots) if (s.current) busy++;
      return { workers: slots.size, busy, queued: queue.length, ...counters };
    },
  };
}
