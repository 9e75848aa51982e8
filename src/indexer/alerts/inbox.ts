import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../../shared/errors.js';
import { openAppendNoFollow } from '../security/files.js';
import type { Severity } from '../config/monitoring-settings.js';

/**
 * Event alerts raised by another Owlet process of the same data folder (the `owlet run`
 * supervisor after an update was rolled back, a CLI command) reach the running service's alert
 * engine through a small inbox file: the writer appends one JSON line, the service drains the file
 * at each monitoring tick. Bounded: a writer never grows it past MAX_BYTES, and the reader ignores
 * lines it cannot parse.
 */
export const INBOX_FILE = 'alert-inbox.jsonl';
const MAX_BYTES = 64 * 1024;

export interface EventAlert {
  id: string;
  severity: Severity;
  message: string;
  remedy?: string;
  /** The situation the alert of this id reported is over: resolve it (in-process raisers only; the inbox file carries no such lines). */
  over?: true;
}

const SEVERITIES = new Set(['info', 'warning', 'critical']);

export function postEventAlert(dataDir: string, a: EventAlert): void {
  const file = path.join(dataDir, INBOX_FILE);
  try {
    if (fs.statSync(file).size > MAX_BYTES) return;
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  const fd = openAppendNoFollow(file);
  try {
    fs.writeSync(fd, `${JSON.stringify({ id: a.id, severity: a.severity, message: a.message.slice(0, 2000), ...(a.remedy ? { remedy: a.remedy.slice(0, 2000) } : {}) })}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Takes every alert waiting in the inbox (the file is moved aside first, so a concurrent append lands in a new one). */
export function drainEventAlerts(dataDir: string): EventAlert[] {
  const file = path.join(dataDir, INBOX_FILE);
  const taken = `${file}.draining`;
  try {
    fs.renameSync(file, taken);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  let text = '';
  try {
    text = fs.readFileSync(taken, 'utf8');
  } finally {
    fs.rmSync(taken, { force: true });
  }
  const out: EventAlert[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const v = JSON.parse(line) as Partial<EventAlert>;
      if (typeof v.id === 'string' && /^[a-z][a-z0-9-]{0,63}$/.test(v.id) && typeof v.message === 'string' && SEVERITIES.has(v.severity as string)) {
        out.push({ id: v.id, severity: v.severity as Severity, message: v.message, ...(typeof v.remedy === 'string' ? { remedy: v.remedy } : {}) });
      }
    } catch {
      // a torn or foreign line: skipped
    }
  }
  return out;
}
