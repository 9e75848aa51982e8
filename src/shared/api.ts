/**
 * JSON shapes of the public contract: `owlet search --json`, the HTTP API and the dashboard all
 * use these. Changing a field here is a breaking change for other tools.
 */
export interface SearchHit {
  /** Absolute path. */
  path: string;
  title: string;
  /** Higher is better (negated BM25). */
  score: number;
  /** HTML-safe: document text escaped, matched words wrapped in <mark></mark>. */
  snippet: string;
  /** ISO 8601 modification time. */
  mtime: string;
  size: number;
}

/** Page bounds of a search, the same for the API, the CLI and the dashboard. */
export const SEARCH_MAX_LIMIT = 1000;
export const SEARCH_MAX_OFFSET = 100_000;

export interface SearchResult {
  total: number;
  hits: SearchHit[];
  /** "Did you mean": present when the query found few or no documents and a correction exists. */
  suggestion?: SearchSuggestion;
}

export interface SearchSuggestion {
  /** The whole corrected query, ready to run. */
  query: string;
  /** The words replaced, as typed → as suggested. */
  words: { from: string; to: string }[];
}

export type ServiceState = 'starting' | 'indexing' | 'idle' | 'paused' | 'degraded';

export interface Progress {
  phase: 'idle' | 'scanning' | 'indexing';
  /** Files seen by the crawler in the current pass. */
  scanned: number;
  /** Files waiting for extraction or a write. */
  queued: number;
  /** Files finished (indexed, skipped or failed) in the current pass. */
  done: number;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RootStatus {
  path: string;
  state: 'online' | 'offline';
  lastScanAt: string | null;
}

/** What the dashboard and the tray show of updates (#12); from the installation Owlet runs from. */
export interface UpdateSummary {
  /** The version this service runs. */
  running: string;
  /** False when running from a source checkout or a package manager's install: updates are off. */
  installed: boolean;
  /** An update under way (downloading, unpacking, switching, gating). */
  pending: { version: string; phase: string } | null;
  /** The last apply or rollback: installed, rolled-back, refused, … */
  lastResult: { outcome: string; to: string | null; at: string | null; message: string | null } | null;
  /** Versions that failed their health gate: never installed automatically again. */
  bad: string[];
}

export interface StatusReport {
  version: string;
  state: ServiceState;
  ready: boolean;
  paused: boolean;
  /** Why indexing is paused: 'user', 'battery', 'disk-full', … */
  pausedBecause: string[];
  /** When a timed pause by the user ends by itself (ISO 8601); absent when not paused for a time. */
  pausedUntil?: string;
  dataDir: string;
  progress: Progress;
  /**
   * indexed: searchable documents; skipped/failed: files seen but not searchable (never called
   * documents); bytes: total size of the indexed documents' files; textBytes: their extracted text.
   */
  counts: { indexed: number; skipped: number; failed: number; bytes: number; textBytes: number };
  roots: RootStatus[];
  watcher: { mode: 'events' | 'polling' | 'off'; message: string | null };
  /** Reasons the service is degraded (empty when healthy). */
  degraded: { component: string; message: string }[];
  /** The index on disk: index.db and its WAL (their sum is the "database size" shown everywhere). */
  database: { bytes: number; walBytes: number; schemaVersion: number };
  uptimeMs: number;
  resilience: {
    breakers: { name: string; state: 'closed' | 'open' | 'half-open'; openedAt: string | null }[];
    /** Files waiting for a retry after a transient read error. */
    retryQueue: number;
    /** Files not tried again until they change (they crashed or hung extraction repeatedly). */
    quarantined: number;
    /** Files waiting for an open breaker to close. */
    deferred: number;
    pool: { workers: number; busy: number; queued: number; restarts: number; timeouts: number; crashes: number; memoryKills: number; recycled: number };
  };
  /** Updates, when the service knows its installation (owlet serve under owlet run, the app). */
  update?: UpdateSummary;
}

export interface ProblemFile {
  path: string;
  status: 'skipped' | 'failed';
  reason: string;
  message: string;
  size: number;
  mtime: string;
}

/** Written to `<dataDir>/service.json` while a service runs; removed on clean exit. */
export interface ServiceInfo {
  url: string;
  pid: number;
  port: number;
  version: string;
  startedAt: string;
  /** Present under `owlet run`: the supervising process. `pid` is always the current serving child. */
  supervisorPid?: number;
}

/** One line of the dashboard's update history (from the audit trail, newest first). */
export interface UpdateHistoryEntry {
  at: string;
  outcome: 'installed' | 'rolled-back' | 'refused';
  from: string | null;
  to: string | null;
  /** Why (a refusal reason, the failed health gate, "requested" for a user's rollback). */
  reason: string | null;
  message: string | null;
}

/**
 * The dashboard's Updates card, the same shape from both hosts: GET /api/v1/update (the headless
 * service, `owlet run`) and `window.owlet.updates.state()` (the tray app's updater).
 */
export interface UpdateCardView {
  /** Who applies updates: the supervisor of `owlet run`, or the tray app (electron-updater). */
  host: 'service' | 'app';
  running: string;
  /** Null when updates can run here; else why not. `policy`: locked by the machine policy. */
  off: { kind: 'not-installed' | 'policy' | 'no-feed' | 'no-supervisor'; message: string } | null;
  channel: string;
  /** The newest version the last check found, not yet installed. */
  available: string | null;
  lastCheck: { at: string; result: string } | null;
  /** An update under way: its phase and, while downloading in the app, the percentage. */
  progress: { version: string; phase: string; percent: number | null } | null;
  /** The app downloaded and verified an update: "Restart to update" installs it. */
  readyToRestart: boolean;
  /** The kept previous version "Roll back" returns to; null when none is kept. */
  previous: string | null;
  /** The last refusal or error of a check or download, for the card to show. */
  problem: string | null;
  history: UpdateHistoryEntry[];
  /** Versions that failed their health gate: never installed automatically again. */
  bad: { version: string; at: string; reason: string }[];
}
