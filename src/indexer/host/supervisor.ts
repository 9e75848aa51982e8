/**
 * The platform-neutral supervisor of the indexer service process (VS Code's utility-process host
 * is the model). It starts the child through an injected `Launcher`, waits for `ready`, pings it,
 * restarts it with exponential backoff when it dies or hangs, stops fast restarts in a crash loop,
 * gives up on configuration errors (exit 78), and on `stop()` asks for a graceful shutdown with a
 * deadline before SIGKILL.
 *
 * Nothing here knows about child_process or Electron: process events arrive through `ChildHandle`
 * and every timer goes through the injected `Clock`, so tests drive real processes with a fake
 * clock.
 *
 * State machine:
 *
 *               start()                 ready                   no heartbeat for heartbeatTimeoutMs
 *   idle ─────────────────► starting ──────────► running ──────────────────────────► hung
 *   stopped ──start()─────►  │    │                │                                  │ (SIGKILL sent,
 *   failed ───start()─────►  │    │ no ready in    │ exit / signal /                  │  waiting for exit)
 *   crash-loop ─start()───►  │    │ readyTimeoutMs │ fatal + exit                     │
 *   backoff ───start()────►  │    └──► hung        │                                  │
 *                            │ exit                ▼                                  │
 *                            └───────────► [crash recorded: onDidCrash] ◄─────────────┘
 *                                                  │
 *         ┌────────────────────────────────────────┼─────────────────────────────────────┐
 *         │ exit 78 (config) or protocol mismatch  │ < maxCrashes in windowMs            │ ≥ maxCrashes in windowMs,
 *         ▼                                        ▼                                     ▼ or already looping
 *       failed (no restart;                      backoff ──backoffDelay──► starting    crash-loop ──slowRetryMs──► starting
 *       `failure` says why)                      (500 ms, ×2, ≤ 30 s)                  (≤ 60 s; keeps reporting crashes)
 *
 *   A crash loop is a child that keeps dying young. A child that had been running (ready, and
 *   answering pings) for `stableRunMs` before it died is not looping: its death restarts at the
 *   first backoff step, leaves the crash-loop state, and is not counted in the crash window. Only
 *   deaths before ready or within `stableRunMs` of it count toward `crashLoop`.
 *   After `healthyResetMs` in running, the backoff attempt and the crash-loop flag are reset.
 *
 *   A launcher that refuses to start a child (`LaunchRefusedError`: e.g. the host has no key to
 *   hand over) moves straight to failed (reason `refused`): nothing was forked, nothing to restart.
 *
 *   any state with a child ──stop()──► stopping ──exit (SIGKILL at shutdownDeadlineMs)──► stopped
 *   any state without a child ──stop()──────────────────────────────────────────────────► stopped
 */
import { Emitter, type Disposable, type Listener } from '../../shared/event.js';
import type { ErrorInfo } from '../../shared/errors.js';
import { ExitCodes, PROTOCOL_VERSION, isServiceMessage, type AlertNotice, type LogRecord, type ServiceMessage } from '../../shared/protocol.js';
import { CrashWindow, backoffDelay, type BackoffOptions, type CrashLoopOptions } from './backoff.js';
import { LaunchRefusedError, type ChildHandle, type Launcher } from './launcher.js';

export type SupervisorState = 'idle' | 'starting' | 'running' | 'hung' | 'backoff' | 'crash-loop' | 'failed' | 'stopping' | 'stopped';

export type CrashReason = 'exit' | 'signal' | 'hung' | 'ready-timeout' | 'fatal';

export interface CrashInfo {
  reason: CrashReason;
  code: number | null;
  signal: string | null;
  /** The child's own `fatal` report, when it sent one before dying. */
  error?: ErrorInfo;
}

export interface ReadyInfo {
  url: string;
  port: number;
  pid: number;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** `stop` for an exit that `stop()` asked for; otherwise the crash reason. */
  reason: CrashReason | 'stop';
}

export interface FailureInfo {
  /**
   * `config`: the child exited with ExitCodes.CONFIG, or reported a fatal of kind `config` or
   * `usage` (its configuration or invocation is unusable: restarting cannot help);
   * `protocol`: it speaks another protocol version; `refused`: the launcher refused to start a
   * child at all (no child was forked).
   */
  reason: 'config' | 'protocol' | 'refused';
  message: string;
  error?: ErrorInfo;
}

export interface SupervisorStats {
  starts: number;
  /** Every unexpected end of a child, hangs and ready timeouts included. */
  crashes: number;
  hangs: number;
  lastExit: ExitInfo | undefined;
}

export interface StateChange {
  previous: SupervisorState;
  state: SupervisorState;
}

// The one typed emitter (shared/event.ts); its types are re-exported for the supervisor's callers.
export type { Disposable, Listener };

/** Structured log records. They carry no message contents from the child, only shapes. */
export type SupervisorEvent =
  | { type: 'state'; previous: SupervisorState; state: SupervisorState }
  | { type: 'spawn'; pid: number | undefined; start: number }
  | { type: 'launch-error'; message: string }
  | { type: 'ready'; pid: number | undefined; url: string; port: number; afterMs: number }
  | { type: 'exit'; pid: number | undefined; code: number | null; signal: string | null; expected: boolean }
  | { type: 'crash'; pid: number | undefined; reason: CrashReason; code: number | null; signal: string | null; crashesInWindow: number; stable: boolean }
  | { type: 'hang'; pid: number | undefined; phase: 'ready' | 'heartbeat'; silentMs: number }
  | { type: 'kill'; pid: number | undefined; signal: 'SIGKILL'; why: 'hung' | 'ready-timeout' | 'shutdown-deadline' | 'exit-deadline' | 'protocol' }
  | { type: 'abandon'; pid: number | undefined; waitedMs: number }
  | { type: 'backoff'; attempt: number; delayMs: number }
  | { type: 'crash-loop'; crashesInWindow: number; windowMs: number; retryInMs: number }
  | { type: 'healthy'; pid: number | undefined }
  | { type: 'failed'; reason: FailureInfo['reason']; message: string }
  | { type: 'fatal'; pid: number | undefined; kind: string; phase: 'startup' | 'running'; error: ErrorInfo }
  | { type: 'launch-refused'; code: string; message: string }
  | { type: 'child-stopping'; pid: number | undefined; reason: string }
  | { type: 'stop'; reason: string }
  | { type: 'message-ignored'; pid: number | undefined; why: 'malformed' | 'unexpected'; messageType: string }
  | { type: 'listener-error'; message: string };

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SupervisorOptions {
  launch: Launcher;
  clock?: Clock;
  /** How often to ping a running child. */
  heartbeatIntervalMs?: number;
  /** A running child that has not answered for this long is hung. */
  heartbeatTimeoutMs?: number;
  /** A starting child that has not sent `ready` for this long is killed. */
  readyTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  crashLoop?: Partial<CrashLoopOptions>;
  /** Delay between retries while in crash-loop. */
  slowRetryMs?: number;
  /** After this long in running, the child counts as healthy: backoff and crash-loop reset. */
  healthyResetMs?: number;
  /**
   * A child that was running (ready) at least this long before it died or stopped answering died
   * a stable death: it restarts at the first backoff step and does not count toward `crashLoop`.
   */
  stableRunMs?: number;
  /** How long `stop()` waits for a graceful exit before SIGKILL. */
  shutdownDeadlineMs?: number;
  /** How long to wait for the exit event after SIGKILL before giving up on the handle. */
  killTimeoutMs?: number;
  log?: (event: SupervisorEvent) => void;
}

export interface Supervisor {
  readonly state: SupervisorState;
  /** The current child's pid (undefined without a child). */
  readonly pid: number | undefined;
  /** What the current child announced in `ready`; undefined unless running. */
  readonly readyInfo: ReadyInfo | undefined;
  readonly stats: Readonly<SupervisorStats>;
  /** Why the supervisor is in `failed`; undefined otherwise. */
  readonly failure: FailureInfo | undefined;
  /**
   * Starts the child. In idle/stopped/failed/crash-loop it starts afresh (crash history cleared);
   * in backoff it restarts now; with a child already present it does nothing. Throws while stopping.
   */
  start(): void;
  /** Asks the child to shut down, SIGKILLs it after the deadline; resolves once it is gone. */
  stop(reason?: string): Promise<void>;
  onDidChangeState(listener: Listener<StateChange>): Disposable;
  onDidBecomeReady(listener: Listener<ReadyInfo>): Disposable;
  /** Fires after the state has moved on (to backoff, crash-loop or failed). */
  onDidCrash(listener: Listener<CrashInfo>): Disposable;
  /** A log record forwarded by the child (`log` message), or a line of its piped stdout/stderr. */
  onDidLog(listener: Listener<ChildLog>): Disposable;
  /** An alert the child's engine routed to the tray (`alert` message). */
  onDidAlert(listener: Listener<AlertNotice>): Disposable;
}

/** A log record from the current child, with the child it came from. */
export interface ChildLog {
  pid: number | undefined;
  record: LogRecord;
}

export const DEFAULT_SUPERVISOR_OPTIONS = {
  heartbeatIntervalMs: 2_000,
  heartbeatTimeoutMs: 10_000,
  readyTimeoutMs: 60_000,
  backoff: { initialMs: 500, maxMs: 30_000, factor: 2 },
  crashLoop: { maxCrashes: 5, windowMs: 120_000 },
  // The requirement is recovery within 2 minutes, even from a crash loop.
  slowRetryMs: 60_000,
  healthyResetMs: 60_000,
  // Long enough that a child failing on its first requests or its first indexing batch still
  // counts as looping; short enough that a fault hitting a settled service restarts it at once.
  stableRunMs: 10_000,
  shutdownDeadlineMs: 10_000,
  killTimeoutMs: 5_000,
} as const;

/** Monotonic: wall-clock jumps must not fake a hang or empty the crash window. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (cb, ms) => setTimeout(cb, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Fatal kinds a restart cannot fix: the configuration, or how the service was invoked (e.g. as
 * root without --allow-root). The user has to act; retrying would only loop.
 */
const NOT_RESTARTABLE_KINDS: ReadonlySet<string> = new Set(['config', 'usage']);

export function createSupervisor(options: SupervisorOptions): Supervisor {
  return new ProcessSupervisor(options);
}

type Resolved = Omit<Required<SupervisorOptions>, 'backoff' | 'crashLoop' | 'log' | 'clock' | 'launch'> & {
  backoff: BackoffOptions;
  crashLoop: CrashLoopOptions;
};

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x <= 0) throw new RangeError(`supervisor option ${name} must be a positive number, got ${String(v)}`);
  return x;
}

function resolveOptions(o: SupervisorOptions): Resolved {
  const d = DEFAULT_SUPERVISOR_OPTIONS;
  const factor = o.backoff?.factor ?? d.backoff.factor;
  if (!Number.isFinite(factor) || factor < 1) throw new RangeError(`supervisor option backoff.factor must be >= 1, got ${String(factor)}`);
  const maxCrashes = positive('crashLoop.maxCrashes', o.crashLoop?.maxCrashes, d.crashLoop.maxCrashes);
  return {
    heartbeatIntervalMs: positive('heartbeatIntervalMs', o.heartbeatIntervalMs, d.heartbeatIntervalMs),
    heartbeatTimeoutMs: positive('heartbeatTimeoutMs', o.heartbeatTimeoutMs, d.heartbeatTimeoutMs),
    readyTimeoutMs: positive('readyTimeoutMs', o.readyTimeoutMs, d.readyTimeoutMs),
    backoff: {
      initialMs: positive('backoff.initialMs', o.backoff?.initialMs, d.backoff.initialMs),
      maxMs: positive('backoff.maxMs', o.backoff?.maxMs, d.backoff.maxMs),
      factor,
    },
    crashLoop: { maxCrashes: Math.ceil(maxCrashes), windowMs: positive('crashLoop.windowMs', o.crashLoop?.windowMs, d.crashLoop.windowMs) },
    slowRetryMs: positive('slowRetryMs', o.slowRetryMs, d.slowRetryMs),
    healthyResetMs: positive('healthyResetMs', o.healthyResetMs, d.healthyResetMs),
    stableRunMs: positive('stableRunMs', o.stableRunMs, d.stableRunMs),
    shutdownDeadlineMs: positive('shutdownDeadlineMs', o.shutdownDeadlineMs, d.shutdownDeadlineMs),
    killTimeoutMs: positive('killTimeoutMs', o.killTimeoutMs, d.killTimeoutMs),
  };
}

/** One launched child and what we know about it. */
interface Run {
  handle: ChildHandle;
  pid: number | undefined;
  startedAt: number;
  ready: ReadyInfo | undefined;
  /** When `ready` arrived (clock time). */
  readyAt: number | undefined;
  lastBeatAt: number;
  /** Set when we decided to kill it: the crash reason its exit will be reported with. */
  killReason: CrashReason | undefined;
  /** SIGKILL already sent. */
  killed: boolean;
  fatal: ErrorInfo | undefined;
  fatalKind: string | undefined;
  failure: FailureInfo | undefined;
  /** It announced its end (fatal or stopping): no more probing, only a bounded wait. */
  leaving: boolean;
  exited: boolean;
}

type TimerName = 'ready' | 'ping' | 'watchdog' | 'healthy' | 'restart' | 'deadline' | 'abandon';

class ProcessSupervisor implements Supervisor {
  private readonly o: Resolved;
  private readonly launch: Launcher;
  private readonly clock: Clock;
  private readonly logFn: ((event: SupervisorEvent) => void) | undefined;

  private _state: SupervisorState = 'idle';
  private current: Run | undefined;
  private _failure: FailureInfo | undefined;
  private readonly _stats: SupervisorStats = { starts: 0, crashes: 0, hangs: 0, lastExit: undefined };
  private readonly crashes: CrashWindow;
  /** Consecutive crashes without a healthy run in between (1-based attempt of the next restart). */
  private attempt = 0;
  /** Once in a crash loop, every crash goes back to crash-loop until a run is healthy. */
  private looping = false;
  private pingSeq = 0;
  private readonly timers = new Map<TimerName, unknown>();
  private stopWaiters: (() => void)[] = [];
  private stopPromise: Promise<void> | undefined;

  private readonly stateEmitter = new Emitter<StateChange>((e) => this.listenerError(e));
  private readonly readyEmitter = new Emitter<ReadyInfo>((e) => this.listenerError(e));
  private readonly crashEmitter = new Emitter<CrashInfo>((e) => this.listenerError(e));
  readonly onDidChangeState = (l: Listener<StateChange>): Disposable => this.stateEmitter.event(l);
  readonly onDidBecomeReady = (l: Listener<ReadyInfo>): Disposable => this.readyEmitter.event(l);
  readonly onDidCrash = (l: Listener<CrashInfo>): Disposable => this.crashEmitter.event(l);
  private readonly logEmitter = new Emitter<ChildLog>((e) => this.listenerError(e));
  readonly onDidLog = (l: Listener<ChildLog>): Disposable => this.logEmitter.event(l);
  private readonly alertEmitter = new Emitter<AlertNotice>((e) => this.listenerError(e));
  readonly onDidAlert = (l: Listener<AlertNotice>): Disposable => this.alertEmitter.event(l);

  constructor(options: SupervisorOptions) {
    this.o = resolveOptions(options);
    this.launch = options.launch;
    this.clock = options.clock ?? realClock;
    this.logFn = options.log;
    this.crashes = new CrashWindow(this.o.crashLoop);
  }

  get state(): SupervisorState {
    return this._state;
  }
  get pid(): number | undefined {
    return this.current ? (this.current.pid ?? this.current.ready?.pid) : undefined;
  }
  get readyInfo(): ReadyInfo | undefined {
    return this._state === 'running' && this.current?.ready ? { ...this.current.ready } : undefined;
  }
  get stats(): Readonly<SupervisorStats> {
    return { ...this._stats, lastExit: this._stats.lastExit ? { ...this._stats.lastExit } : undefined };
  }
  get failure(): FailureInfo | undefined {
    return this._failure;
  }

  start(): void {
    switch (this._state) {
      case 'starting':
      case 'running':
      case 'hung':
        return;
      case 'stopping':
        throw new Error('the supervisor is stopping; await stop() before calling start()');
      case 'backoff':
        this.spawn();
        return;
      case 'idle':
      case 'stopped':
      case 'failed':
      case 'crash-loop':
        this.attempt = 0;
        this.looping = false;
        this.crashes.clear();
        this._failure = undefined;
        this.spawn();
        return;
    }
  }

  stop(reason = 'requested'): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.log({ type: 'stop', reason });
    const run = this.current;
    if (!run) {
      this.disarmAll();
      if (this._state !== 'stopped') this.setState('stopped');
      return Promise.resolve();
    }
    const promise = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    this.stopPromise = promise;
    for (const t of ['ready', 'ping', 'watchdog', 'healthy', 'restart'] as const) this.disarm(t);
    // State first: a launcher may report the exit synchronously, and it must count as the stop.
    this.setState('stopping');
    if (!run.killed && this.current === run) {
      this.arm('deadline', this.o.shutdownDeadlineMs, () => this.kill(run, 'shutdown-deadline'));
      this.send(run, { type: 'shutdown', reason });
    }
    return promise;
  }

  // ── child lifecycle ────────────────────────────────────────────────────────────────────────

  private spawn(): void {
    this.disarm('restart');
    let handle: ChildHandle;
    try {
      handle = this.launch();
    } catch (e) {
      if (e instanceof LaunchRefusedError) {
        // Nothing was started, and starting again cannot help until the cause is fixed.
        this.log({ type: 'launch-refused', code: e.info.code, message: e.info.message });
        this._failure = { reason: 'refused', message: e.info.message, error: e.info };
        this.log({ type: 'failed', reason: 'refused', message: e.info.message });
        this.setState('failed');
        return;
      }
      this.log({ type: 'launch-error', message: e instanceof Error ? e.message : String(e) });
      this._stats.starts++;
      this.afterCrash(undefined, { reason: 'exit', code: null, signal: null });
      return;
    }
    const now = this.clock.now();
    const run: Run = {
      handle,
      pid: handle.pid,
      startedAt: now,
      ready: undefined,
      readyAt: undefined,
      lastBeatAt: now,
      killReason: undefined,
      killed: false,
      fatal: undefined,
      fatalKind: undefined,
      failure: undefined,
      leaving: false,
      exited: false,
    };
    this.current = run;
    this._stats.starts++;
    handle.onMessage((m) => this.onMessage(run, m));
    // A child whose stdio the launcher pipes (Electron's utility process): its raw output lines
    // become log records, so a crash before the IPC channel is up still leaves a trace.
    handle.onOutput?.((stream, line) => {
      // Lines from a child that already exited are kept: they are often its last words.
      this.logEmitter.fire({
        pid: run.pid,
        record: { time: new Date().toISOString(), level: stream === 'stderr' ? 'warn' : 'info', component: `service-${stream}`, msg: line },
      });
    });
    handle.onExit((code, signal) => this.onExit(run, code, signal));
    this.log({ type: 'spawn', pid: run.pid, start: this._stats.starts });
    if (this.current !== run) return; // it already exited (a synchronous launcher)
    this.arm('ready', this.o.readyTimeoutMs, () => {
      if (this.current !== run || run.ready) return;
      this.log({ type: 'hang', pid: run.pid, phase: 'ready', silentMs: this.clock.now() - run.startedAt });
      run.killReason = 'ready-timeout';
      this.kill(run, 'ready-timeout');
      if (this.current === run) this.setState('hung');
    });
    this.setState('starting');
  }

  private onMessage(run: Run, m: unknown): void {
    if (this.current !== run || run.exited) return; // late message from a replaced child
    if (!isServiceMessage(m)) {
      this.log({ type: 'message-ignored', pid: run.pid, why: 'malformed', messageType: describe(m) });
      return;
    }
    switch (m.type) {
      case 'ready':
        return this.onReady(run, m);
      case 'heartbeat':
        if (this._state !== 'running' || run.killed || run.leaving) return;
        run.lastBeatAt = this.clock.now();
        this.armWatchdog(run);
        return;
      case 'fatal':
        return this.onFatal(run, m);
      case 'log':
        this.logEmitter.fire({ pid: run.pid, record: m.record });
        return;
      case 'alert':
        this.alertEmitter.fire(m.notice);
        return;
      case 'listen-socket-request':
        // Answered by the launcher that holds the socket (launcher.ts forkLauncher).
        return;
      case 'stopping':
        this.log({ type: 'child-stopping', pid: run.pid, reason: m.reason });
        if (this._state === 'starting' || this._state === 'running') this.expectExit(run);
        return;
    }
  }

  private onReady(run: Run, m: Extract<ServiceMessage, { type: 'ready' }>): void {
    if (this._state !== 'starting' || run.ready || run.fatal) {
      this.log({ type: 'message-ignored', pid: run.pid, why: 'unexpected', messageType: 'ready' });
      return;
    }
    this.disarm('ready');
    if (m.protocol !== PROTOCOL_VERSION) {
      // A service from another build: restarting it cannot help.
      run.failure = { reason: 'protocol', message: `the service speaks protocol ${String(m.protocol)}, this host speaks ${PROTOCOL_VERSION}` };
      run.killReason = 'fatal';
      this.kill(run, 'protocol');
      return;
    }
    const now = this.clock.now();
    run.ready = { url: m.url, port: m.port, pid: m.pid };
    run.readyAt = now;
    run.lastBeatAt = now;
    this.log({ type: 'ready', pid: run.pid, url: m.url, port: m.port, afterMs: now - run.startedAt });
    this.armWatchdog(run);
    this.schedulePing(run);
    this.arm('healthy', this.o.healthyResetMs, () => {
      if (this.current !== run) return;
      this.attempt = 0;
      this.looping = false;
      this.log({ type: 'healthy', pid: run.pid });
    });
    this.setState('running');
    // A state listener may have called stop(): only announce what is still true.
    if (this.current === run && this.state === 'running') this.readyEmitter.fire({ ...run.ready });
  }

  private onFatal(run: Run, m: Extract<ServiceMessage, { type: 'fatal' }>): void {
    if (run.fatal) return;
    run.fatal = m.error;
    run.fatalKind = m.kind;
    this.log({ type: 'fatal', pid: run.pid, kind: m.kind, phase: m.phase, error: m.error });
    if (this._state === 'starting' || this._state === 'running') this.expectExit(run);
  }

  /** The child said it is going away (fatal or stopping): stop probing it, bound the wait. */
  private expectExit(run: Run): void {
    run.leaving = true;
    for (const t of ['ready', 'ping', 'watchdog', 'healthy'] as const) this.disarm(t);
    if (!this.timers.has('deadline')) {
      this.arm('deadline', this.o.shutdownDeadlineMs, () => {
        if (this.current !== run) return;
        run.killReason ??= run.fatal ? 'fatal' : 'hung';
        this.kill(run, 'exit-deadline');
      });
    }
  }

  private schedulePing(run: Run): void {
    this.arm('ping', this.o.heartbeatIntervalMs, () => {
      if (this.current !== run || this._state !== 'running') return;
      this.send(run, { type: 'ping', seq: ++this.pingSeq });
      this.schedulePing(run);
    });
  }

  private armWatchdog(run: Run): void {
    this.arm('watchdog', this.o.heartbeatTimeoutMs, () => {
      if (this.current !== run || this._state !== 'running') return;
      this.log({ type: 'hang', pid: run.pid, phase: 'heartbeat', silentMs: this.clock.now() - run.lastBeatAt });
      run.killReason = 'hung';
      for (const t of ['ping', 'healthy'] as const) this.disarm(t);
      this.kill(run, 'hung');
      if (this.current === run) this.setState('hung');
    });
  }

  private kill(run: Run, why: Extract<SupervisorEvent, { type: 'kill' }>['why']): void {
    if (run.killed || run.exited) return;
    run.killed = true;
    this.log({ type: 'kill', pid: run.pid, signal: 'SIGKILL', why });
    // A process in uninterruptible sleep can outlive SIGKILL for a while; don't wait forever.
    // Armed before the kill, since a launcher may report the exit synchronously (which disarms it).
    this.arm('abandon', this.o.killTimeoutMs, () => {
      if (this.current !== run || run.exited) return;
      this.log({ type: 'abandon', pid: run.pid, waitedMs: this.o.killTimeoutMs });
      this.onExit(run, null, 'SIGKILL');
    });
    try {
      run.handle.kill('SIGKILL');
    } catch {
      /* a launcher must not throw here; if it does, the abandon timer still ends the wait */
    }
  }

  private onExit(run: Run, code: number | null, signal: string | null): void {
    if (run.exited) return;
    run.exited = true;
    if (this.current !== run) return;
    this.current = undefined;
    for (const t of ['ready', 'ping', 'watchdog', 'healthy', 'deadline', 'abandon'] as const) this.disarm(t);

    if (this._state === 'stopping') {
      this.log({ type: 'exit', pid: run.pid, code, signal, expected: true });
      this._stats.lastExit = { code, signal, reason: 'stop' };
      this.setState('stopped');
      const waiters = this.stopWaiters.splice(0);
      this.stopPromise = undefined;
      for (const w of waiters) w();
      return;
    }

    this.log({ type: 'exit', pid: run.pid, code, signal, expected: false });
    const reason: CrashReason = run.killReason ?? (run.fatal ? 'fatal' : signal !== null ? 'signal' : 'exit');
    const crash: CrashInfo = run.fatal ? { reason, code, signal, error: run.fatal } : { reason, code, signal };
    this.afterCrash(run, crash);
  }

  /** Counts the crash, moves to backoff / crash-loop / failed, then reports it. */
  private afterCrash(run: Run | undefined, crash: CrashInfo): void {
    const now = this.clock.now();
    this._stats.crashes++;
    if (crash.reason === 'hung') this._stats.hangs++;
    this._stats.lastExit = { code: crash.code, signal: crash.signal, reason: crash.reason };
    const stable = run !== undefined && this.ranStably(run, now);
    const inWindow = stable ? this.crashes.count(now) : this.crashes.record(now);
    this.log({ type: 'crash', pid: run?.pid, reason: crash.reason, code: crash.code, signal: crash.signal, crashesInWindow: inWindow, stable });
    if (stable && crash.signal !== null && run.killReason === undefined && !run.killed) {
      // Killed from outside (a signal the supervisor did not send: a user, the OS) after it had
      // settled: restart at once, however often. Its own crash or hang after a stable run is never
      // a crash loop either, but backs off as usual (reset only by healthyResetMs of running), so a
      // bug that strikes every 15 s after ready cannot restart it twice a second for good.
      this.attempt = 0;
      this.looping = false;
    }

    let failure = run?.failure;
    if (!failure && (crash.code === ExitCodes.CONFIG || (run?.fatalKind !== undefined && NOT_RESTARTABLE_KINDS.has(run.fatalKind)))) {
      failure = {
        reason: 'config',
        message: run?.fatal?.message ?? `the service exited with code ${ExitCodes.CONFIG}: its configuration or data directory is unusable`,
      };
      if (run?.fatal) failure.error = run.fatal;
    }

    if (failure) {
      this._failure = failure;
      this.log({ type: 'failed', reason: failure.reason, message: failure.message });
      this.setState('failed');
    } else if (!stable && (this.looping || inWindow >= this.o.crashLoop.maxCrashes)) {
      this.looping = true;
      this.log({ type: 'crash-loop', crashesInWindow: inWindow, windowMs: this.o.crashLoop.windowMs, retryInMs: this.o.slowRetryMs });
      this.arm('restart', this.o.slowRetryMs, () => this.spawn());
      this.setState('crash-loop');
    } else {
      this.attempt++;
      const delayMs = backoffDelay(this.attempt, this.o.backoff);
      this.log({ type: 'backoff', attempt: this.attempt, delayMs });
      this.arm('restart', delayMs, () => this.spawn());
      this.setState('backoff');
    }
    this.crashEmitter.fire(crash);
  }

  /**
   * Whether the child had been running for `stableRunMs` before it went: until its exit, or, for
   * a hang, until its last heartbeat (the silence before the kill is not a healthy run).
   */
  private ranStably(run: Run, now: number): boolean {
    if (run.readyAt === undefined) return false;
    const aliveUntil = run.killReason === 'hung' ? run.lastBeatAt : now;
    return aliveUntil - run.readyAt >= this.o.stableRunMs;
  }

  // ── plumbing ───────────────────────────────────────────────────────────────────────────────

  private send(run: Run, msg: Parameters<ChildHandle['send']>[0]): void {
    try {
      run.handle.send(msg);
    } catch {
      /* a launcher must not throw; a dead channel shows up as the exit */
    }
  }

  private setState(state: SupervisorState): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    this.log({ type: 'state', previous, state });
    this.stateEmitter.fire({ previous, state });
  }

  private arm(name: TimerName, ms: number, fn: () => void): void {
    this.disarm(name);
    const handle: unknown = this.clock.setTimeout(() => {
      if (this.timers.get(name) !== handle) return;
      this.timers.delete(name);
      fn();
    }, ms);
    this.timers.set(name, handle);
  }

  private disarm(name: TimerName): void {
    const h = this.timers.get(name);
    if (h === undefined) return;
    this.timers.delete(name);
    this.clock.clearTimeout(h);
  }

  private disarmAll(): void {
    for (const name of [...this.timers.keys()]) this.disarm(name);
  }

  private log(event: SupervisorEvent): void {
    if (!this.logFn) return;
    try {
      this.logFn(event);
    } catch {
      /* logging must never break supervision */
    }
  }

  private listenerError(e: unknown): void {
    this.log({ type: 'listener-error', message: e instanceof Error ? e.message : String(e) });
  }
}

/** The shape of an untrusted message, for logs: never its contents. */
function describe(m: unknown): string {
  if (m === null) return 'null';
  if (typeof m !== 'object') return typeof m;
  const t = (m as { type?: unknown }).type;
  return typeof t === 'string' ? `type:${t.slice(0, 32)}` : 'object';
}
