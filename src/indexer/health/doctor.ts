import fs from 'node:fs';
import path from 'node:path';
import { HEALTH_COLOURS, worstStatus, type HealthCheck, type HealthReport, type HealthStatus } from '../../shared/health.js';
import type { ServiceInfo } from '../../shared/api.js';
import { errnoCode } from '../../shared/errors.js';
import { CONFIG_FILE, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { effectiveRules } from '../metrics/settings.js';
import { fileLogger } from '../log/file-logger.js';
import { INDEX_FILE, openIndex, type IndexContext } from '../service/context.js';
import { OwletService } from '../service/service.js';
import { processAlive, readServiceInfo, SERVICE_FILE } from '../service/service-file.js';
import { dataFolderLocked, describeHolder, withDataLock } from '../service/data-lock.js';
import { readApiToken } from '../security/token.js';
import { describeSecretStore, openSecretStore, readStoreMarker } from '../security/secrets.js';
import { AUDIT_DIR, checkAuditTrail } from '../audit/log.js';
import { inspectDataDir } from '../security/data-dir-guard.js';
import type { Db } from '../store/db.js';
import { rebuildFts } from '../store/fts-rebuild.js';
import { SCHEMA_VERSION, schemaVersion } from '../store/migrations.js';
import { closeDatabase } from '../store/db.js';
import { METRICS_FILE, openMetricsDb, writeIntegrity } from '../metrics/metrics-db.js';
import { statfsSpace, type SpaceProbe } from '../metrics/collectors.js';
import { checkBackup, checkDisk, type BackupInfo, type HealthInputs } from './checks.js';
import { backupSettings } from '../backup/local.js';
import { isVerified, listBackups } from '../backup/manifest.js';
import { backupDir } from '../backup/paths.js';
import { integrityCheck } from './integrity.js';
import { defaultPolicyFile, effectiveSettings, readPolicy } from '../update/policy.js';
import { DEFAULT_UPDATE_CONFIG } from '../update/settings.js';
import { withRunbooks } from './report.js';
import { ftsConsistency, searchProbe } from '../store/stats.js';
import { backupBeforeMigration } from '../backup/migration.js';

/**
 * `owlet doctor`: every health check that can be made from outside the service (and the live
 * service's own report when one runs), plus configuration, data-directory permissions, a full
 * `PRAGMA integrity_check`, and the consistency of the full-text index with the stored documents.
 * Each finding says what to do; `--fix` applies the remedies that cannot lose data:
 *
 *   chmod the data directory to 0700 · remove a stale service.json left by a crashed service ·
 *   rebuild the full-text index from the stored (compressed) text · move an unreadable metrics.db
 *   aside · rescan a root that is marked offline but reachable, or was never fully scanned
 *
 * and then checks again, so the report shows the state after the fixes.
 */

export interface DoctorFinding extends HealthCheck {
  /** The safe automatic remedy `--fix` would apply, in words. */
  fix?: string;
}

export interface DoctorAction {
  check: string;
  /** What was done, in words. */
  action: string;
  ok: boolean;
  message: string;
}

export interface DoctorReport extends HealthReport {
  dataDir: string;
  checks: DoctorFinding[];
  /** Remedies applied by --fix (empty without it). */
  fixed: DoctorAction[];
  service: { running: boolean; url?: string; pid?: number };
}

export interface DoctorDeps {
  now?: () => number;
  space?: SpaceProbe;
  /** Rescans roots when no service runs; default: a one-shot indexing pass in this process. */
  rescan?: (dataDir: string, roots: string[]) => Promise<void>;
  fetch?: typeof fetch;
  uid?: number | null;
  /** The machine-wide update policy file (default: the platform's, e.g. /etc/owlet/policy.json). */
  policyFile?: string;
}

type Fixer = () => Promise<string>;

interface Inspection {
  findings: DoctorFinding[];
  fixes: { check: string; action: string; run: Fixer }[];
  service: DoctorReport['service'];
}

const uidOf = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

// Re-exported for callers that import it from the doctor; the SQL lives in store/.
export { ftsConsistency };

function trustedServiceInfo(dataDir: string): ServiceInfo | null {
  try {
    return readServiceInfo(dataDir);
  } catch {
    return null;
  }
}

/** The update policy in force, as `owlet doctor` reports it (#12: "owlet doctor reports the policy in force"). */
export function updatesFinding(config: Config | null, policyFile: string): DoctorFinding {
  const base = { id: 'updates', name: 'Updates' };
  const p = readPolicy(policyFile);
  if (p.status === 'invalid') {
    return { ...base, status: 'degraded', message: `machine policy ${policyFile} is unusable, so updates are off: ${p.error ?? 'invalid'}`, remedy: `fix or remove ${policyFile} (an administrator's file; see the operations guide)` };
  }
  const s = effectiveSettings(config?.updates ?? DEFAULT_UPDATE_CONFIG, p);
  const fixed = Object.keys(p.policy);
  const policy = p.status === 'absent' ? `no machine policy (${policyFile})` : `machine policy ${policyFile} sets ${fixed.length ? fixed.join(', ') : 'nothing'}`;
  const what = s.disabled
    ? `updates off: ${s.disabledBy ?? 'policy'}`
    : `channel ${s.channel} from ${s.feedUrl}, ${s.autoApply ? 'installed automatically' : 'installed on request'}${s.pinnedVersion ? `, pinned to ${s.pinnedVersion}` : ''}`;
  return { ...base, status: 'ok', message: `${policy}; ${what}` };
}

function mode(st: fs.Stats): string {
  return (st.mode & 0o777).toString(8);
}

async function liveHealth(info: ServiceInfo, dataDir: string, f: typeof fetch): Promise<HealthReport | string> {
  try {
    const res = await f(`${info.url}/api/v1/health`, { headers: { Authorization: `Bearer ${readApiToken(dataDir)}` }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return `it answered ${res.status}`;
    return (await res.json()) as HealthReport;
  } catch (e) {
    return (e as Error).message;
  }
}

async function inspect(dataDir: string, deps: Required<Pick<DoctorDeps, 'now' | 'space' | 'fetch'>> & DoctorDeps): Promise<Inspection> {
  const findings: DoctorFinding[] = [];
  const fixes: Inspection['fixes'] = [];
  const add = (f: DoctorFinding, run?: Fixer) => {
    findings.push(f);
    if (run && f.fix && f.status !== 'ok') fixes.push({ check: f.id, action: f.fix, run });
  };
  const now = deps.now();

  // Data directory: exists, ours, private, writable.
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dataDir);
  } catch {
    add({ id: 'datadir', name: 'Data directory', status: 'failed', message: `there is no Owlet data directory at ${dataDir}`, remedy: 'index a folder with "owlet index --root DIR", or pass the right --data-dir' });
    return { findings, fixes, service: { running: false } };
  }
  const uid = deps.uid === undefined ? uidOf() : deps.uid;
  // The data folder and every folder in it: real folders, ours, 0700 (the service refuses to start
  // otherwise); files in it: no symlinks, ours, writable by us only.
  const problems = st.isDirectory() ? inspectDataDir(dataDir, { uid }) : [];
  if (!st.isDirectory()) add({ id: 'datadir', name: 'Data directory', status: 'failed', message: `${dataDir} is not a folder`, remedy: 'move that file away or pass another --data-dir' });
  for (const p of problems) {
    const rel = path.relative(dataDir, p.path);
    const f: DoctorFinding = { id: rel ? `datadir:${rel}` : 'datadir', name: rel ? `Data directory: ${rel}` : 'Data directory', status: 'failed', message: `${p.message}; the service refuses to start`, remedy: p.fix };
    if (p.kind === 'mode') {
      const folder = fs.lstatSync(p.path).isDirectory();
      add({ ...f, fix: folder ? `restrict ${p.path} to its owner (chmod 700)` : `make ${p.path} writable by its owner only (chmod 600)` }, async () => {
        fs.chmodSync(p.path, folder ? 0o700 : 0o600);
        return `changed ${p.path} to mode ${folder ? '700' : '600'}`;
      });
    } else add(f);
  }
  if (st.isDirectory() && problems.length === 0) {
    try {
      const probe = path.join(dataDir, `.doctor-probe-${process.pid}`);
      fs.writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
      fs.unlinkSync(probe);
      add({ id: 'datadir', name: 'Data directory', status: 'ok', message: `${dataDir} and every folder in it private (mode ${mode(st)}), owned by you, no symlinks; writable` });
    } catch (e) {
      add({ id: 'datadir', name: 'Data directory', status: 'failed', message: `${dataDir} is not writable: ${(e as Error).message}`, remedy: 'free space on that disk or fix its permissions' });
    }
  }

  // Configuration.
  let config: Config | null = null;
  try {
    config = loadConfig(dataDir);
    const m = config.monitoring;
    add({
      id: 'config',
      name: 'Configuration',
      status: 'ok',
      message: `${fs.existsSync(path.join(dataDir, CONFIG_FILE)) ? 'valid' : 'defaults (no config.json)'}: ${config.roots.length} root(s), monitoring ${m.enabled ? 'on' : 'off'}, ${effectiveRules(m.alerts).length} alert rules`,
    });
  } catch (e) {
    add({ id: 'config', name: 'Configuration', status: 'failed', message: (e as Error).message, remedy: `fix the named setting in ${path.join(dataDir, CONFIG_FILE)} (or delete the file to return to defaults)` });
  }

  // Updates: the machine policy in force (it outranks config.json) and what it leaves of updates.
  add(updatesFinding(config, deps.policyFile ?? defaultPolicyFile()));

  // Service: running, or a stale service.json left by a crash.
  // service.json is trusted only in a private data folder (the data-directory finding says why not).
  const info = trustedServiceInfo(dataDir);
  const running = info !== null && processAlive(info.pid);
  let live: HealthReport | null = null;
  if (running) {
    const h = await liveHealth(info, dataDir, deps.fetch);
    if (typeof h === 'string')
      add({ id: 'service', name: 'Service', status: 'degraded', message: `a service runs (pid ${info.pid}) but ${info.url} does not answer: ${h}`, remedy: 'wait a moment, or restart it' });
    else {
      live = h;
      add({ id: 'service', name: 'Service', status: 'ok', message: `running (pid ${info.pid}, ${info.url})` });
    }
  } else {
    const stale = fs.readdirSync(dataDir).filter((f) => f === SERVICE_FILE || (f.startsWith(`${SERVICE_FILE}.`) && f.endsWith('.tmp')));
    if (stale.length)
      add(
        {
          id: 'service',
          name: 'Service',
          status: 'degraded',
          message: info ? `not running; ${SERVICE_FILE} is left over from a service that died (pid ${info.pid})` : `not running; ${stale.join(', ')} left over`,
          remedy: `delete ${stale.join(', ')} in the data directory`,
          fix: `remove the stale ${stale.join(', ')}`,
        },
        async () => {
          // Re-checked at fix time: never remove the file of a service that started meanwhile.
          const again = trustedServiceInfo(dataDir);
          if (again && processAlive(again.pid)) return `left ${SERVICE_FILE}: a service started meanwhile (pid ${again.pid})`;
          // The data folder's lock is the truth: while anyone holds it the file is not stale.
          if (dataFolderLocked(dataDir)) return `left ${SERVICE_FILE}: ${describeHolder(dataDir)} holds the data folder`;
          for (const f of stale) fs.rmSync(path.join(dataDir, f), { force: true });
          return `removed ${stale.join(', ')}`;
        },
      );
    else add({ id: 'service', name: 'Service', status: 'ok', message: 'not running' });
  }

  // Index database: opens, schema, integrity, full-text consistency.
  const indexFile = path.join(dataDir, INDEX_FILE);
  let ctx: IndexContext | null = null;
  let indexKey: Buffer | null | undefined;
  if (!fs.existsSync(indexFile)) add({ id: 'database', name: 'Index database', status: 'degraded', message: 'no index yet', remedy: 'index a folder with "owlet index --root DIR"' });
  else if (!config)
    // Opening the index needs the configuration (where its key is kept).
    add({ id: 'database', name: 'Index database', status: 'degraded', message: 'not checked: the configuration must be valid first', remedy: 'fix the configuration, then run "owlet doctor" again' });
  else {
    try {
      ctx = openIndex(dataDir, { readonly: true });
    } catch (e) {
      add({
        id: 'database',
        name: 'Index database',
        status: 'failed',
        message: (e as Error).message,
        remedy: 'restore a backup; or move index.db aside and index again with "owlet index" (your documents are not touched)',
      });
    }
  }
  if (ctx) {
    const { db } = ctx;
    indexKey = ctx.key;
    try {
      const v = schemaVersion(db);
      if (v > SCHEMA_VERSION) add({ id: 'database', name: 'Index database', status: 'failed', message: `written by a newer Owlet (schema ${v}, this one knows ${SCHEMA_VERSION})`, remedy: 'update Owlet, or restore a backup made by this version' });
      else if (v < SCHEMA_VERSION) add({ id: 'database', name: 'Index database', status: 'degraded', message: `schema ${v}; it is upgraded to ${SCHEMA_VERSION} at the next start`, remedy: 'start the service once' });
      else add({ id: 'database', name: 'Index database', status: 'ok', message: `opens, schema ${v}${ctx.key ? ', encrypted' : ''}` });

      const ic = integrityCheck(db);
      let rec = { at: now, ok: ic.ok, message: ic.message, durationMs: ic.durationMs, by: 'doctor' as const };
      const ftsDamage = !ic.ok && /fts5|docs_fts/i.test(ic.message);
      if (ic.ok) add({ id: 'integrity', name: 'Integrity (PRAGMA integrity_check)', status: 'ok', message: `no damage found (${ic.durationMs} ms)` });
      else if (ftsDamage)
        add(
          { id: 'integrity', name: 'Integrity (PRAGMA integrity_check)', status: 'failed', message: `the full-text index is damaged: ${ic.message}`, remedy: 'run "owlet doctor --fix" to rebuild it from the stored text', fix: 'rebuild the full-text index from the stored text' },
          async () => rebuildWithWriter(dataDir),
        );
      else add({ id: 'integrity', name: 'Integrity (PRAGMA integrity_check)', status: 'failed', message: `damage found: ${ic.message}`, remedy: 'restore a backup; or move index.db aside and index again with "owlet index"' });

      if (!ftsDamage) {
        let fts: DoctorFinding;
        let canRebuild = false;
        try {
          const c = ftsConsistency(db);
          const probe = searchProbe(db);
          if (!probe.ok) {
            fts = { id: 'fts', name: 'Full-text index', status: 'failed', message: `searching fails: ${probe.message}` };
            canRebuild = true;
          } else if (c.missing > 0) {
            fts = { id: 'fts', name: 'Full-text index', status: 'failed', message: `${c.missing} indexed document(s) are missing from the full-text index (searches cannot find them)` };
            canRebuild = true;
          } else if (c.stale > 0) {
            fts = { id: 'fts', name: 'Full-text index', status: 'degraded', message: `${c.stale} full-text entr${c.stale === 1 ? 'y' : 'ies'} belong to no indexed document` };
            canRebuild = true;
          } else fts = { id: 'fts', name: 'Full-text index', status: 'ok', message: 'consistent with the stored documents, searchable' };
        } catch (e) {
          fts = { id: 'fts', name: 'Full-text index', status: 'failed', message: `unreadable: ${(e as Error).message}` };
          canRebuild = true;
          rec = { ...rec, ok: false, message: (e as Error).message };
        }
        if (canRebuild) add({ ...fts, remedy: 'run "owlet doctor --fix" to rebuild it from the stored text', fix: 'rebuild the full-text index from the stored text' }, async () => rebuildWithWriter(dataDir));
        else add(fts);
      }
      recordIntegrity(dataDir, ctx.key, rec);

      // Roots: configured folders, their state in the index.
      const known = new Map(ctx.store.roots().map((r) => [r.path, r]));
      const toRescan: string[] = [];
      for (const rootCfg of config?.roots ?? []) {
        const root = path.resolve(rootCfg);
        const row = known.get(root);
        let reachable = false;
        try {
          reachable = fs.statSync(root).isDirectory() && fs.readdirSync(root).length > 0;
        } catch {
          reachable = false;
        }
        const base = { id: `root:${root}`, name: `Folder ${root}` };
        if (!reachable) add({ ...base, status: 'degraded', message: 'missing, empty or offline; its documents are kept', remedy: 'reconnect the drive or share, or remove the folder from the configuration' });
        else if (!row || row.lastScanAt === null) {
          toRescan.push(root);
          add({ ...base, status: 'degraded', message: 'never fully scanned', remedy: running ? 'wait for the running service to finish its scan' : 'run "owlet index"', fix: `rescan ${root}` });
        } else if (row.state === 'offline') {
          toRescan.push(root);
          add({ ...base, status: 'degraded', message: 'marked offline, but it is reachable now', remedy: 'rescan it (the service does so by itself within a minute)', fix: `rescan ${root}` });
        } else add({ ...base, status: 'ok', message: `online, last scanned ${new Date(row.lastScanAt).toISOString()}` });
      }
      if (toRescan.length) {
        const roots = [...toRescan];
        fixes.push({
          check: 'roots',
          action: `rescan ${roots.join(', ')}`,
          run: async () => {
            if (running && info) {
              const res = await deps.fetch(`${info.url}/api/v1/index/rescan`, { method: 'POST', headers: { Authorization: `Bearer ${readApiToken(dataDir)}` }, signal: AbortSignal.timeout(5000) });
              if (!res.ok) throw new Error(`the service answered ${res.status}`);
              return 'asked the running service to rescan';
            }
            await (deps.rescan ?? rescanHere)(dataDir, roots);
            return `rescanned ${roots.length} folder(s)`;
          },
        });
      }
    } finally {
      ctx.close();
    }
  }

  // Where the encryption key is kept: a key file is weaker than a keychain, and doctor says so.
  if (fs.existsSync(indexFile)) {
    try {
      const k = describeSecretStore(dataDir);
      add({ id: 'keys', name: 'Encryption key store', status: 'ok', message: k.weakness ?? `kept in ${k.where}` });
    } catch (e) {
      add({ id: 'keys', name: 'Encryption key store', status: 'degraded', message: `cannot tell where the keys are: ${(e as Error).message}`, remedy: 'run "owlet key status"' });
    }
  }

  // Audit trail: key and log together, chain intact up to the anchor in the key store.
  if (config && (readStoreMarker(dataDir) !== null || fs.existsSync(path.join(dataDir, AUDIT_DIR)))) {
    try {
      const r = checkAuditTrail(dataDir, openSecretStore(dataDir, config.security.secretStore));
      if (r.ok) add({ id: 'audit', name: 'Audit log', status: 'ok', message: `${r.entries} entries verified, chain and anchor intact` });
      else
        add({
          id: 'audit',
          name: 'Audit log',
          status: 'failed',
          message: `broken at ${r.firstBroken!.file}${r.firstBroken!.line ? ` line ${r.firstBroken!.line}` : ''}: ${r.firstBroken!.reason}`,
          remedy: 'find out who changed the data folder (the log no longer proves what happened before this point); "owlet audit verify" shows the details. New entries continue after the break.',
        });
    } catch (e) {
      add({ id: 'audit', name: 'Audit log', status: 'failed', message: `cannot be checked: ${(e as Error).message}`, remedy: 'unlock the keychain (or restore the key store), then run "owlet audit verify"' });
    }
  }

  // Metrics database: readable, or moved aside (only monitoring history is lost).
  const metricsFile = path.join(dataDir, METRICS_FILE);
  if (fs.existsSync(metricsFile)) {
    let problem: string | null = null;
    let key: Buffer | null = null;
    try {
      key = indexKey === undefined ? keyOf(dataDir) : indexKey;
      const mdb = openMetricsDb(dataDir, key);
      try {
        const qc = mdb.pragma('quick_check', { simple: true });
        if (qc !== 'ok') problem = String(qc);
      } finally {
        closeDatabase(mdb);
      }
    } catch (e) {
      problem = (e as Error).message;
    }
    if (problem)
      add(
        { id: 'metrics', name: 'Metrics database', status: 'degraded', message: `unreadable: ${problem}`, remedy: 'move metrics.db aside; a new one is created (only monitoring history is lost)', fix: 'move metrics.db aside (a new one is created at the next start)' },
        async () =>
          withDataLock(dataDir, 'doctor --fix', () => {
            const aside = `${metricsFile}.broken-${now}`;
            for (const s of ['', '-wal', '-shm']) if (fs.existsSync(metricsFile + s)) fs.renameSync(metricsFile + s, aside + s);
            return `moved metrics.db to ${path.basename(aside)}`;
          }),
      );
    else add({ id: 'metrics', name: 'Metrics database', status: 'ok', message: 'readable' });
  }

  // Disk space on the data volume (the same thresholds as the service's health report).
  let space: { free: number; total: number } | null = null;
  try {
    space = await deps.space(dataDir);
  } catch {
    space = null;
  }
  const snapshot = { now, space, diskFullMessage: null, backup: undefined } as unknown as HealthInputs;
  add(checkDisk(snapshot));

  // What only the running service knows (watcher, extractor pool, breakers, restarts, backups).
  const have = new Set(findings.map((f) => f.id));
  if (live) for (const c of live.checks) if (!have.has(c.id) && c.id !== 'database' && c.id !== 'integrity') add({ ...c, name: `${c.name} (service)` });
  if (!live) add(checkBackup({ ...snapshot, backup: backupsOnDisk(dataDir) }));
  return { findings, fixes, service: running && info ? { running: true, url: info.url, pid: info.pid } : { running: false } };
}

/**
 * Without a service, the backup folder itself says when the last verified backup was made (this
 * build always has the backup feature: `undefined` would claim it has none).
 */
function backupsOnDisk(dataDir: string): BackupInfo | null {
  try {
    const settings = backupSettings(dataDir);
    const dir = backupDir(dataDir, settings);
    const newest = listBackups(dir).find((b) => b.present && isVerified(b.manifest));
    const at = newest?.manifest.verification?.at ?? null;
    return { lastVerifiedAt: at ? Date.parse(at) : null, destination: dir };
  } catch {
    return null;
  }
}

/** The index key, if any, for opening metrics.db the way the service does. */
function keyOf(dataDir: string): Buffer | null {
  try {
    const c = openIndex(dataDir, { readonly: true });
    try {
      return c.key;
    } finally {
      c.close();
    }
  } catch {
    return null;
  }
}

function recordIntegrity(dataDir: string, key: Buffer | null, rec: { at: number; ok: boolean; message: string; durationMs: number; by: 'doctor' }): void {
  try {
    const mdb = openMetricsDb(dataDir, key);
    try {
      writeIntegrity(mdb, rec);
    } finally {
      closeDatabase(mdb);
    }
  } catch {
    // A broken metrics.db is its own finding; the verdict is still printed.
  }
}

async function rebuildWithWriter(dataDir: string): Promise<string> {
  // Writes the index: never beside a service (it would fail with "database is locked" half-way).
  return withDataLock(dataDir, 'doctor --fix', () => rebuildUnlocked(dataDir));
}

async function rebuildUnlocked(dataDir: string): Promise<string> {
  const ctx = openIndex(dataDir, { beforeMigrate: backupBeforeMigration });
  try {
    const n = rebuildFts(ctx.db);
    return `rebuilt the full-text index from the stored text (${n} document${n === 1 ? '' : 's'})`;
  } finally {
    ctx.close();
  }
}

/** One indexing pass over the given roots in this process (no service runs). */
async function rescanHere(dataDir: string, roots: string[]): Promise<void> {
  return withDataLock(dataDir, 'doctor --fix', () => rescanUnlocked(dataDir, roots));
}

async function rescanUnlocked(dataDir: string, roots: string[]): Promise<void> {
  const service = new OwletService({ dataDir, log: fileLogger(dataDir, 'doctor'), watch: false, beforeMigrate: backupBeforeMigration });
  try {
    await service.indexOnce(roots);
  } finally {
    await service.stop();
  }
}

export async function runDoctor(dataDir: string, opts: { fix: boolean }, deps: DoctorDeps = {}): Promise<DoctorReport> {
  const d = { ...deps, now: deps.now ?? Date.now, space: deps.space ?? statfsSpace, fetch: deps.fetch ?? globalThis.fetch };
  let result = await inspect(dataDir, d);
  const fixed: DoctorAction[] = [];
  if (opts.fix && result.fixes.length) {
    // One rebuild is enough even if two checks asked for it.
    const done = new Set<string>();
    for (const f of result.fixes) {
      if (done.has(f.action)) continue;
      done.add(f.action);
      try {
        fixed.push({ check: f.check, action: f.action, ok: true, message: await f.run() });
      } catch (e) {
        fixed.push({ check: f.check, action: f.action, ok: false, message: errnoCode(e) ? `${errnoCode(e)}: ${(e as Error).message}` : (e as Error).message });
      }
    }
    result = await inspect(dataDir, d);
  }
  const status: HealthStatus = worstStatus(result.findings.map((f) => f.status));
  return { status, colour: HEALTH_COLOURS[status], checkedAt: new Date(d.now()).toISOString(), dataDir, checks: withRunbooks(result.findings), fixed, service: result.service };
}
