import type { DocMeta, DocumentStore, IndexedDoc, UnindexedDoc } from '../store/documents.js';
import { Emitter, type Event } from '../../shared/event.js';

export type WriteOp =
  | { op: 'indexed'; doc: IndexedDoc }
  | { op: 'unindexed'; doc: UnindexedDoc }
  | { op: 'delete'; id: number }
  | { op: 'rename'; id: number; to: DocMeta };

export interface WriterOptions {
  batchSize: number;
  /** Flush when this much extracted text is waiting, whatever the count (bounds memory). */
  maxPendingBytes: number;
  flushMs: number;
  /**
   * Called after each committed batch with the characters of text it wrote (the indexer's process
   * collects its heap every few MB: see heap-collect.ts).
   */
  onTextWritten?: (chars: number) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/**
 * Groups index writes into transactions: one transaction per batch keeps indexing fast, and a
 * crash at any moment leaves the database at a batch boundary (the next start resumes from there).
 */
export class BatchWriter {
  private pending: WriteOp[] = [];
  private pendingBytes = 0;
  private timer: unknown = null;
  private readonly setTimer;
  private readonly clearTimer;
  private readonly commitEmitter = new Emitter<readonly WriteOp[]>();
  private readonly failEmitter = new Emitter<unknown>();
  /** Fired after every committed batch (cache invalidation, metrics). */
  readonly onDidCommit: Event<readonly WriteOp[]> = this.commitEmitter.event;
  /** Runs inside the batch transaction after each op (bookkeeping that must commit with it). */
  afterWrite: (op: WriteOp) => void = () => {};
  /** Fired whenever a flush fails; the ops stay pending for the next attempt. */
  readonly onDidFail: Event<unknown> = this.failEmitter.event;
  /**
   * Whether a failure should hold the queue (e.g. the disk is full: wait for space) rather than
   * throw into whoever added an op. While held, `add` only queues; the owner retries `flush()`.
   */
  holdOnFailure: (e: unknown) => boolean = () => false;
  private heldValue = false;

  constructor(private readonly store: DocumentStore, private readonly opts: WriterOptions) {
    this.setTimer = opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms).unref());
    this.clearTimer = opts.clearTimer ?? ((t: unknown) => clearTimeout(t as NodeJS.Timeout));
  }

  get size(): number {
    return this.pending.length;
  }

  /** True after a failed flush that holds the queue, until a flush succeeds. */
  get held(): boolean {
    return this.heldValue;
  }

  add(op: WriteOp): void {
    this.pending.push(op);
    if (op.op === 'indexed') this.pendingBytes += op.doc.text.length;
    if (this.heldValue) return;
    if (this.pending.length >= this.opts.batchSize || this.pendingBytes >= this.opts.maxPendingBytes) {
      try {
        this.flush();
      } catch (e) {
        if (!this.heldValue) throw e;
      }
    } else if (this.timer === null) {
      this.timer = this.setTimer(() => {
        this.timer = null;
        try {
          this.flush();
        } catch {
          // already reported through onDidFail; the ops stay pending
        }
      }, this.opts.flushMs);
    }
  }

  /** Commits everything pending in one transaction. On failure nothing is lost: ops stay queued. */
  flush(): void {
    if (this.timer !== null) {
      this.clearTimer(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const ops = this.pending;
    try {
      this.store.transaction(() => {
        for (const w of ops) {
          switch (w.op) {
            case 'indexed':
              this.store.putIndexed(w.doc);
              break;
            case 'unindexed':
              this.store.putUnindexed(w.doc);
              break;
            case 'delete':
              this.store.delete(w.id);
              break;
            case 'rename':
              this.store.rename(w.id, w.to);
              break;
          }
          this.afterWrite(w);
        }
      });
    } catch (e) {
      // The transaction rolled back: every op is still queued, in order, for the next attempt.
      this.heldValue = this.holdOnFailure(e);
      this.failEmitter.fire(e);
      throw e;
    }
    this.heldValue = false;
    const written = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.commitEmitter.fire(ops);
    if (written > 0) this.opts.onTextWritten?.(written);
  }
}
