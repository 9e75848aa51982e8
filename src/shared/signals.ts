/**
 * The named numbers the sampler computes every few seconds: stored as time series (one column
 * each in metrics.db), charted by the dashboard, and referenced by alert rules. Adding a signal is
 * adding a line here (the store adds the column on open); never rename one, rules refer to it.
 * Imports nothing, so the configuration schema can validate rule metrics against it. It lives in
 * shared, below metrics/ (which samples them), alerts/ (whose rules read them), config/ and the
 * dashboard's time-series route, so that each of them imports it downward.
 */
export const SIGNALS = {
  uptime_seconds: { unit: 's', help: 'seconds since the service started' },
  documents_indexed: { unit: 'count', help: 'documents in the index (refreshed every minute)' },
  docs_per_second: { unit: '/s', help: 'documents indexed per second (committed batches)' },
  bytes_per_second: { unit: 'B/s', help: 'source bytes indexed per second' },
  queue_depth: { unit: 'count', help: 'files waiting for extraction or a write' },
  extraction_failures_per_minute: { unit: '/min', help: 'files that failed extraction, per minute' },
  extraction_failure_ratio: { unit: 'ratio', help: 'failed / processed files over the last 10 minutes (empty below 20 files)' },
  retry_queue: { unit: 'count', help: 'files waiting for a retry after a transient read error' },
  breakers_open: { unit: 'count', help: 'extractor circuit breakers not closed' },
  breaker_open_seconds: { unit: 's', help: 'longest time any extractor breaker has been open' },
  searches_per_minute: { unit: '/min', help: 'searches answered per minute' },
  search_p95_ms: { unit: 'ms', help: '95th percentile search latency over the last 5 minutes (empty below 5 searches)' },
  cache_hit_ratio: { unit: 'ratio', help: 'share of searches answered from the result cache (since start)' },
  cpu_ratio: { unit: 'ratio', help: 'service process CPU time per wall time (1 = one core)' },
  rss_bytes: { unit: 'B', help: 'service process resident memory' },
  heap_used_bytes: { unit: 'B', help: 'V8 heap in use' },
  event_loop_lag_ms: { unit: 'ms', help: 'event-loop delay, 99th percentile over the sample interval' },
  db_bytes: { unit: 'B', help: 'index database file size' },
  wal_bytes: { unit: 'B', help: 'index write-ahead log size' },
  metrics_db_bytes: { unit: 'B', help: 'metrics database size (this time-series store)' },
  disk_free_bytes: { unit: 'B', help: 'free space on the volume holding the data directory' },
  disk_free_ratio: { unit: 'ratio', help: 'free / total space on the data volume' },
  roots_offline: { unit: 'count', help: 'roots that are offline (unplugged, unmounted)' },
  unclean_restarts_1h: { unit: 'count', help: 'service starts in the last hour that followed a crash or kill' },
  integrity_failed: { unit: 'bool', help: '1 when the last database integrity check found damage' },
  backup_skipped: { unit: '', help: '1 while the newest backup attempt was skipped for lack of disk space (cleared by a successful backup)' },
  backup_age_hours: { unit: 'h', help: 'age of the last verified backup (empty when there is no backup feature or no backup)' },
  config_restored: { unit: 'bool', help: '1 while config.json stands restored from the last good copy after it was found damaged (cleared when it is saved again)' },
  health_status: { unit: 'level', help: 'overall health: 0 ok, 1 degraded, 2 failed' },
} as const;

export type SignalName = keyof typeof SIGNALS;
export const SIGNAL_NAMES = Object.keys(SIGNALS) as [SignalName, ...SignalName[]];
/** A value per signal; undefined when there is no meaningful value yet (stored as NULL, never alerts). */
export type Signals = Partial<Record<SignalName, number>>;
