import fs from 'node:fs';
import path from 'node:path';
import { request, type Target } from '../lib/target.js';

/**
 * The two probers. Availability: `/health/ready` plus one authenticated search for a document no
 * fault touches, fired every 100 ms whatever the previous probe is doing (a slow service must not
 * lower the probe count and flatter the figure). Freshness: a new file written every few seconds
 * must become searchable.
 */

export interface Probe {
  at: number;
  ok: boolean;
  ms: number;
  /** Why it failed: an HTTP status, `timeout`, a refused connection, no hit. */
  error?: string;
}

export class AvailabilityProber {
  readonly probes: Probe[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;

  constructor(
    private readonly target: Target,
    private readonly token: string,
    private readonly hz = 10,
    private readonly timeoutMs = 3000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.once(), 1000 / this.hz);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + this.timeoutMs + 1000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  private async once(): Promise<void> {
    if (this.inFlight > 64) return void this.probes.push({ at: Date.now(), ok: false, ms: 0, error: 'too many probes in flight' });
    this.inFlight++;
    const at = Date.now();
    try {
      const ready = await request(this.target, '/health/ready', {}, this.timeoutMs);
      if (!ready.ok) return void this.probes.push({ at, ok: false, ms: Date.now() - at, error: ready.error ?? `ready ${ready.status}` });
      const s = await request(this.target, `/api/v1/search?q=${encodeURIComponent(this.token)}&limit=1`, {}, this.timeoutMs);
      const total = (s.body as { total?: number } | null)?.total ?? 0;
      const ok = s.ok && total >= 1;
      this.probes.push({ at, ok, ms: Date.now() - at, ...(ok ? {} : { error: s.error ?? (s.ok ? 'no hit' : `search ${s.status}`) }) });
    } finally {
      this.inFlight--;
    }
  }

  /** First moment at or after `from` from which `streak` probes in a row succeeded, or null. */
  recoveredAt(from: number, streak = 5): number | null {
    let run = 0;
    let first = 0;
    // In the order they were sent: probes are recorded when they finish, and a timed-out one
    // finishes 3 s after later probes that were answered.
    for (const p of [...this.probes].sort((a, b) => a.at - b.at)) {
      if (p.at < from) continue;
      if (p.ok) {
        if (run === 0) first = p.at;
        if (++run >= streak) return first;
      } else run = 0;
    }
    return null;
  }

  failuresBetween(from: number, to: number): number {
    return this.probes.filter((p) => p.at >= from && p.at < to && !p.ok).length;
  }
}

export interface FreshnessSample {
  at: number;
  /** Write to searchable, or null when it never became searchable within the deadline. */
  ms: number | null;
}

export class FreshnessProber {
  readonly samples: FreshnessSample[] = [];
  /** Files it wrote (they stay on disk and count in the final index-equals-disk comparison). */
  readonly written = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly target: Target,
    private readonly dir: string,
    private readonly everyMs = 3000,
    private readonly deadlineMs = 60_000,
  ) {}

  start(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    this.timer = setInterval(() => {
      const p = this.once().finally(() => this.pending.delete(p));
      this.pending.add(p);
    }, this.everyMs);
  }

  /** Stops writing; waits for the checks under way (each is bounded by the deadline). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.pending]);
  }

  private async once(): Promise<void> {
    const token = `fresh${++this.seq}x${process.pid}tok`;
    const file = path.join(this.dir, `${token}.txt`);
    const at = Date.now();
    try {
      fs.writeFileSync(file, `a change on disk ${token}\n`);
    } catch {
      // The disk-full fault can refuse the write: nothing was changed, so nothing is owed.
      return;
    }
    this.written.set(token, file);
    while (Date.now() - at < this.deadlineMs) {
      const s = await request(this.target, `/api/v1/search?q=${token}&limit=1`, {}, 3000);
      if (s.ok && ((s.body as { total?: number }).total ?? 0) >= 1) return void this.samples.push({ at, ms: Date.now() - at });
      await new Promise((r) => setTimeout(r, 100));
    }
    this.samples.push({ at, ms: null });
  }
}
