import fs from 'node:fs';
import path from 'node:path';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { OwletError, owletError } from '../../shared/errors.js';
import { ensurePrivateDir, FILE_MODE, NOFOLLOW, openAppendNoFollow, readIfExists, writePrivateFile } from '../security/files.js';
import type { SecretStore } from '../security/secret-store.js';
import type { AuditEventName, AuditFields, AuditLog } from './types.js';

/**
 * A tamper-evident audit trail: JSON lines in `<dataDir>/audit/audit-NNNNNN.jsonl`, each entry
 * carrying an HMAC-SHA256 (keyed by `audit-key` from the secret store) over its content and the
 * previous entry's MAC, so editing, deleting, inserting or reordering entries breaks the chain at
 * that entry. `head.json` holds the last sequence number and MAC under its own MAC, so cutting
 * entries off the end is detected too. Files rotate by size; the chain runs on across files.
 *
 * The head is also anchored outside the folder, in the secret store (`audit-anchor`), so deleting
 * the whole folder, or the log with its head, is detected; and old files are pruned behind a
 * MAC-ed `checkpoint.json` (the last sequence number and MAC cut off), so the chain stays
 * verifiable from the checkpoint on.
 *
 * What it cannot detect: someone holding the audit key (it lives in the same keychain or key file
 * as the data key), or a replay of an older genuine head and anchor with a matching truncation.
 */

export const AUDIT_DIR = 'audit';
export const HEAD_FILE = 'head.json';
export const CHECKPOINT_FILE = 'checkpoint.json';
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

function anchorMac(key: Buffer, seq: number, mac: string): string {
  return createHmac('sha256', key).update(JSON.stringify(['owlet-audit-anchor', seq, mac])).digest('base64url');
}

function checkpointMac(key: Buffer, c: Omit<Checkpoint, 'hmac'>): string {
  return createHmac('sha256', key).update(JSON.stringify(['owlet-audit-checkpoint', c.seq, c.mac, c.cutAt, c.files])).digest('base64url');
}

/** The last sequence number and MAC, MAC-ed, as kept in the secret store. */
export interface Anchor {
  seq: number;
  mac: string;
  hmac: string;
}

/** Where the anchor lives (the secret store); absent for callers without one (tests, old data). */
export interface AnchorStore {
  get(): Buffer | null;
  set(value: Buffer): void;
}

export function secretAnchorStore(store: SecretStore): AnchorStore {
  return { get: () => store.get('audit-anchor'), set: (v) => store.set('audit-anchor', v) };
}

/** The anchor as stored: null when none, 'damaged' when unreadable or its MAC does not match. */
export function readAnchor(a: AnchorStore | undefined, key: Buffer): Anchor | null | 'damaged' {
  const raw = a?.get();
  if (!raw) return null;
  try {
    const v = JSON.parse(raw.toString('utf8')) as Anchor;
    if (typeof v.seq !== 'number' || typeof v.mac !== 'string' || typeof v.hmac !== 'string') return 'damaged';
    return macEqual(v.hmac, anchorMac(key, v.seq, v.mac)) ? v : 'damaged';
  } catch {
    return 'damaged';
  }
}

function writeAnchor(a: AnchorStore, key: Buffer, seq: number, mac: string): void {
  a.set(Buffer.from(JSON.stringify({ seq, mac, hmac: anchorMac(key, seq, mac) })));
}

interface Checkpoint {
  /** The last entry cut off by retention, and its MAC: the chain continues from here. */
  seq: number;
  mac: string;
  cutAt: string;
  files: number;
  hmac: string;
}

function readCheckpoint(dir: string): Checkpoint | null | 'damaged' {
  const raw = readIfExists(path.join(dir, CHECKPOINT_FILE));
  if (!raw) return null;
  try {
    const c = JSON.parse(raw.toString('utf8')) as Checkpoint;
    if (typeof c.seq !== 'number' || typeof c.mac !== 'string' || typeof c.hmac !== 'string' || typeof c.cutAt !== 'string' || typeof c.files !== 'number') return 'damaged';
    return c;
  } catch {
    return 'damaged';
  }
}

function lastEntryOf(file: string): { seq: number; mac: string } | null {
  const text = fs.readFileSync(file, 'utf8').trimEnd();
  if (!text) return null;
  const e = JSON.parse(text.slice(text.lastIndexOf('\n') + 1)) as AuditEntry;
  return { seq: e.seq, mac: e.mac };
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
      const fd = fs.openSync(lock, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, FILE_MODE);
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
  /** The head anchored outside the audit folder (the secret store). */
  anchor?: AnchorStore;
  /** Keep at most this many files; older ones are cut behind a MAC-ed checkpoint. */
  keepFiles?: number;
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

  private prune(): void {
    const keep = this.o.keepFiles;
    if (keep && keep > 0) pruneFiles(this.o.dir, this.o.key, keep, (this.o.now ?? Date.now)());
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
      // Likewise after the anchor: a deleted folder (or log and head) must not restart the chain at 1.
      const anchor = readAnchor(this.o.anchor, key);
      if (anchor && anchor !== 'damaged' && anchor.seq > seq) {
        seq = anchor.seq;
        prev = anchor.mac;
      }
      const body = { seq: seq + 1, ts: new Date((this.o.now ?? Date.now)()).toISOString(), event, fields: sortFields(fields), prev };
      const entry: AuditEntry = { ...body, mac: entryMac(key, body) };
      const line = JSON.stringify(entry) + '\n';
      let fileName = t.file ?? auditFileName(1);
      if (t.file && t.size > 0 && t.size + Buffer.byteLength(line) > (this.o.maxFileBytes ?? 1024 * 1024)) {
        fileName = auditFileName(Number(FILE_RE.exec(t.file)![1]) + 1);
      }
      const fd = openAppendNoFollow(path.join(dir, fileName));
      try {
        fs.writeSync(fd, line);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const h = { seq: entry.seq, mac: entry.mac, file: fileName };
      writePrivateFile(path.join(dir, HEAD_FILE), JSON.stringify({ ...h, hmac: headMac(key, h) }) + '\n');
      if (this.o.anchor) writeAnchor(this.o.anchor, key, entry.seq, entry.mac);
      if (fileName !== t.file) this.prune();
      return entry;
    });
  }
}

/**
 * Retention: beyond keepFiles, the oldest files go. The checkpoint (the last entry cut, MAC-ed)
 * is written before any file is removed, so a crash in between leaves files the checkpoint already
 * covers, which verify accepts.
 */
function pruneFiles(dir: string, key: Buffer, keepFiles: number, now: number): void {
  const files = listAuditFiles(dir);
  const cut = files.slice(0, Math.max(0, files.length - keepFiles));
  if (cut.length === 0) return;
  const last = lastEntryOf(path.join(dir, cut.at(-1)!));
  if (!last) return;
  const prevCp = readCheckpoint(dir);
  const c = { seq: last.seq, mac: last.mac, cutAt: new Date(now).toISOString(), files: cut.length + (prevCp && prevCp !== 'damaged' ? prevCp.files : 0) };
  writePrivateFile(path.join(dir, CHECKPOINT_FILE), JSON.stringify({ ...c, hmac: checkpointMac(key, c) }) + '\n');
  for (const f of cut) fs.rmSync(path.join(dir, f), { force: true });
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

/**
 * Walks the chain from the first entry (or from the retention checkpoint); reports the first place
 * it breaks, or OK. With `anchor`, the end of the log must also match the head kept outside the
 * audit folder.
 */
export function verifyAuditLog(dir: string, key: Buffer, anchor?: AnchorStore): AuditVerifyResult {
  const files = listAuditFiles(dir);
  let expected = 1;
  let prev = GENESIS;
  let entries = 0;
  const cp = readCheckpoint(dir);
  if (cp === 'damaged' || (cp && !macEqual(cp.hmac, checkpointMac(key, cp)))) {
    return { ok: false, entries: 0, files: files.length, lastSeq: 0, firstBroken: { seq: null, expectedSeq: 1, file: CHECKPOINT_FILE, line: 0, reason: 'checkpoint.json was altered (its MAC does not match)' } };
  }
  if (cp) {
    expected = cp.seq + 1;
    prev = cp.mac;
  }
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
      // Entries the checkpoint already covers (pruning was interrupted before it removed them).
      if (cp && entries === 0 && e.seq <= cp.seq) {
        if (e.seq === cp.seq && !macEqual(e.mac, cp.mac)) return broken({ seq: e.seq, ...at, reason: `entry ${e.seq} does not match the retention checkpoint` });
        continue;
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
  const anchorBreak = checkAnchor(readAnchor(anchor, key), last, macs, cp);
  if (anchorBreak) return broken({ seq: null, file: files.at(-1) ?? AUDIT_DIR, line: 0, reason: anchorBreak });
  const head = readHead(dir);
  const headAt = { file: HEAD_FILE, line: 0 };
  if (head === null) {
    if (entries === 0) return { ok: true, entries, files: files.length, lastSeq: cp ? cp.seq : 0, firstBroken: null };
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

/** Why the log does not reach the anchor kept outside the audit folder, or null when it does. */
function checkAnchor(a: Anchor | null | 'damaged', last: number, macs: Map<number, string>, cp: Checkpoint | null): string | null {
  if (a === null) return null; // logs from before anchoring; the next entry anchors them
  if (a === 'damaged') return 'the audit anchor in the key store was altered (its MAC does not match)';
  if (a.seq > last) {
    return last === 0 && macs.size === 0 && !cp
      ? `the audit log is gone: the key store records ${a.seq} entries, the audit folder holds none (it was deleted)`
      : `the log was truncated: it ends at entry ${last}, the key store records entry ${a.seq}`;
  }
  // The anchor is written after the head, so it may lag the log by one entry (a crash), never more.
  const known = macs.get(a.seq) ?? (cp && cp.seq === a.seq ? cp.mac : undefined);
  if (last - a.seq > 1 || (known !== undefined && known !== a.mac) || (known === undefined && a.seq > 0)) {
    return `the log does not match the audit anchor in the key store (entry ${a.seq})`;
  }
  return null;
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
  // Anchored at 0 with the key: "key present, log missing" is then told apart from a fresh start.
  writeAnchor(secretAnchorStore(store), key, 0, GENESIS);
  return key;
}

export function openAuditLog(dataDir: string, store: SecretStore, opts: { maxFileBytes?: number; keepFiles?: number; onError?: (e: unknown) => void; now?: () => number } = {}): FileAuditLog {
  const dir = path.join(dataDir, AUDIT_DIR);
  return new FileAuditLog({ dir, key: auditKey(store, dir, true), anchor: secretAnchorStore(store), ...opts });
}

/**
 * The state of a data folder's audit trail, for `owlet audit verify`, doctor and the service:
 * key and log must come together. Key without log (the folder deleted) and log without key are
 * broken, never "OK: 0 entries".
 */
export function checkAuditTrail(dataDir: string, store: SecretStore): AuditVerifyResult {
  const dir = path.join(dataDir, AUDIT_DIR);
  const key = store.get('audit-key');
  const files = listAuditFiles(dir);
  const hasLog = files.length > 0 || fs.existsSync(path.join(dir, HEAD_FILE)) || fs.existsSync(path.join(dir, CHECKPOINT_FILE));
  const brokenAt = (file: string, reason: string): AuditVerifyResult => ({ ok: false, entries: 0, files: files.length, lastSeq: 0, firstBroken: { seq: null, expectedSeq: 1, file, line: 0, reason } });
  if (!key) {
    if (!hasLog) return { ok: true, entries: 0, files: 0, lastSeq: 0, firstBroken: null }; // never logged anything
    return brokenAt(AUDIT_DIR, `the audit key is missing from ${store.where}: the log cannot be checked or continued (it was deleted, or the key store was replaced)`);
  }
  const anchor = secretAnchorStore(store);
  if (!hasLog && anchor.get() === null) {
    return brokenAt(AUDIT_DIR, `the audit key exists in ${store.where} but the audit log is gone (the audit folder was deleted or emptied)`);
  }
  return verifyAuditLog(dir, key, anchor);
}
