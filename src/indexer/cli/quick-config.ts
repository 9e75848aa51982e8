import path from 'node:path';
import type { Config } from '../config/schema.js';
import { readTrustedFile } from '../security/data-dir-guard.js';
import { isLanguage } from '../text/language-codes.js';
import { VERSION } from '../version.js';
import { CONFIG_DEFAULTS } from './config-defaults.js';

/**
 * config.json for the read-only commands (`owlet search` and `owlet status` without a service),
 * without the schema library, which alone cost about as much as Node's own start-up (issue #14).
 *
 * This is a fast path, never a second schema: it answers only when the file is CERTAINLY valid,
 * and null otherwise, and the caller then loads it with config/load.ts, which validates it in
 * full and reports any problem exactly as before. Certainly valid means: read through the same
 * trusted-file check, written by this version of Owlet or an older one, and every setting either
 * absent (the default applies), equal to its default, or one of the few settings checked below
 * by the schema's own rules. Anything else (an unknown key, any other changed value, a newer
 * writer) goes to the full loader.
 */

export const CONFIG_FILE = 'config.json';

/** Settings the fast path accepts with a changed value; each check accepts only what the schema accepts. */
const CHECKED: Record<string, (v: unknown) => boolean> = {
  // z.array(z.string().min(1))
  roots: (v) => Array.isArray(v) && v.every((r) => typeof r === 'string' && r.length >= 1),
  // z.array(z.string().refine(isLanguage)).max(8)
  'search.languages': (v) => Array.isArray(v) && v.length <= 8 && v.every((l) => typeof l === 'string' && isLanguage(l)),
};

const NOT_CERTAIN = Symbol('not certain');

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/*
 * Both sides are JSON data (parsed from the file, or the generated defaults), so equality and
 * copies are plain walks: node:util's isDeepStrictEqual and structuredClone load internal modules
 * (structuredClone even a message channel) that cost more than the whole merge (issue #14).
 */

/** isDeepStrictEqual for JSON data: Object.is on leaves (so -0 is not 0), the same keys, arrays item by item. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return Object.is(a, b);
}

/** A deep copy of JSON data. */
function jsonCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(jsonCopy) as T;
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonCopy(x)])) as T;
  return v;
}

/** The file's value merged over the default, or NOT_CERTAIN. */
function merge(value: unknown, dflt: unknown, at: string[]): unknown {
  const key = at.join('.');
  if (key in CHECKED) return CHECKED[key]!(value) ? jsonCopy(value) : NOT_CERTAIN;
  if (jsonEqual(value, dflt)) return jsonCopy(dflt);
  if (!isPlainObject(value) || !isPlainObject(dflt)) return NOT_CERTAIN;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!Object.hasOwn(dflt, k)) return NOT_CERTAIN;
    const m = merge(v, dflt[k], [...at, k]);
    if (m === NOT_CERTAIN) return NOT_CERTAIN;
    out[k] = m;
  }
  for (const [k, d] of Object.entries(dflt)) if (!Object.hasOwn(out, k)) out[k] = jsonCopy(d);
  return out;
}

/** x.y.z, compared numerically; null for anything else (pre-releases go to the full loader). */
function plainVersion(v: string): number[] | null {
  const m = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function notNewerThanThisBuild(writtenBy: unknown): boolean {
  if (typeof writtenBy !== 'string') return false;
  const a = plainVersion(writtenBy);
  const b = plainVersion(VERSION);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return true;
}

/** The configuration when `<dataDir>/config.json` is certainly valid (see above); null: ask config/load.ts. */
export function certainlyValidConfig(dataDir: string, defaults: Config = CONFIG_DEFAULTS): Config | null {
  let raw: Buffer | null;
  try {
    raw = readTrustedFile(path.join(dataDir, CONFIG_FILE));
  } catch {
    return null; // the full loader reports it
  }
  if (raw === null) return jsonCopy(defaults);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  if (!isPlainObject(json)) return null;
  const { writtenBy, ...settings } = json;
  if ('writtenBy' in json && !notNewerThanThisBuild(writtenBy)) return null;
  const merged = merge(settings, defaults, []);
  return merged === NOT_CERTAIN ? null : (merged as Config);
}

/** config.json for a read-only command: the fast path when it is certain, else the full loader. */
export async function readConfig(dataDir: string): Promise<Config> {
  return certainlyValidConfig(dataDir) ?? (await import('../config/load.js')).loadConfig(dataDir);
}
