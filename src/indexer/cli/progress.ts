/**
 * A one-line progress bar for terminals (hand-written: a few lines beat a dependency). It redraws
 * at most every 100 ms and only when the stream is a TTY; otherwise it prints nothing.
 */
export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

export class ProgressBar {
  private last = 0;
  private drawn = false;
  constructor(private readonly out: ProgressSink, private readonly now: () => number = Date.now) {}

  update(done: number, total: number, label: string, force = false): void {
    if (!this.out.isTTY) return;
    const t = this.now();
    if (!force && t - this.last < 100) return;
    this.last = t;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 50));
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const pct = total > 0 ? `${Math.floor(frac * 100)}%`.padStart(4) : '    ';
    this.out.write(`\r${bar} ${pct} ${done}/${total || '?'} ${label}`.slice(0, (this.out.columns ?? 80) - 1) + '\x1b[K');
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn && this.out.isTTY) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
