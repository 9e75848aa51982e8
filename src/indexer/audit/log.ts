import fs from 'node:fs';
import path from 'node:path';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { OwletError, owletError } from '../../shared/errors.js';
import { ensurePrivateDir, FILE_MODE, readIfExists, writePrivateFile } from '../security/files.js';
import type { SecretStore } from '../security/secret-store.js';
import type { AuditEventName, AuditFields, AuditLog } from './types.js';

/**
 * A tamper-evident audit trail: JSON lines in `<dataDir>/audit/audit-NNNNNN.jsonl`, each entry
 * carrying an HMAC-SHA256 (keyed by `audit-key` from the secret store) over its content and the
 * previous entry's MAC, so editing, deleting, inserting or reordering entries breaks the chain at
 * that entry. `head.json` holds the last sequence number and MAC under its own MAC, so cutting
 * entries off the end is detected too. Files rotate by size; the chain runs on across files.
 *
 * What it cannot detect: someone holding the audit key (it lives in the same keychain or key file
 * as the data key), or a replay of an older genuine head together with a matching truncation.
 */

export const AUDIT_DIR = 'audit';
export const HEAD_FILE = 'head.json';
const LOCK_FILE = '.lock';
const FILE_RE = /^audit-(\d{6})\.jsonl$/;
const GENESIS = '';

export interface AuditEntry {
  seq: number;
  ts: string;
  event: string;
  fields: AuditFields;
  prev: string;
  mac: string;
}

interface Head {
  seq: number;
  mac: string;
  file: string;
  hmac: string;
}

export const auditFileName = (n: number) => `audit-${String(n).padStart(6, '0')}.jsonl`;

function sortFields(f: AuditFields): AuditFields {
  return Object.fromEntries(Object.entries(f).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The bytes the MAC covers: every field of the entry except the MAC itself, in a fixed order. */
function entryMac(key: Buffer, e: Omit<AuditEntry, 'mac'>): string {
  return createHmac('sha256', key).update(JSON.stringify([e.seq, e.ts, e.event, sortFields(e.fields), e.prev])).digest('base64url');
}

function headMac(key: Buffer, h: Omit<Head, 'hmac'>): string {
  return createHmac('sha256', key).update(JSON.stringify(['owlet-audit-head', h.seq, h.mac, h.file])).digest('base64url');
}

function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function listAuditFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => FILE_RE.test(n)).sort();
}

function readHead(dir: string): Head | null | 'damaged' {
  const raw = readIfExists(path.join(dir, HEAD_FILE));
  if (!raw) return null;
  try {
    const h = JSON.parse(raw.toString('utf8')) as Head;
    if (typeof h.seq !== 'number' || typeof h.mac !== 'string' || typeof h.file !== 'string' || typeof h.hmac !== 'string') return 'damaged';
    return h;
  } catch {
    return 'damaged';
  }
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock file shared by every process appending to this log (service, CLI commands). */
function withLock<T>(dir: string, fn: () => T, timeoutMs = 3000): T {
  const lock = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(lock, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, FILE_MODE);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A holder that died leaves its lock behind: take it over.
      const pid = Number(readIfExists(lock)?.toString('utf8') ?? 'NaN');
      let age = 0;
      try {
        age = Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if ((Number.isInteger(pid) && pid > 0 && !processAlive(pid)) || age > 30_000) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw owletError('OWL_ERR_AUDIT_BROKEN', { reason: `the audit log is locked by process ${pid}` });
      sleepSync(5);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** The last complete entry of the newest file; a torn last line (crash mid-write) is cut off. */
function tail(dir: string): { seq: number; mac: string; file: string | null; size: number } {
  const files = listAuditFiles(dir);
  const last = files.at(-1);
  if (!last) return { seq: 0, mac: GENESIS, file: null, size: 0 };
  const file = path.join(dir, last);
  const buf = fs.readFileSync(file);
  let end = buf.length;
  if (end > 0 && buf[end - 1] !== 0x0a) {
    // Never acknowledged (append returns only after a full line is synced): drop it.
    end = buf.lastIndexOf(0x0a) + 1;
    fs.truncateSync(file, end);
  }
  const text = buf.subarray(0, end).toString('utf8').trimEnd();
  if (!text) return { seq: 0, mac: GENESIS, file: last, size: 0 };
  const line = text.slice(text.lastIndexOf('\n') + 1);
  const e = JSON.parse(line) as AuditEntry;
  return { seq: e.seq, mac: e.mac, file: last, size: end };
}

export interface FileAuditLogOptions {
  dir: string;
  key: Buffer;
  maxFileBytes?: number;
  now?: () => number;
  /** Where append failures go (the service log); append itself never throws. */
  onError?: (e: unknown) => void;
}

export class FileAuditLog implements AuditLog {
  constructor(private readonly o: FileAuditLogOptions) {
    ensurePrivateDir(o.dir);
  }

  append(event: AuditEventName, fields: AuditFields = {}): void {
    try {
      this.appendOrThrow(event, fields);
    } catch (e) {
      this.o.onError?.(e);
    }
  }

  /** For callers that must know the entry was written (CLI commands). */
  appendOrThrow(event: AuditEventName, fields: AuditFields = {}): AuditEntry {
    const { dir, key } = this.o;
    return withLock(dir, () => {
      const head = readHead(dir);
      const headOk = head !== null && head !== 'damaged' && macEqual(head.hmac, headMac(key, head));
      let t: ReturnType<typeof tail>;
      try {
        t = tail(dir);
      } catch (e) {
        // The last line was tampered with: keep auditing after the head (verify shows the damage).
        if (!headOk) throw e;
        const files = listAuditFiles(dir);
        t = { seq: head.seq, mac: head.mac, file: files.at(-1) ?? null, size: files.length ? fs.statSync(path.join(dir, files.at(-1)!)).size : 0 };
      }
      // If the head is ahead of the file (entries were cut off), continue after the head: the gap
      // stays visible to `owlet audit verify` instead of being papered over by new entries.
      let seq = t.seq;
      let prev = t.mac;
      if (headOk && head.seq > t.seq) {
        seq = head.seq;
        prev = head.mac;
      }
      const body = { seq: seq + 1, ts: new Date((this.o.now ?? Date.now)()).toISOString(), event, fields: sortFields(fields), prev };
      const entry: AuditEntry = { ...body, mac: entryMac(key, body) };
      const line = JSON.stringify(entry) + '\n';
      let fileName = t.file ?? auditFileName(1);
      if (t.file && t.size > 0 && t.size + Buffer.byteLength(line) > (this.o.maxFileBytes ?? 1024 * 1024)) {
        fileName = auditFileName(Number(FILE_RE.exec(t.file)![1]) + 1);
      }
      const fd = fs.openSync(path.join(dir, fileName), 'a', FILE_MODE);
      try {
        fs.writeSync(fd, line);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const h = { seq: entry.seq, mac: entry.mac, file: fileName };
      writePrivateFile(path.join(dir, HEAD_FILE), JSON.stringify({ ...h, hmac: headMac(key, h) }) + '\n');
      return entry;
    });
  }
}

export interface AuditBreak {
  /** Sequence number the entry claims (null when unreadable). */
  seq: number | null;
  /** The sequence number expected at this position. */
  expectedSeq: number;
  file: string;
  /** 1-based line in that file (0 for the head). */
  line: number;
  reason: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  entries: number;
  files: number;
  lastSeq: number;
  firstBroken: AuditBreak | null;
}

/** Walks the chain from the first entry; reports the first place it breaks, or OK. */
export function verifyAuditLog(dir: string, key: Buffer): AuditVerifyResult {
  const files = listAuditFiles(dir);
  let expected = 1;
  let prev = GENESIS;
  let entries = 0;
  const macs = new Map<number, string>();
  const broken = (b: Omit<AuditBreak, 'expectedSeq'>): AuditVerifyResult => ({
    ok: false,
    entries,
    files: files.length,
    lastSeq: expected - 1,
    firstBroken: { ...b, expectedSeq: expected },
  });
  for (const name of files) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    else if (lines.length > 0) return broken({ seq: null, file: name, line: lines.length, reason: 'the last entry is incomplete (cut off mid-line)' });
    for (let i = 0; i < lines.length; i++) {
      const at = { file: name, line: i + 1 };
      let e: AuditEntry;
      try {
        e = JSON.parse(lines[i]!) as AuditEntry;
      } catch {
        return broken({ seq: null, ...at, reason: 'not a valid entry (unparsable JSON)' });
      }
      const keys = Object.keys(e ?? {}).sort().join(',');
      if (keys !== 'event,fields,mac,prev,seq,ts' || typeof e.seq !== 'number' || typeof e.mac !== 'string' || typeof e.prev !== 'string' || typeof e.fields !== 'object' || e.fields === null) {
        return broken({ seq: typeof e?.seq === 'number' ? e.seq : null, ...at, reason: 'not a valid entry (wrong fields)' });
      }
      if (!macEqual(e.mac, entryMac(key, e))) {
        return broken({ seq: e.seq, ...at, reason: `entry ${e.seq} was altered or not written by Owlet (its MAC does not match its content)` });
      }
      if (e.seq > expected) {
        return broken({ seq: e.seq, ...at, reason: e.seq === expected + 1 ? `entry ${expected} is missing (deleted)` : `entries ${expected}–${e.seq - 1} are missing (deleted)` });
      }
      if (e.seq < expected) {
        return broken({ seq: e.seq, ...at, reason: `entry ${e.seq} appears out of order or twice (reordered or inserted)` });
      }
      if (!macEqual(e.prev, prev)) {
        return broken({ seq: e.seq, ...at, reason: `entry ${e.seq} does not follow entry ${e.seq - 1} (the chain was spliced)` });
      }
      macs.set(e.seq, e.mac);
      prev = e.mac;
      expected++;
      entries++;
    }
  }
  const last = expected - 1;
  const head = readHead(dir);
  const headAt = { file: HEAD_FILE, line: 0 };
  if (head === null) {
    if (entries === 0) return { ok: true, entries, files: files.length, lastSeq: 0, firstBroken: null };
    return broken({ seq: null, ...headAt, reason: 'head.json is missing: the end of the log cannot be checked (it may have been truncated)' });
  }
  if (head === 'damaged' || !macEqual(head.hmac, headMac(key, head))) {
    return broken({ seq: null, ...headAt, reason: 'head.json was altered (its MAC does not match)' });
  }
  if (head.seq > last) {
    return broken({
      seq: null,
      file: files.at(-1) ?? HEAD_FILE,
      line: 0,
      reason: head.seq === last + 1 ? `the log was truncated: entry ${last + 1} is missing from the end` : `the log was truncated: entries ${last + 1}–${head.seq} are missing from the end`,
    });
  }
  // The head may lag by one entry (a crash between writing the entry and the head), never more.
  if (last - head.seq > 1 || macs.get(head.seq) !== head.mac) {
    return broken({ seq: head.seq, ...headAt, reason: `head.json does not match entry ${head.seq} of the log` });
  }
  return { ok: true, entries, files: files.length, lastSeq: last, firstBroken: null };
}

/**
 * The audit key: created with the log. A missing key while entries exist is an error (a new key
 * would make the old entries unverifiable), never silently replaced.
 */
export function auditKey(store: SecretStore, dir: string, create: boolean): Buffer {
  const k = store.get('audit-key');
  if (k) return k;
  if (listAuditFiles(dir).length > 0 || !create) {
    throw owletError('OWL_ERR_AUDIT_BROKEN', { reason: `the audit key is missing from ${store.where}, so the audit log in ${dir} cannot be checked or continued` });
  }
  const key = randomBytes(32);
  store.set('audit-key', key);
  return key;
}

export function openAuditLog(dataDir: string, store: SecretStore, opts: { maxFileBytes?: number; onError?: (e: unknown) => void; now?: () => number } = {}): FileAuditLog {
  const dir = path.join(dataDir, AUDIT_DIR);
  return new FileAuditLog({ dir, key: auditKey(store, dir, true), ...opts });
}
