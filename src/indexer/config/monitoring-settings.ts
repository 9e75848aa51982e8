import { z } from 'zod';
import { SIGNAL_NAMES } from '../../shared/signals.js';

/**
 * The `monitoring` section of config.json: metrics, time series, health and alert rules. Kept in
 * its own module (imported by config/schema.ts) because the rule defaults are long; the defaults
 * still live in this schema and nowhere else.
 */
export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

export const Comparison = z.enum(['>', '>=', '<', '<=', '==', '!=']);
export type Comparison = z.infer<typeof Comparison>;

/** Where a notification can go; 'tray' is registered by the Electron shell when it runs. */
export const ChannelName = z.enum(['banner', 'log', 'webhook', 'tray']);
export type ChannelName = z.infer<typeof ChannelName>;

export const AlertRule = z
  .object({
    /** Stable name: alerts are deduplicated per rule id. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes, at most 64'),
    /** A signal name (see src/shared/signals.ts). */
    metric: z.enum(SIGNAL_NAMES),
    op: Comparison,
    threshold: z.number().finite(),
    /** How long the condition must hold before the alert fires (pending until then). */
    forSeconds: z.number().int().min(0).max(7 * 86_400).default(0),
    severity: Severity.default('warning'),
    summary: z.string().min(1).max(200),
    /** What a person should do about it. */
    remedy: z.string().max(400).optional(),
  })
  .strict();
export type AlertRule = z.infer<typeof AlertRule>;

export const DEFAULT_ALERT_RULES: AlertRule[] = [
  {
    id: 'disk-space-low',
    metric: 'disk_free_ratio',
    op: '<',
    threshold: 0.05,
    forSeconds: 300,
    severity: 'warning',
    summary: 'less than 5% free space on the volume holding the Owlet data directory',
    remedy: 'free some space on that disk; indexing pauses when it is full while search keeps working',
  },
  {
    id: 'disk-space-critical',
    metric: 'disk_free_bytes',
    op: '<',
    threshold: 512 * 1024 * 1024,
    forSeconds: 60,
    severity: 'critical',
    summary: 'less than 512 MB free on the volume holding the Owlet data directory',
    remedy: 'free space now: the index cannot grow and new documents are not searchable',
  },
  {
    id: 'extraction-failures-high',
    metric: 'extraction_failure_ratio',
    op: '>',
    threshold: 0.3,
    forSeconds: 600,
    severity: 'warning',
    summary: 'more than 30% of the files processed in the last 10 minutes failed extraction',
    remedy: 'run "owlet errors" to see which files and why; damaged or password-protected files fail by design',
  },
  {
    id: 'breaker-open-long',
    metric: 'breaker_open_seconds',
    op: '>',
    threshold: 900,
    forSeconds: 0,
    severity: 'warning',
    summary: 'an extractor has been paused by its circuit breaker for more than 15 minutes',
    remedy: 'check "owlet errors" for timeouts or crashes of that file kind; consider extractors.timeoutMs or extractors.memoryMb',
  },
  {
    id: 'crash-loop',
    metric: 'unclean_restarts_1h',
    op: '>=',
    threshold: 3,
    forSeconds: 0,
    severity: 'critical',
    summary: 'the service restarted after a crash or kill 3 or more times in the last hour',
    remedy: 'read logs/service.log in the data directory for the error before each start and run "owlet doctor"',
  },
  {
    id: 'search-slow',
    metric: 'search_p95_ms',
    op: '>',
    threshold: 1000,
    forSeconds: 300,
    severity: 'warning',
    summary: 'searches are slow: the 95th percentile took more than 1 s over the last 5 minutes',
    remedy: 'check disk and CPU load; run "owlet doctor" to verify the index',
  },
  {
    id: 'integrity-failed',
    metric: 'integrity_failed',
    op: '>=',
    threshold: 1,
    forSeconds: 0,
    severity: 'critical',
    summary: 'the last database integrity check found damage',
    remedy: 'run "owlet doctor --fix"; if the damage remains, restore a backup',
  },
  {
    id: 'backup-skipped',
    metric: 'backup_skipped',
    op: '>=',
    threshold: 1,
    forSeconds: 0,
    severity: 'warning',
    summary: 'the last backup was skipped: it would not fit on the disk',
    remedy: 'free space on the backup volume or set backup.dir to a larger disk, then run "owlet backup create"',
  },
  {
    id: 'backup-stale',
    metric: 'backup_age_hours',
    op: '>',
    threshold: 48,
    forSeconds: 0,
    severity: 'warning',
    summary: 'the last verified backup is more than 48 hours old',
    remedy: 'check the backup destination is reachable and run a backup',
  },
  {
    id: 'config-restored',
    metric: 'config_restored',
    op: '>=',
    threshold: 1,
    forSeconds: 0,
    severity: 'warning',
    summary: 'config.json was damaged; Owlet restored the last good configuration and kept the damaged file beside it',
    remedy: 'compare config.json with the config.json.broken-* file beside it, redo the intended change with "owlet config" or the dashboard, then delete the broken copy',
  },
];

const Routes = z
  .object({
    info: z.array(ChannelName).default(['banner', 'log']),
    warning: z.array(ChannelName).default(['banner', 'log', 'tray']),
    critical: z.array(ChannelName).default(['banner', 'log', 'tray', 'webhook']),
  })
  .strict();

const Webhook = z
  .object({
    /** Off unless an admin sets a URL; receives a JSON POST per notification. */
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), { message: 'the webhook URL must start with http:// or https://' })
      .nullable()
      .default(null),
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  })
  .strict();

export const AlertSettings = z
  .object({
    /**
     * Rules added to the defaults (DEFAULT_ALERT_RULES); a rule with a default's id replaces it.
     * Defaults stay in code, so a saved config.json picks up improved defaults on upgrade.
     */
    rules: z
      .array(AlertRule)
      .max(200)
      .default([])
      .superRefine((rules, ctx) => {
        const seen = new Set<string>();
        rules.forEach((r, i) => {
          if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id "${r.id}"` });
          seen.add(r.id);
        });
      }),
    /** Default rules switched off, by id. */
    disabledRules: z.array(z.string().max(64)).max(100).default([]),
    /** A firing alert nobody acknowledged is re-notified with one severity higher after this; 0 disables. */
    escalateAfterMinutes: z.number().min(0).max(10_080).default(60),
    routes: Routes.default(Routes.parse({})),
    webhook: Webhook.default(Webhook.parse({})),
    /** Resolved alerts kept for the history view. */
    historyDays: z.number().int().min(1).max(3650).default(90),
  })
  .strict();
export type AlertSettings = z.infer<typeof AlertSettings>;

export const Retention = z
  .object({
    rawHours: z.number().min(1).max(24 * 31).default(24),
    minuteDays: z.number().min(1).max(366).default(7),
    hourDays: z.number().min(1).max(3650).default(90),
  })
  .strict();

export const MonitoringSettings = z
  .object({
    /** Metrics, time series and alerts; health endpoints and doctor work either way. */
    enabled: z.boolean().default(true),
    /** Time-series sample period. */
    sampleSeconds: z.number().min(1).max(300).default(5),
    retention: Retention.default(Retention.parse({})),
    /** Background PRAGMA integrity_check of the index (in a worker thread); 0 disables. */
    integrityCheckHours: z.number().min(0).max(8760).default(24),
    alerts: AlertSettings.default(AlertSettings.parse({})),
  })
  .strict();
export type MonitoringSettings = z.infer<typeof MonitoringSettings>;

export function defaultMonitoringSettings(): MonitoringSettings {
  return MonitoringSettings.parse({});
}

/** The rules in force: the defaults, minus those disabled, with same-id rules replaced, plus the rest. */
export function effectiveRules(a: Pick<AlertSettings, 'rules' | 'disabledRules'>): AlertRule[] {
  const own = new Map(a.rules.map((r) => [r.id, r]));
  const off = new Set(a.disabledRules);
  const out = DEFAULT_ALERT_RULES.filter((r) => !off.has(r.id)).map((r) => own.get(r.id) ?? r);
  for (const r of a.rules) if (!DEFAULT_ALERT_RULES.some((d) => d.id === r.id)) out.push(r);
  return out;
}
