import { z } from 'zod';
import { MonitoringSettings } from './monitoring-settings.js';
import { SecuritySettings } from './security-settings.js';
import { BackupSettings } from './backup-settings.js';
import { LANGUAGE_CODES, isLanguage } from '../text/language-codes.js';
import { DEFAULT_UPDATE_CONFIG, UpdateSettings } from './update-settings.js';

/**
 * The one configuration schema. Defaults live here and nowhere else; unknown keys are rejected so a
 * typo ("maxFileSizeMB") is an error rather than a silently ignored setting. (Keys a newer Owlet
 * wrote are the exception: config/load.ts sets them aside, see NewerSettings.)
 */
export const CONFIG_VERSION = 1;

export const DEFAULT_EXCLUDE = [
  '.git', '.hg', '.svn', 'node_modules', '__pycache__', '.cache', '.Trash*', '.DS_Store',
  '*.tmp', '*.swp', '~$*', '.~lock.*',
];

const loopbackHost = z
  .string()
  .refine((h) => h === '127.0.0.1' || h === '::1' || h === 'localhost', {
    message: 'the API only listens on the loopback interface: use 127.0.0.1, ::1 or localhost',
  });

export const ExtractorSettings = z
  .object({
    /** Child processes that parse untrusted formats (the bulkhead). */
    workers: z.number().int().min(1).max(16).default(2),
    /** Per-file time limit; a worker that exceeds it is killed and replaced. */
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Resident memory cap per worker process. */
    memoryMb: z.number().int().min(64).max(8192).default(768),
    /** Soft limit: a worker above this after a job is replaced between jobs (PDFium memory only grows). */
    recycleMb: z.number().int().min(32).max(8192).default(160),
    /**
     * How many workers may take PDFs at once (PDFium's WebAssembly memory only grows, so a worker
     * that has loaded it stays larger); 0: any worker. Fewer lowers peak memory and slows indexing
     * (bench/README.md, the knob curve).
     */
    heavyWorkers: z.number().int().min(0).max(16).default(0),
    /** With nothing to extract for this long, the workers exit (the next file starts them again); 0 keeps them. */
    idleExitSeconds: z.number().int().min(0).max(86_400).default(30),
    /** Upper bound on extracted text kept per document (the rest is dropped, not indexed). */
    maxTextMb: z.number().min(0.1).max(512).default(32),
    /** Bound on bytes inflated from one zip-based document (docx, odt, epub, ...): stops zip bombs. */
    maxUnzipMb: z.number().min(1).max(4096).default(256),
    /** PDF pages read at most per document. */
    pdfMaxPages: z.number().int().min(1).max(100_000).default(5000),
    /** File extensions (without dot) never extracted, even if a built-in extractor exists. */
    disabled: z.array(z.string().regex(/^[a-z0-9]+$/, 'lower-case extension without a dot')).default([]),
  })
  .strict();

export const ResilienceSettings = z
  .object({
    /** Deaths of the indexer or a worker on one unchanged file before it is quarantined. */
    quarantineAttempts: z.number().int().min(1).max(100).default(3),
    /** Transient read errors (EBUSY, EAGAIN, EMFILE, ETIMEDOUT…): backoff with full jitter. */
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(50).default(6),
        baseMs: z.number().int().min(10).max(3_600_000).default(2_000),
        maxMs: z.number().int().min(10).max(86_400_000).default(600_000),
      })
      .strict()
      .default({ maxAttempts: 6, baseMs: 2_000, maxMs: 600_000 }),
    /** Circuit breaker per extractor kind. */
    breaker: z
      .object({
        errorThresholdPercentage: z.number().min(1).max(100).default(50),
        volumeThreshold: z.number().int().min(1).max(10_000).default(8),
        resetTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
        rollingWindowMs: z.number().int().min(1_000).max(3_600_000).default(120_000),
      })
      .strict()
      .default({ errorThresholdPercentage: 50, volumeThreshold: 8, resetTimeoutMs: 60_000, rollingWindowMs: 120_000 }),
    /** Deadline for one directory listing or stat (network shares can hang). */
    ioTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
    /** How often offline roots are checked for their return. */
    rootCheckMs: z.number().int().min(100).max(3_600_000).default(30_000),
    /** Pause indexing while the computer runs on battery (where the OS says so). */
    pauseOnBattery: z.boolean().default(true),
    /** Share of wall time extraction workers may be busy (1 = no throttling); workers also run at low priority. */
    cpuShare: z.number().min(0.05).max(1).default(1),
  })
  .strict();

export const SearchSettings = z
  .object({
    /**
     * Stemming languages (ISO 639-1), most used first. Each document is stemmed in its own
     * language when it is one of these (the first one when its language is unknown); every query
     * word is stemmed in all of them. Changing the list applies to documents indexed from then on.
     */
    languages: z
      .array(
        z.string().refine(isLanguage, {
          message: `not a language Owlet can stem; use one of ${LANGUAGE_CODES.join(', ')}`,
        }),
      )
      .max(8, 'at most 8 stemming languages (every query word is stemmed in each)')
      .default(['en']),
  })
  .strict();

/** What the service keeps in memory (issue #14: a tray app should be small when it has nothing to do). */
export const MemorySettings = z
  .object({
    /** SQLite page cache of each index connection, MB (the OS page cache holds the rest of the file). */
    sqliteCacheMb: z.number().int().min(1).max(1024).default(8),
    /** SQLite memory-mapped reads, MB; 0 turns them off (mapped pages count as the service's resident memory). */
    sqliteMmapMb: z.number().int().min(0).max(65_536).default(0),
    /** Search results kept for repeated queries (every index write clears them); 0 keeps none. */
    searchCacheEntries: z.number().int().min(0).max(10_000).default(256),
    /** After this long with nothing to do, the service gives back SQLite's cache and its cached results; 0 never. */
    idleReleaseSeconds: z.number().int().min(0).max(86_400).default(30),
    /** While indexing, a full heap collection after every this many MB of text written (bounds the peak); 0 never. */
    collectEveryMb: z.number().min(0).max(1024).default(2),
  })
  .strict();

export const ConfigSchema = z
  .object({
    version: z.literal(CONFIG_VERSION).default(CONFIG_VERSION),
    roots: z.array(z.string().min(1, 'a root must be a non-empty path')).default([]),
    /** Globs matched against the base name and the root-relative path (picomatch syntax). */
    exclude: z.array(z.string().min(1)).default(DEFAULT_EXCLUDE),
    /** Globs a file must match (root-relative path) to be considered; default everything. */
    include: z.array(z.string().min(1)).default(['**/*']),
    maxFileSizeMb: z.number().positive().max(10_240).default(64),
    extractors: ExtractorSettings.default(ExtractorSettings.parse({})),
    indexing: z
      .object({
        /** Documents written per transaction. */
        batchSize: z.number().int().min(1).max(10_000).default(200),
        /** …or fewer, once their text reaches this many MB: FTS5 holds a batch's terms in memory until commit. */
        maxBatchMb: z.number().min(0.25).max(256).default(4),
        /** A batch is flushed after this long even if not full, so live edits show quickly. */
        flushMs: z.number().int().min(10).max(60_000).default(250),
        /** Watcher events are coalesced for this long before being applied. */
        watchDebounceMs: z.number().int().min(0).max(60_000).default(150),
        /** Periodic full reconcile (safety net for missed watcher events); 0 disables. */
        rescanMinutes: z.number().min(0).max(10_080).default(60),
      })
      .strict()
      .default({ batchSize: 200, maxBatchMb: 4, flushMs: 250, watchDebounceMs: 150, rescanMinutes: 60 }),
    resilience: ResilienceSettings.default(ResilienceSettings.parse({})),
    server: z
      .object({
        host: loopbackHost.default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(0),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 0 }),
    /** Metrics, time series, health and alert rules (defaults in config/monitoring-settings.ts). */
    monitoring: MonitoringSettings.default(MonitoringSettings.parse({})),
    /** Keys, HTTP limits, audit log (defaults in config/security-settings.ts). */
    security: SecuritySettings.default(SecuritySettings.parse({})),
    /** Stemming languages for indexing and queries. */
    search: SearchSettings.default(SearchSettings.parse({})),
    /** Caches and idle behaviour that bound the service's memory. */
    memory: MemorySettings.default(MemorySettings.parse({})),
    /** Scheduled, verified backups of the index and their retention (defaults in config/backup-settings.ts). */
    backup: BackupSettings.default(BackupSettings.parse({})),
    /** Signed updates: feed, channel, check interval, health gate (defaults in config/update-settings.ts). */
    updates: UpdateSettings.default(DEFAULT_UPDATE_CONFIG),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}
