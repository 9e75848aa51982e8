import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { OwletError, errnoCode, isOwletError, owletError } from '../../shared/errors.js';
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

/** Loads `<dataDir>/config.json`; a missing file means defaults, anything unparsable is an error. */
export function loadConfig(dataDir: string): Config {
  const file = path.join(dataDir, CONFIG_FILE);
  let text: string;
  try {
    // Never through a symlink, and only a file written by this user (roots and settings matter).
    const raw = readTrustedFile(file);
    if (raw === null) return defaultConfig();
    text = raw.toString('utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return defaultConfig();
    if (isOwletError(e)) throw e;
    throw owletError('OWL_ERR_CONFIG_UNREADABLE', { file, reason: (e as Error).message });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw owletError('OWL_ERR_CONFIG_INVALID', { source: file, reason: `not valid JSON (${(e as Error).message})` });
  }
  return parseConfig(raw, file);
}

/** Writes atomically (O_EXCL temp file with a random name + rename): a crash never leaves half a config. */
export function saveConfig(dataDir: string, config: Config): void {
  writePrivateFile(path.join(dataDir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}
