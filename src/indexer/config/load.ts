import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import semver from 'semver';
import { z } from 'zod';
import { OwletError, errnoCode, isOwletError, owletError } from '../../shared/errors.js';
import { VERSION } from '../version.js';
import { ConfigSchema, type Config, defaultConfig } from './schema.js';
import { readTrustedFile } from '../security/data-dir-guard.js';
import { writePrivateFile } from '../security/files.js';
import { readLastGood } from './last-good.js';

export const CONFIG_FILE = 'config.json';

/** Formats zod issues as "key.path: reason" so the user knows exactly which setting to fix. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const key = i.path.length ? i.path.map(String).join('.') : '(top level)';
      return `${key}: ${i.message}`;
    })
    .join('; ');
}

export function parseConfig(raw: unknown, source: string): Config {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    throw owletError('OWL_ERR_CONFIG_INVALID', { source, reason: describeIssues(result.error) }, {
      detail: { key: first ? first.path.map(String).join('.') : undefined },
    });
  }
  return result.data;
}

/**
 * Settings that a newer Owlet wrote and this one cannot use. config.json records the version that
 * wrote it (`writtenBy`); when that is newer than this build (an update rolled back, a data folder
 * opened by an older copy), a key the schema does not know is that version's setting, not a typo,
 * and so is a value this build rejects (a new choice in a list). Neither stops this build: an
 * unknown key is ignored; a setting with a rejected value runs on the last good configuration's
 * value, or the default. config.json itself is never set aside or rewritten for them: every write
 * keeps them as the newer version wrote them, and they are reported (service log, doctor). In a
 * file this build or an older one wrote, both are still refused, by name.
 */
export interface NewerSettings {
  /** The version the file says wrote it. */
  writtenBy: string;
  /** Each key this build does not know, by its path in the file, with its value as written. */
  keys: NewerKey[];
  /** Each setting whose value this build rejects, and what it runs on instead. */
  unreadable: UnreadableSetting[];
}

export interface UnreadableSetting {
  /**
   * The top-level key this build replaces ("monitoring", "maxFileSizeMb"): a section is replaced
   * whole, so the result is always a set of settings that were valid together. ALL_SETTINGS: the
   * file's format (`version`) is not this build's, and nothing in it is used.
   */
  key: string;
  /** What this build says about the value(s), by path ("monitoring.alerts.rules.0.op: …"). */
  reason: string;
  /** What runs instead: the last configuration that loaded as written, or the defaults. */
  using: 'last-good' | 'defaults';
}

export const ALL_SETTINGS = '(all)';

export interface NewerKey {
  /** Where the file has it ("monitoring.alerts.rules.0.labels"), for people. */
  path: (string | number)[];
  /**
   * The same path with each array index replaced by the identity of the item there (an alert
   * rule's id; null for an item without one), so that a write puts the key back on the same item
   * after items were reordered or removed.
   */
  anchor: (string | { id: string | null })[];
  value: unknown;
}

export interface ConfigFile {
  config: Config;
  /** null unless a newer Owlet wrote keys this one does not know. */
  newer: NewerSettings | null;
}

/** "backup.cloud, monitoring.alerts.rules.0.labels": the keys, as a person would look for them. */
export function describeNewer(n: NewerSettings): string {
  return n.keys.map((k) => k.path.map(String).join('.')).join(', ');
}

/** "monitoring (monitoring.alerts.rules.0.op: …; runs on the last good monitoring)": what this build could not read. */
export function describeUnreadable(n: NewerSettings): string {
  return n.unreadable
    .map((u) => `${u.key === ALL_SETTINGS ? 'the whole file' : u.key} (${u.reason}; runs on ${u.using === 'last-good' ? 'the last good' : 'the default'} ${u.key === ALL_SETTINGS ? 'configuration' : 'value'})`)
    .join(', ');
}

function isRecord(v: unknown): v is Record<string | number, unknown> {
  return v !== null && typeof v === 'object';
}

function at(root: unknown, p: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of p) v = isRecord(v) ? v[k as string] : undefined;
  return v;
}

/** The identity of an array item in config.json: its `id` (alert rules have one, unique). */
function idOf(item: unknown): string | null {
  return isRecord(item) && typeof item.id === 'string' ? item.id : null;
}

/**
 * Splits a parsed config.json into its settings (without `writtenBy`) and, when a newer Owlet wrote
 * it, the keys this schema does not know. Only unknown keys are taken out; any other problem is
 * left for the schema to report.
 */
function splitNewer(raw: unknown, source: string, ownVersion: string): { settings: unknown; writtenBy: string | null; keys: NewerKey[] } {
  if (!isRecord(raw) || Array.isArray(raw) || !('writtenBy' in raw)) return { settings: raw, writtenBy: null, keys: [] };
  const { writtenBy, ...rest } = raw;
  if (typeof writtenBy !== 'string' || semver.valid(writtenBy) === null) {
    throw owletError('OWL_ERR_CONFIG_INVALID', { source, reason: 'writtenBy: Owlet records here the version that wrote the file; put back a version such as 1.4.0, or remove the line' }, { detail: { key: 'writtenBy' } });
  }
  if (!semver.gt(writtenBy, ownVersion)) return { settings: rest, writtenBy: null, keys: [] };
  const settings = structuredClone(rest);
  const keys: NewerKey[] = [];
  // Unknown keys nested in unknown keys leave with their parent; a few rounds reach any depth the
  // schema has (each round removes every unknown key zod reports).
  for (let round = 0; round < 8; round++) {
    const r = ConfigSchema.safeParse(settings);
    const unknown = r.success ? [] : r.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (unknown.length === 0) break;
    for (const issue of unknown) {
      const parent = at(settings, issue.path);
      if (!isRecord(parent)) continue;
      const where = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
      const anchor = where.map((p, i) => (typeof p === 'number' ? { id: idOf(at(settings, where.slice(0, i + 1))) } : p));
      for (const k of issue.keys) {
        if (!(k in parent)) continue;
        keys.push({ path: [...where, k], anchor: [...anchor, k], value: parent[k] });
        delete parent[k];
      }
    }
  }
  return { settings, writtenBy, keys };
}

/**
 * The settings of a newer Owlet's file with each top-level setting this build rejects replaced by
 * the last good configuration's (when that one is valid here) or dropped for its default.
 */
function replaceUnreadable(settings: Record<string, unknown>, error: z.ZodError, lastGood: unknown): { config: Config; unreadable: UnreadableSetting[] } {
  const reasons = new Map<string, string[]>();
  for (const i of error.issues) {
    const key = i.path.length ? String(i.path[0]) : ALL_SETTINGS;
    reasons.set(key, [...(reasons.get(key) ?? []), `${i.path.length ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`]);
  }
  const good = isRecord(lastGood) && !Array.isArray(lastGood) ? lastGood : null;
  const shape = ConfigSchema.shape as Record<string, z.ZodType>;
  if (!reasons.has(ALL_SETTINGS) && !reasons.has('version')) {
    const patched: Record<string, unknown> = { ...settings };
    const unreadable: UnreadableSetting[] = [];
    for (const [key, why] of reasons) {
      const fromGood = good && key in good ? shape[key]?.safeParse(good[key]) : undefined;
      if (fromGood?.success) patched[key] = fromGood.data;
      else delete patched[key];
      unreadable.push({ key, reason: why.join('; '), using: fromGood?.success ? 'last-good' : 'defaults' });
    }
    const r = ConfigSchema.safeParse(patched);
    if (r.success) return { config: r.data, unreadable };
  }
  // Another format (`version`), or settings that are valid only together: none of the file is used.
  const g = good ? ConfigSchema.safeParse(good) : null;
  const reason = [...reasons.values()].flat().join('; ');
  return g?.success ? { config: g.data, unreadable: [{ key: ALL_SETTINGS, reason, using: 'last-good' }] } : { config: defaultConfig(), unreadable: [{ key: ALL_SETTINGS, reason, using: 'defaults' }] };
}

/**
 * Validates a parsed config.json. In a file a newer Owlet wrote, its keys are set aside and the
 * settings whose values this build rejects run on `lastGood`'s (see NewerSettings).
 */
export function parseConfigFile(raw: unknown, source: string, ownVersion: string = VERSION, lastGood: () => unknown = () => null): ConfigFile {
  const { settings, writtenBy, keys } = splitNewer(raw, source, ownVersion);
  if (writtenBy === null) return { config: parseConfig(settings, source), newer: null };
  const r = ConfigSchema.safeParse(settings);
  if (r.success) return { config: r.data, newer: keys.length ? { writtenBy, keys, unreadable: [] } : null };
  const { config, unreadable } = replaceUnreadable(settings as Record<string, unknown>, r.error, lastGood());
  return { config, newer: { writtenBy, keys, unreadable } };
}

/** Reads `<dataDir>/config.json` as JSON; null when there is none. */
function readConfigJson(dataDir: string): unknown {
  const file = path.join(dataDir, CONFIG_FILE);
  let text: string;
  try {
    // Never through a symlink, and only a file written by this user (roots and settings matter).
    const raw = readTrustedFile(file);
    if (raw === null) return null;
    text = raw.toString('utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    if (isOwletError(e)) throw e;
    throw owletError('OWL_ERR_CONFIG_UNREADABLE', { file, reason: (e as Error).message });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw owletError('OWL_ERR_CONFIG_INVALID', { source: file, reason: `not valid JSON (${(e as Error).message})` });
  }
}

/** Loads `<dataDir>/config.json` with what a newer Owlet set in it; a missing file means defaults. */
export function loadConfigFile(dataDir: string, ownVersion: string = VERSION): ConfigFile {
  const raw = readConfigJson(dataDir);
  if (raw === null) return { config: defaultConfig(), newer: null };
  return parseConfigFile(raw, path.join(dataDir, CONFIG_FILE), ownVersion, () => readLastGood(dataDir));
}

/** Loads `<dataDir>/config.json`; a missing file means defaults, anything unparsable is an error. */
export function loadConfig(dataDir: string, ownVersion: string = VERSION): Config {
  return loadConfigFile(dataDir, ownVersion).config;
}

/**
 * Puts a newer Owlet's key back where it was, if its parent is still there and has no such key;
 * true if it did. Array items are found by identity, never by position: this build may have
 * reordered or removed them, and a key on the wrong item would change what that item does.
 */
function putBack(root: Record<string, unknown>, k: NewerKey): boolean {
  let parent: unknown = root;
  for (const step of k.anchor.slice(0, -1)) {
    if (typeof step === 'string') parent = isRecord(parent) && !Array.isArray(parent) ? parent[step] : undefined;
    else parent = Array.isArray(parent) && step.id !== null ? parent.find((item) => idOf(item) === step.id) : undefined;
  }
  const key = k.anchor[k.anchor.length - 1] as string;
  if (!isRecord(parent) || Array.isArray(parent) || key in parent) return false;
  parent[key] = k.value;
  return true;
}

/**
 * Writes atomically (O_EXCL temp file with a random name + rename): a crash never leaves half a
 * config. Records the version that wrote it; keys a newer Owlet wrote into the file being replaced,
 * and its values this build could not read (unless changed here), are carried over untouched, under
 * that newer version's name, so they are still its when it returns. A file whose format this build
 * does not know is never written over (OWL_ERR_CONFIG_INVALID).
 */
export function saveConfig(dataDir: string, config: Config, ownVersion: string = VERSION): void {
  let raw: unknown = null;
  let before: ConfigFile | null = null;
  try {
    raw = readConfigJson(dataDir);
    if (raw !== null) before = parseConfigFile(raw, CONFIG_FILE, ownVersion, () => readLastGood(dataDir));
  } catch {
    /* the file being replaced is unreadable or damaged: nothing in it to carry over */
  }
  const newer = before?.newer ?? null;
  const { version, ...settings } = structuredClone(config);
  const out: Record<string, unknown> = { version, writtenBy: ownVersion, ...settings };
  let carried = 0;
  for (const u of newer?.unreadable ?? []) {
    if (u.key === ALL_SETTINGS) {
      throw owletError('OWL_ERR_CONFIG_INVALID', {
        source: path.join(dataDir, CONFIG_FILE),
        reason: `Owlet ${newer!.writtenBy} wrote it in a form this Owlet (${ownVersion}) cannot read or write (${u.reason}); it is left as it is: change settings with Owlet ${newer!.writtenBy}, or move config.json away to start again from this version's settings`,
      });
    }
    // What this build ran on in its place, unchanged: the newer version's value goes back as it
    // wrote it. Changed here (the person chose a value this build knows): the change is written.
    if (isDeepStrictEqual((config as Record<string, unknown>)[u.key], (before!.config as Record<string, unknown>)[u.key])) {
      out[u.key] = (raw as Record<string, unknown>)[u.key];
      carried++;
    }
  }
  for (const k of newer?.keys ?? []) if (putBack(out, k)) carried++;
  // Still the newer version's file only while one of its keys or values is in it.
  if (newer && carried > 0) out.writtenBy = newer.writtenBy;
  writePrivateFile(path.join(dataDir, CONFIG_FILE), JSON.stringify(out, null, 2) + '\n');
}
