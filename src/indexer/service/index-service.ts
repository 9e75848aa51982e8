import type { ProblemFile, SearchResult, StatusReport } from '../../shared/api.js';
import type { OwletError } from '../../shared/errors.js';
import type { Event } from '../../shared/event.js';
import type { Config } from '../config/schema.js';
import type { Processed } from '../index/indexer.js';
import type { WriteOp } from '../index/writer.js';
import type { BreakerChange } from '../resilience/breakers.js';
import type { DocumentPreview } from './preview.js';
import type { OwletService } from './service.js';
import type { StatusNote } from './status.js';

/**
 * What a caller holds between two moments: the service that is open now, or why there is none
 * (a recovery or a restore is swapping the database). Checked, never assumed.
 */
export type Current = { ok: true; service: OwletService } | { ok: false; error: NotReadyError };

/** The typed "not ready": always OWL_ERR_NOT_READY, with a message a user can act on. */
export type NotReadyError = OwletError & { code: 'OWL_ERR_NOT_READY' };

/** Defined beside the status builder (status.ts); re-exported for the host's callers. */
export type { StatusNote };

/** Adds notes (and may mark the state degraded) to the status the service reports. */
export type StatusSource = (s: StatusReport) => StatusNote[];

/**
 * The index service as every caller sees it (HTTP, CLI, monitoring, health, backups, recovery).
 * It stays the same object across swaps of the database underneath; events are re-emitted from
 * whichever service is current, so a listener registered once keeps hearing after a swap.
 *
 * Never throw: dataDir, config, isReady, status, current, indexKey, the events.
 * Throw OWL_ERR_NOT_READY while no service is open: search, problems, preview, pause, resume, rescan
 * (what the HTTP layer turns into a 503). Anything else goes through current().
 */
export interface IndexService {
  readonly dataDir: string;
  /** The configuration the current (or last) service opened with. */
  readonly config: Config;
  isReady(): boolean;
  /** The one status (service/status.ts); while none is open, the last one, marked as recovering. */
  status(): StatusReport;
  current(): Current;
  /** The database key of the current or last open index (null: plaintext or never opened). */
  indexKey(): Buffer | null;
  /** Every key that may open a file of this install (current, pending, retired): re-keys companions an interrupted rotation left behind. */
  candidateKeys(): Buffer[];

  search(q: string, limit: number, offset: number): SearchResult;
  problems(limit: number, offset: number): ProblemFile[];
  /** The start of an indexed document's stored text (only under the roots). */
  preview(requested: string): DocumentPreview;
  /** The user's pause; with `until` (ms since the epoch) indexing resumes by itself then. */
  pause(until?: number): void;
  resume(): void;
  rescan(): Promise<void>;

  /** Adds notes to every status from now on (dispose to stop). */
  addStatusSource(source: StatusSource): { dispose(): void };

  /** A new service took over (after a recovery or a restore) and was started. */
  readonly onDidSwap: Event<OwletService>;
  /** Every finished file, from whichever service is current. */
  readonly onDidProcess: Event<Processed>;
  /** Every committed batch, from whichever service is current. */
  readonly onDidCommit: Event<readonly WriteOp[]>;
  /** An extractor breaker changed state, on whichever service is current. */
  readonly onDidChangeBreaker: Event<BreakerChange>;
  /** SQLITE_CORRUPT / SQLITE_NOTADB surfaced on the index connection (recovery listens). */
  readonly onDidDetectCorruption: Event<unknown>;
}
