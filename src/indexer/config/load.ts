import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { OwletError, errnoCode, isOwletError, owletError } from '../../shared/errors.js';
import { VERSION } from '../version.js';
import { ConfigSchema, type Config, defaultConfig } from './schema.js';
import { readTrustedFile } from '../security/data-dir-guard.js';
import { writePrivateFile } from '../security/files.js';

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
 * Settings that a newer Owlet wrote and this one does not know. config.json records the version
 * that wrote it (`writtenBy`); when that is newer than this build (an update rolled back, a data
 * folder opened by an older copy), a key the schema does not know is that version's setting, not a
 * typo. It is ignored here, kept untouched on every write, and reported (service log, doctor). In a
 * file this build or an older one wrote, an unknown key is still refused, by name.
 */
export interface NewerSettings {
  /** The version the file says wrote it. */
  writtenBy: string;
  /** Each key this build does not know, by its path in the file, with its value as written. */
  keys: NewerKey[];
}

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
function splitNewer(raw: unknown, source: string, ownVersion: string): { settings: unknown; newer: NewerSettings | null } {
  if (!isRecord(raw) || Array.isArray(raw) || !('writtenBy' in raw)) return { settings: raw, newer: null };
  const { writtenBy, ...rest } = raw;
  if (typeof writtenBy !== 'string' || semver.valid(writtenBy) === null) {
    throw owletError('OWL_ERR_CONFIG_INVALID', { source, reason: 'writtenBy: Owlet records here the version that wrote the file; put back a version such as 1.4.0, or remove the line' }, { detail: { key: 'writtenBy' } });
  }
  if (!semver.gt(writtenBy, ownVersion)) return { settings: rest, newer: null };
  const settings = structuredClone(rest);
  const keys: NewerSettings['keys'] = [];
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
  return { settings, newer: keys.length ? { writtenBy, keys } : null };
}

/** Validates a parsed config.json, setting aside the keys a newer Owlet wrote (see NewerSettings). */
export function parseConfigFile(raw: unknown, source: string, ownVersion: string = VERSION): ConfigFile {
  const { settings, newer } = splitNewer(raw, source, ownVersion);
  return { config: parseConfig(settings, source), newer };
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
  return parseConfigFile(raw, path.join(dataDir, CONFIG_FILE), ownVersion);
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
 * config. Records the version that wrote it; keys a newer Owlet wrote into the file being replaced
 * are carried over untouched, under that newer version's name, so they are still its when it returns.
 */
export function saveConfig(dataDir: string, config: Config, ownVersion: string = VERSION): void {
  let newer: NewerSettings | null = null;
  try {
    newer = splitNewer(readConfigJson(dataDir), CONFIG_FILE, ownVersion).newer;
  } catch {
    /* the file being replaced is unreadable or damaged: nothing in it to carry over */
  }
  const { version, ...settings } = structuredClone(config);
  const out: Record<string, unknown> = { version, writtenBy: ownVersion, ...settings };
  let carried = 0;
  for (const k of newer?.keys ?? []) if (putBack(out, k)) carried++;
  // Still the newer version's file only while one of its keys is in it.
  if (newer && carried > 0) out.writtenBy = newer.writtenBy;
  writePrivateFile(path.join(dataDir, CONFIG_FILE), JSON.stringify(out, null, 2) + '\n');
}
