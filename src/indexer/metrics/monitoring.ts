import { standingRestore } from '../config/repair.js';
import { drainEventAlerts, type EventAlert } from '../alerts/inbox.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Alert } from '../alerts/types.js';
import type { NotificationChannel } from '../alerts/types.js';
import { AlertEngine } from '../alerts/engine.js';
import { BannerChannel, LogChannel, WebhookChannel } from '../alerts/channels.js';
import { SqliteAlertStore } from '../alerts/store.js';
import type { HealthReport } from '../../shared/health.js';
import { HEALTH_ORDER } from '../../shared/health.js';
import { OwletError, owletError } from '../../shared/errors.js';
import type { Logger } from '../log/logger.js';
import type { IndexService } from '../service/index-service.js';
import { INDEX_FILE } from '../store/stats.js';
import type { Event } from '../../shared/event.js';
import { closeDatabase, type Db } from '../store/db.js';
import type { BackupInfo } from '../health/checks.js';
import { gatherHealthInputs, healthReport, readiness, reportOf, type Readiness } from '../health/report.js';
import { Collector, statfsSpace, type SpaceProbe } from './collectors.js';
import { METRICS_FILE, openMetricsDb, readIntegrity, recordStart, recordStop, uncleanStarts, writeIntegrity, type IntegrityRecord } from '../store/metrics-db.js';
import { createMetrics, type OwletMetrics } from './registry.js';
import { effectiveRules, type MonitoringSettings } from '../config/monitoring-settings.js';
import type { SignalName, Signals } from '../../shared/signals.js';
import { TimeSeriesStore, type SeriesResult } from './timeseries.js';

/** Where the last verified backup comes from (the backup feature); absent in builds without it. */
export type BackupSource = () => BackupInfo | null | Promise<BackupInfo | null>;

/** The periodic integrity check (recovery/integrity-schedule.ts): monitoring records its verdicts. */
export interface IntegritySource {
  last(): { at: number; ok: boolean; message: string; durationMs: number } | null;
  readonly onDidCheck: Event<{ at: number; ok: boolean; message: string; durationMs: number }>;
}

export interface MonitoringOptions {
  service: IndexService;
  settings: MonitoringSettings;
  log: Logger;
  now?: () => number;
  space?: SpaceProbe;
  backup?: BackupSource;
  /** The integrity check, which runs whether or not monitoring is on (recovery owns it). */
  integrity?: IntegritySource;
  fetch?: typeof fetch;
  /** Extra notification channels (the Electron tray). */
  channels?: NotificationChannel[];
  pid?: number;
}

export interface AlertsView {
  enabled: boolean;
  active: Alert[];
  /** Firing, unacknowledged alerts routed to the dashboard banner. */
  banner: Alert[];
  history: Alert[];
}

/** The observability surface the HTTP routes use (metrics, health, alerts, time series). */
export interface Observability {
  readonly enabled: boolean;
  metricsText(): Promise<{ contentType: string; body: string }>;
  health(): Promise<HealthReport>;
  readiness(): Readiness;
  alerts(historyLimit: number): AlertsView;
  acknowledge(id: string): Alert;
  timeseries(names: SignalName[], fromMs: number, toMs: number, maxPoints: number): SeriesResult;
  backup(): Promise<BackupInfo | null | undefined>;
  /** Seconds between samples (the dashboard polls at this pace). */
  readonly sampleSeconds: number;
  /** Records one search's duration and outcome. */
  observeSearch(ms: number, outcome: 'ok' | 'invalid' | 'error'): void;
}

const RESTART_WINDOW_MS = 3_600_000;

/**
 * Monitoring for one running service: wires the collector into the service's hooks, samples
 * every few seconds into metrics.db, evaluates alert rules, runs the periodic integrity check,
 * and answers the observability routes. With `monitoring.enabled = false` only health and
 * readiness remain (computed on request); nothing is sampled, stored or counted.
 */
export class Monitoring implements Observability {
  readonly enabled: boolean;
  readonly sampleSeconds: number;
  private readonly now: () => number;
  private readonly space: SpaceProbe;
  private db: Db | null = null;
  private store: TimeSeriesStore | null = null;
  private engine: AlertEngine | null = null;
  private banner: BannerChannel | null = null;
  private metrics: OwletMetrics | null = null;
  private collector: Collector | null = null;
  private lifecycleId = 0;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private integrityRec: IntegrityRecord | null = null;
  private integritySub: { dispose(): void } | null = null;
  private unclean: number | null = null;
  private uncleanAt = -Infinity;
  private lastReport: HealthReport | null = null;
  private lastBackup: BackupInfo | null | undefined = undefined;
  private stopped = false;

  constructor(private readonly opts: MonitoringOptions) {
    this.enabled = opts.settings.enabled;
    this.sampleSeconds = opts.settings.sampleSeconds;
    this.now = opts.now ?? Date.now;
    this.space = opts.space ?? statfsSpace;
    const fromSchedule = opts.integrity?.last();
    this.integrityRec = fromSchedule ? { ...fromSchedule, by: 'service' } : null;
    this.integritySub = opts.integrity?.onDidCheck((r) => this.recordIntegrity(r)) ?? null;
    if (!this.enabled) return;
    const { service, settings, log } = opts;
    const dataDir = service.dataDir;
    this.db = openMetricsDb(dataDir, this.indexKey(), service.candidateKeys());
    this.store = new TimeSeriesStore(this.db, settings.retention, settings.sampleSeconds);
    const stored = readIntegrity(this.db);
    if (stored && (!this.integrityRec || stored.at > this.integrityRec.at)) this.integrityRec = stored;
    this.banner = new BannerChannel();
    const a = settings.alerts;
    const channels: NotificationChannel[] = [this.banner, new LogChannel(log.child('alerts'))];
    if (a.webhook.url) channels.push(new WebhookChannel({ url: a.webhook.url, timeoutMs: a.webhook.timeoutMs, log: log.child('alerts'), ...(opts.fetch ? { fetch: opts.fetch } : {}) }));
    channels.push(...(opts.channels ?? []));
    this.engine = new AlertEngine({
      rules: effectiveRules(a),
      escalateAfterMs: a.escalateAfterMinutes * 60_000,
      routes: a.routes,
      channels,
      store: new SqliteAlertStore(this.db),
      historyMs: a.historyDays * 86_400_000,
      now: this.now,
      log: log.child('alerts'),
    });
    // Alerts restored from the database are already on the banner if they were showing.
    for (const al of this.engine.activeAlerts()) if (al.state === 'firing' && al.acknowledgedAt === null) this.banner.notify({ type: 'firing', alert: al, at: this.now() });
    const metricsFile = path.join(dataDir, METRICS_FILE);
    const indexFile = path.join(dataDir, INDEX_FILE);
    const collector = (): Collector => this.collector!;
    // Each figure from whichever service is current; while none is (a recovery), the neutral value.
    const live = () => {
      const c = service.current();
      return c.ok && c.service.isReady() ? c.service : null;
    };
    const NO_POOL = { workers: 0, busy: 0, queued: 0, restarts: 0, timeouts: 0, crashes: 0, memoryKills: 0, recycled: 0 };
    this.metrics = createMetrics({
      queueDepth: () => {
        const s = live();
        return s ? s.indexer.progress.queued + s.writer.size : 0;
      },
      deferred: () => live()?.indexer.deferred.size ?? 0,
      retryQueue: () => live()?.retries.size() ?? 0,
      quarantined: () => live()?.quarantine.quarantinedCount() ?? 0,
      documents: () => live()?.counts() ?? { indexed: 0, skipped: 0, failed: 0 },
      breakers: () => {
        const since = collector().notClosedSince();
        const now = this.now();
        return (live()?.breakers.snapshot() ?? []).map((b) => ({ name: b.name, state: b.state, openSeconds: b.state === 'closed' ? 0 : (now - (since.get(b.name) ?? b.openedAt ?? now)) / 1000 }));
      },
      pool: () => live()?.pool.stats() ?? NO_POOL,
      cache: () => live()?.searchCache.stats() ?? { hits: 0, misses: 0, entries: 0, invalidations: 0 },
      files: () => ({ db: sizeOf(indexFile), wal: sizeOf(indexFile + '-wal'), metrics: sizeOf(metricsFile) + sizeOf(metricsFile + '-wal') }),
      disk: () => collector().lastSpace(),
      backupAgeSeconds: () => (this.lastBackup?.lastVerifiedAt ? (this.now() - this.lastBackup.lastVerifiedAt) / 1000 : undefined),
      health: () => (this.lastReport ? { status: HEALTH_ORDER[this.lastReport.status], checks: this.lastReport.checks.map((c) => ({ id: c.id, status: HEALTH_ORDER[c.status] })) } : null),
      alerts: () => this.engine?.activeAlerts() ?? [],
      eventLoopLagSeconds: () => {
        const v = collector().eventLoopLagMs();
        return v === undefined ? undefined : v / 1000;
      },
    });
    this.collector = new Collector(service, this.metrics, this.now, this.space, metricsFile);
  }

  /** The index's encryption key: the metrics database and the integrity check use it too. */
  private indexKey(): Buffer | null {
    return this.opts.service.indexKey();
  }

  /** Starts sampling, the integrity schedule and crash-loop bookkeeping. Call after service.start(). */
  start(): void {
    if (!this.enabled || !this.db) return;
    this.lifecycleId = recordStart(this.db, this.opts.pid ?? process.pid, this.now());
    this.collector!.attach();
    this.timer = setInterval(() => void this.tick(), this.sampleSeconds * 1000);
    this.timer.unref();
    void this.tick();
  }

  /** A verdict of the integrity check (recovery runs it): kept for health and the alert rule. */
  private recordIntegrity(r: { at: number; ok: boolean; message: string; durationMs: number }): void {
    if (this.stopped) return;
    const rec: IntegrityRecord = { ...r, by: 'service' };
    this.integrityRec = rec;
    if (this.db?.open) writeIntegrity(this.db, rec);
  }

  /**
   * An event alert (a backup over its budget, an index recovered, an update rolled back): fires at
   * once on the alert engine, or resolves when its raiser says it is over. With monitoring off it has no engine; the raiser has logged it.
   */
  reportEvent(a: EventAlert): void {
    if (a.over) this.engine?.resolveEvent(a.id);
    else this.engine?.report(a);
  }

  /** One sample: signals → time series → alert rules. Overlapping calls share the one in progress. */
  tick(): Promise<void> {
    if (!this.enabled || this.stopped) return Promise.resolve();
    this.ticking ??= this.sampleOnce()
      .catch((e) => this.opts.log.warn('metrics sample failed', { error: e }))
      .finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async sampleOnce(): Promise<void> {
    const signals = await this.collector!.sample();
    if (this.stopped || !this.db?.open) return;
    const now = this.now();
    if (now - this.uncleanAt >= 60_000) {
      this.uncleanAt = now;
      this.unclean = uncleanStarts(this.db, this.lifecycleId, now, RESTART_WINDOW_MS);
    }
    this.lastBackup = await this.readBackup();
    const report = this.report(now, this.collector!.lastSpace());
    this.lastReport = report;
    const all: Signals = {
      ...signals,
      unclean_restarts_1h: this.unclean ?? undefined,
      integrity_failed: this.integrityRec ? (this.integrityRec.ok ? 0 : 1) : undefined,
      backup_skipped: this.lastBackup ? (this.lastBackup.lastSkippedAt ? 1 : 0) : undefined,
      backup_age_hours: this.lastBackup?.lastVerifiedAt ? (now - this.lastBackup.lastVerifiedAt) / 3_600_000 : undefined,
      config_restored: standingRestore(this.opts.service.dataDir) ? 1 : 0,
      health_status: HEALTH_ORDER[report.status],
    };
    // Alerts other Owlet processes of this data folder raised (the supervisor after a rollback).
    try {
      for (const e of drainEventAlerts(this.opts.service.dataDir)) this.engine!.report(e);
    } catch (e) {
      this.opts.log.warn('alert inbox unreadable', { error: e });
    }
    // Alerts first: the moment the disk is full is the moment recording fails, and the alert
    // that says so must still fire (found by the chaos run).
    this.engine!.evaluate(all);
    this.store!.record(now, all);
  }

  private async readBackup(): Promise<BackupInfo | null | undefined> {
    if (!this.opts.backup) return undefined;
    try {
      return await this.opts.backup();
    } catch (e) {
      this.opts.log.warn('reading the backup status failed', { error: e });
      return null;
    }
  }

  /** The report, or one failed check when the service cannot even be looked at (mid-recovery). */
  private report(now: number, space: { free: number; total: number } | null): HealthReport {
    try {
      return healthReport(this.healthInputs(now, space));
    } catch (e) {
      return reportOf(
        [{ id: 'database', name: 'Index database', status: 'failed', message: `the index is not available: ${(e as Error).message}`, remedy: 'wait a moment (it may be being recovered); if it persists, restart Owlet and run "owlet doctor"' }],
        now,
      );
    }
  }

  private healthInputs(now: number, space: { free: number; total: number } | null) {
    return gatherHealthInputs(this.opts.service, {
      now,
      space,
      integrity: this.integrityRec,
      integrityCheckHours: this.opts.settings.integrityCheckHours,
      pool: { recentFailures: this.collector?.recentPoolFailures() ?? 0 },
      notClosedSince: this.collector?.notClosedSince() ?? new Map(),
      backup: this.lastBackup,
      uncleanRestarts1h: this.enabled ? this.unclean : null,
    });
  }

  async health(): Promise<HealthReport> {
    let space: { free: number; total: number } | null = null;
    try {
      space = await this.space(this.opts.service.dataDir);
    } catch {
      space = null;
    }
    if (!this.enabled) this.lastBackup = await this.readBackup();
    const report = this.report(this.now(), space);
    this.lastReport = report;
    return report;
  }

  readiness(): Readiness {
    // Not ready means no database to look at (a recovery may have none open right now).
    const c = this.opts.service.current();
    return readiness(c.ok ? c.service.servingProblems() : ['the index database is not open']);
  }

  async backup(): Promise<BackupInfo | null | undefined> {
    this.lastBackup = await this.readBackup();
    return this.lastBackup;
  }

  async metricsText(): Promise<{ contentType: string; body: string }> {
    if (!this.metrics) throw new Error('monitoring is disabled');
    return { contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
  }

  alerts(historyLimit: number): AlertsView {
    if (!this.engine) return { enabled: false, active: [], banner: [], history: [] };
    return { enabled: true, active: this.engine.activeAlerts(), banner: this.banner!.entries(), history: this.engine.history(historyLimit) };
  }

  acknowledge(id: string): Alert {
    if (!this.engine) throw owletError('OWL_ERR_MONITORING_OFF', { feature: 'alerts' });
    return this.engine.acknowledge(id);
  }

  /** The alert engine, for channels registered later (tray) and tests. */
  get alertEngine(): AlertEngine | null {
    return this.engine;
  }

  timeseries(names: SignalName[], fromMs: number, toMs: number, maxPoints: number): SeriesResult {
    if (!this.store) return { tier: 'raw', step: this.sampleSeconds, from: Math.floor(fromMs / 1000), to: Math.floor(toMs / 1000), series: {} };
    return this.store.query({ names, from: Math.floor(fromMs / 1000), to: Math.floor(toMs / 1000), maxPoints }, this.now());
  }

  /** One search's duration and outcome (the HTTP layer's instrument() calls this). */
  observeSearch(ms: number, outcome: 'ok' | 'invalid' | 'error'): void {
    this.collector?.observeSearch(ms, outcome);
  }

  /** Stops sampling and records a clean stop (so this run does not count as a crash). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.integritySub?.dispose();
    await this.ticking?.catch(() => {});
    await this.engine?.settled();
    this.collector?.detach();
    if (this.db?.open) {
      try {
        recordStop(this.db, this.lifecycleId, this.now());
      } finally {
        closeDatabase(this.db);
      }
    }
  }
}

function sizeOf(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

/**
 * Monitoring must never keep the service from starting: a metrics.db that cannot be opened
 * (damaged, from a newer version) is moved aside and recreated, and if that fails too the service
 * runs with monitoring off and says so in the log.
 */
export function createMonitoring(opts: MonitoringOptions): Monitoring {
  try {
    return new Monitoring(opts);
  } catch (first) {
    if (!opts.settings.enabled) throw first;
    const file = path.join(opts.service.dataDir, METRICS_FILE);
    const aside = `${file}.broken-${Date.now()}`;
    opts.log.error('metrics database unusable; starting a new one', { error: first, movedTo: path.basename(aside) });
    try {
      for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, aside + suffix);
      return new Monitoring(opts);
    } catch (second) {
      opts.log.error('monitoring is off for this run: the metrics database cannot be created', { error: second });
      return new Monitoring({ ...opts, settings: { ...opts.settings, enabled: false } });
    }
  }
}
