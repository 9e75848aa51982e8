import os from 'node:os';
import path from 'node:path';
import { owletError } from '../../shared/errors.js';
import type { AuditLog } from '../../shared/audit.js';
import { describeIssues, loadConfig, saveConfig } from '../config/load.js';
import { checkRoot, isWithin, suggestedFolders } from '../config/roots.js';
import { ConfigSchema, type Config } from '../config/schema.js';

/**
 * Changes to config.json made from the dashboard: folders to index, exclusions, and the settings a
 * user may change there. Every change is validated against the one config schema, written
 * atomically, audited, and applied to the running service; nothing else writes config.json while
 * the service runs.
 */

/** A setting the dashboard shows and may change; `live`: applied at once, else at the next start. */
export interface SettingSpec {
  key: string;
  label: string;
  group: 'Indexing' | 'Backups' | 'Monitoring' | 'Updates';
  live: boolean;
  /** For a number: the unit shown next to the field. */
  unit?: string;
  /** For a list of choices (each element of an array setting is one of these). */
  choices?: readonly string[];
}

export const EDITABLE_SETTINGS: readonly SettingSpec[] = [
  { key: 'resilience.cpuShare', label: 'CPU share for indexing', group: 'Indexing', live: true, unit: 'of the time (0.05 to 1)' },
  { key: 'resilience.pauseOnBattery', label: 'Pause indexing on battery', group: 'Indexing', live: true },
  // The memory/speed trade-off of issue #14 (bench/README.md, the curve): the defaults are the
  // fastest; these let a user who prefers a smaller footprint choose it without a terminal.
  { key: 'extractors.workers', label: 'Extraction workers', group: 'Indexing', live: false, unit: 'processes (1 uses the least memory, and indexes more slowly)' },
  { key: 'extractors.heavyWorkers', label: 'Workers that may read PDFs', group: 'Indexing', live: false, unit: '(0: any; 1 lowers the peak memory)' },
  { key: 'backup.enabled', label: 'Daily backups', group: 'Backups', live: false },
  { key: 'backup.hour', label: 'Backup hour (local time)', group: 'Backups', live: false, unit: 'h (0 to 23)' },
  { key: 'backup.retention.daily', label: 'Keep daily backups for', group: 'Backups', live: false, unit: 'days' },
  { key: 'backup.retention.weekly', label: 'Keep weekly backups for', group: 'Backups', live: false, unit: 'weeks' },
  { key: 'monitoring.enabled', label: 'Monitoring (charts and alerts)', group: 'Monitoring', live: false },
  { key: 'monitoring.alerts.routes.warning', label: 'Warnings go to', group: 'Monitoring', live: false, choices: ['banner', 'log', 'tray', 'webhook'] },
  { key: 'monitoring.alerts.routes.critical', label: 'Critical alerts go to', group: 'Monitoring', live: false, choices: ['banner', 'log', 'tray', 'webhook'] },
  { key: 'monitoring.alerts.webhook.url', label: 'Webhook URL', group: 'Monitoring', live: false },
  { key: 'updates.channel', label: 'Update channel', group: 'Updates', live: false },
  { key: 'updates.autoApply', label: 'Install updates automatically', group: 'Updates', live: false },
  { key: 'updates.checkHours', label: 'Check for updates every', group: 'Updates', live: false, unit: 'h (0 turns checks off)' },
];

export interface SettingView extends SettingSpec {
  value: unknown;
  /** Set when the machine policy fixes this setting: why, in words. */
  locked: string | null;
}

export interface RootsView {
  roots: string[];
  exclude: string[];
  /** The user's usual document folders that exist and are not indexed yet (the first-run welcome). */
  suggestions: { name: string; path: string }[];
}

export interface SettingsChange {
  settings: SettingView[];
  /** Changed keys that take effect only when Owlet restarts. */
  restartNeeded: string[];
}

/** What the HTTP routes need (tests pass the real editor on a temp data folder). */
export interface ConfigEditorApi {
  roots(): RootsView;
  addRoot(folder: string): Promise<RootsView & { added: string; excluded: string | null }>;
  removeRoot(folder: string): Promise<RootsView>;
  addExclusion(pattern: string): Promise<RootsView>;
  removeExclusion(pattern: string): Promise<RootsView>;
  settings(): SettingView[];
  change(changes: Record<string, unknown>): Promise<SettingsChange>;
}

export interface ConfigEditorOptions {
  dataDir: string;
  home?: string;
  /** Where XDG_CONFIG_HOME comes from (the user-dirs file names the Documents folder); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Applies a saved configuration to the running service (ServiceHost.applyConfig). */
  apply: (next: Config) => Promise<void>;
  audit: AuditLog;
  /** Setting keys the machine policy fixes, with the reason (update/policy.ts policyLocks). */
  locks?: () => Record<string, string>;
}

function getPath(obj: unknown, key: string): unknown {
  let cur: unknown = obj;
  for (const k of key.split('.')) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = key.split('.');
  const child = obj[head!];
  return { ...obj, [head!]: rest.length ? setPath(child !== null && typeof child === 'object' ? (child as Record<string, unknown>) : {}, rest.join('.'), value) : value };
}

export class ConfigEditor implements ConfigEditorApi {
  private readonly home: string;
  /** Applications in order: a later change never lands before an earlier one. */
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly o: ConfigEditorOptions) {
    this.home = o.home ?? os.homedir();
  }

  private load(): Config {
    return loadConfig(this.o.dataDir);
  }

  /** Validates against the schema, saves, then applies; the returned promise settles once applied. */
  private async commit(raw: unknown): Promise<Config> {
    const r = ConfigSchema.safeParse(raw);
    if (!r.success) throw owletError('OWL_ERR_ARG_INVALID', { reason: describeIssues(r.error) });
    saveConfig(this.o.dataDir, r.data);
    const applied = this.applying.then(() => this.o.apply(r.data));
    this.applying = applied.catch(() => {});
    await applied;
    return r.data;
  }

  roots(): RootsView {
    return this.view(this.load());
  }

  private view(c: Config): RootsView {
    const roots = c.roots.map((r) => path.resolve(r));
    return { roots, exclude: c.exclude, suggestions: suggestedFolders(this.home, this.o.env ?? process.env).filter((s) => !roots.some((r) => isWithin(s.path, r))) };
  }

  async addRoot(folder: string): Promise<RootsView & { added: string; excluded: string | null }> {
    const c = this.load();
    const real = checkRoot(folder, { dataDir: this.o.dataDir, home: this.home });
    const roots = c.roots.map((r) => path.resolve(r));
    const covering = roots.find((r) => isWithin(real, r));
    if (covering) throw owletError('OWL_ERR_ROOT_REFUSED', { reason: covering === real ? `${real} is already indexed` : `${real} is already indexed as part of ${covering}` });
    // A folder that holds folders already indexed replaces them (one watcher, one root).
    const kept = roots.filter((r) => !isWithin(r, real));
    // A folder that holds Owlet's data folder: the data folder is excluded, or the index would index itself.
    const dataDir = path.resolve(this.o.dataDir);
    const rel = isWithin(dataDir, real) ? path.relative(real, dataDir).split(path.sep).join('/') : null;
    const exclude = rel && !c.exclude.includes(rel) ? [...c.exclude, rel] : c.exclude;
    const next = await this.commit({ ...c, roots: [...kept, real], exclude });
    this.o.audit.append('root.added', { path: real, replaced: roots.length - kept.length });
    if (rel) this.o.audit.append('exclusion.added', { pattern: rel, why: 'data folder' });
    return { ...this.view(next), added: real, excluded: rel };
  }

  async removeRoot(folder: string): Promise<RootsView> {
    const c = this.load();
    const target = path.resolve(folder);
    const remaining = c.roots.filter((r) => path.resolve(r) !== target);
    if (remaining.length === c.roots.length) throw owletError('OWL_ERR_NOT_FOUND', { reason: `${target} is not one of the indexed folders` });
    const next = await this.commit({ ...c, roots: remaining });
    this.o.audit.append('root.removed', { path: target });
    return this.view(next);
  }

  async addExclusion(pattern: string): Promise<RootsView> {
    const c = this.load();
    const p = pattern.trim();
    if (!p) throw owletError('OWL_ERR_ARG_INVALID', { reason: 'an exclusion is a name or pattern such as node_modules or *.log' });
    if (c.exclude.includes(p)) throw owletError('OWL_ERR_ARG_INVALID', { reason: `"${p}" is already excluded` });
    const next = await this.commit({ ...c, exclude: [...c.exclude, p] });
    this.o.audit.append('exclusion.added', { pattern: p });
    return this.view(next);
  }

  async removeExclusion(pattern: string): Promise<RootsView> {
    const c = this.load();
    if (!c.exclude.includes(pattern)) throw owletError('OWL_ERR_NOT_FOUND', { reason: `"${pattern}" is not an exclusion` });
    const next = await this.commit({ ...c, exclude: c.exclude.filter((e) => e !== pattern) });
    this.o.audit.append('exclusion.removed', { pattern });
    return this.view(next);
  }

  settings(): SettingView[] {
    const c = this.load();
    const locks = this.o.locks?.() ?? {};
    return EDITABLE_SETTINGS.map((s) => ({ ...s, value: getPath(c, s.key), locked: locks[s.key] ?? null }));
  }

  async change(changes: Record<string, unknown>): Promise<SettingsChange> {
    const keys = Object.keys(changes);
    if (keys.length === 0) throw owletError('OWL_ERR_ARG_INVALID', { reason: 'no setting to change' });
    const locks = this.o.locks?.() ?? {};
    const c = this.load();
    let next = c as unknown as Record<string, unknown>;
    for (const key of keys) {
      const spec = EDITABLE_SETTINGS.find((s) => s.key === key);
      if (!spec) throw owletError('OWL_ERR_ARG_INVALID', { reason: `"${key}" cannot be changed here; the settings are ${EDITABLE_SETTINGS.map((s) => s.key).join(', ')}` });
      const lock = locks[key];
      if (lock) throw owletError('OWL_ERR_SETTING_LOCKED', { key, reason: lock });
      next = setPath(next, key, changes[key]);
    }
    const saved = await this.commit(next);
    const changed = keys.filter((k) => JSON.stringify(getPath(c, k)) !== JSON.stringify(getPath(saved, k)));
    if (changed.length) this.o.audit.append('settings.changed', { keys: changed.join(',') });
    return { settings: this.settings(), restartNeeded: changed.filter((k) => !EDITABLE_SETTINGS.find((s) => s.key === k)!.live) };
  }
}
