import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version.js';

/**
 * The Prometheus metrics of one service process, in a registry of its own (never prom-client's
 * global one, so tests and several services in one process do not mix). Counters are bumped by
 * hooks on the hot paths (one increment each); everything that is a state rather than an event
 * is a gauge read from its source at scrape time (`collect`), so it costs nothing between scrapes.
 */

/** What scrape-time gauges read. Each returns the current value; all are cheap except `documents`. */
export interface GaugeSources {
  queueDepth(): number;
  deferred(): number;
  retryQueue(): number;
  quarantined(): number;
  documents(): { indexed: number; skipped: number; failed: number };
  breakers(): { name: string; state: 'closed' | 'open' | 'half-open'; openSeconds: number }[];
  pool(): { workers: number; busy: number; queued: number; restarts: number; timeouts: number; crashes: number; memoryKills: number };
  cache(): { hits: number; misses: number; entries: number };
  files(): { db: number; wal: number; metrics: number };
  disk(): { free: number; total: number } | null;
  backupAgeSeconds(): number | undefined;
  health(): { status: number; checks: { id: string; status: number }[] } | null;
  alerts(): { severity: string; state: string }[];
  eventLoopLagSeconds(): number | undefined;
}

export interface OwletMetrics {
  registry: Registry;
  searchDuration: Histogram;
  searches: Counter<'outcome'>;
  filesProcessed: Counter<'outcome'>;
  documentsIndexed: Counter;
  bytesIndexed: Counter;
  extractionFailures: Counter<'kind' | 'reason'>;
  retriesScheduled: Counter;
  batchesCommitted: Counter;
}

const BREAKER_LEVEL = { closed: 0, 'half-open': 1, open: 2 } as const;

export function createMetrics(src: GaugeSources, opts: { defaultMetrics?: boolean } = {}): OwletMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  new Gauge({ name: 'owlet_info', help: 'Owlet build information (always 1)', labelNames: ['version'], registers }).set({ version: VERSION }, 1);

  const m: OwletMetrics = {
    registry,
    searchDuration: new Histogram({
      name: 'owlet_search_duration_seconds',
      help: 'Time to answer a search (parse, query, snippets), including cache hits',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    searches: new Counter({ name: 'owlet_searches_total', help: 'Searches by outcome (ok, invalid query, error)', labelNames: ['outcome'], registers }),
    filesProcessed: new Counter({ name: 'owlet_files_processed_total', help: 'Files finished by the indexer, by outcome', labelNames: ['outcome'], registers }),
    documentsIndexed: new Counter({ name: 'owlet_documents_indexed_total', help: 'Documents written to the index (committed)', registers }),
    bytesIndexed: new Counter({ name: 'owlet_bytes_indexed_total', help: 'Source file bytes of the documents written to the index', registers }),
    extractionFailures: new Counter({
      name: 'owlet_extraction_failures_total',
      help: 'Files that failed extraction, by extractor kind and reason',
      labelNames: ['kind', 'reason'],
      registers,
    }),
    retriesScheduled: new Counter({ name: 'owlet_retries_total', help: 'Transient read errors scheduled for a retry', registers }),
    batchesCommitted: new Counter({ name: 'owlet_index_batches_total', help: 'Index write transactions committed', registers }),
  };

  const gauge = (name: string, help: string, read: (g: Gauge) => void, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        read(this);
      },
    });

  gauge('owlet_queue_depth', 'Files waiting for extraction or a write', (g) => g.set(src.queueDepth()));
  gauge('owlet_deferred_files', 'Files waiting for an open circuit breaker to close', (g) => g.set(src.deferred()));
  gauge('owlet_retry_queue_files', 'Files waiting for a retry after a transient read error', (g) => g.set(src.retryQueue()));
  gauge('owlet_quarantined_files', 'Files not tried again until they change (they crashed or hung extraction)', (g) => g.set(src.quarantined()));
  gauge(
    'owlet_documents',
    'Documents in the index by status',
    (g) => {
      const c = src.documents();
      g.set({ status: 'indexed' }, c.indexed);
      g.set({ status: 'skipped' }, c.skipped);
      g.set({ status: 'failed' }, c.failed);
    },
    ['status'],
  );
  gauge(
    'owlet_breaker_state',
    'Extractor circuit breaker state: 0 closed, 1 half-open, 2 open',
    (g) => {
      g.reset();
      for (const b of src.breakers()) g.set({ breaker: b.name }, BREAKER_LEVEL[b.state]);
    },
    ['breaker'],
  );
  gauge(
    'owlet_breaker_open_seconds',
    'How long each breaker has been out of the closed state (0 when closed)',
    (g) => {
      g.reset();
      for (const b of src.breakers()) g.set({ breaker: b.name }, b.openSeconds);
    },
    ['breaker'],
  );
  const pool = (key: 'workers' | 'busy' | 'queued') => (g: Gauge) => g.set(src.pool()[key]);
  gauge('owlet_extractor_workers', 'Extraction worker processes', pool('workers'));
  gauge('owlet_extractor_workers_busy', 'Extraction workers busy with a file', pool('busy'));
  gauge('owlet_extractor_queue', 'Files queued for a free extraction worker', pool('queued'));
  // Pool and cache keep their own monotonic counts; expose them as counters by adding the delta.
  const counterFrom = (name: string, help: string, read: () => number) => {
    let last = 0;
    return new Counter({
      name,
      help,
      registers,
      collect() {
        const v = read();
        if (v > last) this.inc(v - last);
        last = Math.max(last, v);
      },
    });
  };
  counterFrom('owlet_extractor_restarts_total', 'Extraction workers replaced', () => src.pool().restarts);
  counterFrom('owlet_extractor_timeouts_total', 'Extraction workers killed at the per-file deadline', () => src.pool().timeouts);
  counterFrom('owlet_extractor_crashes_total', 'Extraction workers that crashed', () => src.pool().crashes);
  counterFrom('owlet_extractor_memory_kills_total', 'Extraction workers killed over the memory cap', () => src.pool().memoryKills);
  counterFrom('owlet_search_cache_hits_total', 'Searches answered from the result cache', () => src.cache().hits);
  counterFrom('owlet_search_cache_misses_total', 'Searches that ran against the index', () => src.cache().misses);
  gauge('owlet_search_cache_hit_ratio', 'Share of searches answered from the result cache since start', (g) => {
    const c = src.cache();
    g.set(c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : 0);
  });
  gauge('owlet_search_cache_entries', 'Results held in the search cache', (g) => g.set(src.cache().entries));
  gauge(
    'owlet_database_bytes',
    'Size of the databases on disk: index, its write-ahead log, metrics',
    (g) => {
      const f = src.files();
      g.set({ file: 'index' }, f.db);
      g.set({ file: 'wal' }, f.wal);
      g.set({ file: 'metrics' }, f.metrics);
    },
    ['file'],
  );
  gauge('owlet_disk_free_bytes', 'Free space on the volume holding the data directory', (g) => {
    const d = src.disk();
    if (d) g.set(d.free);
  });
  gauge('owlet_disk_total_bytes', 'Size of the volume holding the data directory', (g) => {
    const d = src.disk();
    if (d) g.set(d.total);
  });
  gauge('owlet_eventloop_lag_p99_seconds', 'Event-loop delay, 99th percentile over the last sample interval', (g) => {
    g.set(src.eventLoopLagSeconds() ?? 0);
  });
  // Labelled so that "no backup" is an absent series, never a made-up 0.
  gauge(
    'owlet_last_backup_age_seconds',
    'Age of the last verified backup (absent when there is none)',
    (g) => {
      g.reset();
      const v = src.backupAgeSeconds();
      if (v !== undefined) g.set({ backup: 'last_verified' }, v);
    },
    ['backup'],
  );
  gauge('owlet_health_status', 'Overall health: 0 ok, 1 degraded, 2 failed', (g) => {
    const h = src.health();
    if (h) g.set(h.status);
  });
  gauge(
    'owlet_health_check_status',
    'Each health check: 0 ok, 1 degraded, 2 failed',
    (g) => {
      g.reset();
      for (const c of src.health()?.checks ?? []) g.set({ check: c.id }, c.status);
    },
    ['check'],
  );
  gauge(
    'owlet_alerts_active',
    'Active alerts by severity and state',
    (g) => {
      g.reset();
      const counts = new Map<string, number>();
      for (const a of src.alerts()) counts.set(`${a.severity}\u0000${a.state}`, (counts.get(`${a.severity}\u0000${a.state}`) ?? 0) + 1);
      for (const [k, n] of counts) {
        const [severity, state] = k.split('\u0000') as [string, string];
        g.set({ severity, state }, n);
      }
    },
    ['severity', 'state'],
  );
  return m;
}
