import type { BodyStems } from '../text/stem.js';
import { isCurrentPassage } from '../store/passages.js';
import type { ExtractLimits, FailureReason } from './types.js';

/**
 * Messages between the pool (parent) and a worker child. The parent treats everything a worker
 * sends as untrusted: replies are validated before use.
 */

/** A worker exits with this code when it finds itself over its memory cap. */
export const MEMORY_EXIT_CODE = 87;

/** parent → worker: one file to extract. */
export interface JobMessage {
  id: number;
  path: string;
  ext: string;
  maxBytes: number;
  limits: ExtractLimits;
}

/** parent → worker, once after 'ready': settings that are not per job. */
export interface ConfigMessage {
  type: 'config';
  memoryMb: number;
  /** Configured stemming languages, most used first: the detector's preference and default. */
  languages: string[];
}

/** worker → parent, once its message handler is installed (messages sent earlier would be lost). */
export interface ReadyMessage {
  type: 'ready';
}

/** What a worker extracted from one file: the reply's body, and (lang settled) the pool's outcome. */
export interface ExtractedFile {
  title: string | null;
  text: string;
  extractor: string;
  sha256: string;
  size: number;
  lang?: string | null;
  /** The body's stems in `stems.lang` (see text/stem.ts stemLanguageFor), made by the worker to spare the writer. */
  stems?: BodyStems;
  /**
   * The text as the store keeps it: split and compressed (store/passages.ts), made by the worker
   * so that Brotli does not run on the writer's thread (issue #14). Absent: the writer makes them.
   */
  passages?: Uint8Array[];
}

export type ReplyMessage = (
  | ({ id: number; ok: true } & ExtractedFile)
  | { id: number; ok: false; reason: FailureReason; message: string; errno?: string }
) & {
  /** The worker's resident memory after the job, so the pool can recycle a bloated worker on any OS. */
  rss?: number;
};

const REASONS: ReadonlySet<string> = new Set<FailureReason>([
  'timeout', 'memory', 'crash', 'parse-error', 'too-large', 'unsupported', 'binary', 'io-error',
]);

function isObject(m: unknown): m is Record<string, unknown> {
  return typeof m === 'object' && m !== null;
}

export function isReady(m: unknown): m is ReadyMessage {
  return isObject(m) && m.type === 'ready';
}

export function isConfig(m: unknown): m is ConfigMessage {
  return (
    isObject(m) &&
    m.type === 'config' &&
    typeof m.memoryMb === 'number' &&
    Array.isArray(m.languages) &&
    m.languages.every((l) => typeof l === 'string')
  );
}

export function isJob(m: unknown): m is JobMessage {
  if (!isObject(m) || typeof m.id !== 'number' || typeof m.path !== 'string' || typeof m.ext !== 'string') return false;
  const l = m.limits;
  return (
    typeof m.maxBytes === 'number' &&
    isObject(l) &&
    typeof l.maxTextBytes === 'number' &&
    typeof l.maxUnzipBytes === 'number' &&
    typeof l.pdfMaxPages === 'number'
  );
}

function isLang(v: unknown): boolean {
  return typeof v === 'string' && /^[a-z]{2}$/.test(v);
}

/**
 * parent → worker: jobs sent ahead that the worker should skip (they went to another worker while
 * this one was stuck on a long file). One it has already started is finished and its reply ignored.
 */
export interface CancelMessage {
  type: 'cancel';
  ids: number[];
}

export function isCancel(m: unknown): m is CancelMessage {
  return isObject(m) && m.type === 'cancel' && Array.isArray(m.ids) && m.ids.every((i) => typeof i === 'number');
}

/** A passage in the store's current format (its marker byte); anything else is not stored. */
function isPackedPassage(p: unknown): boolean {
  return p instanceof Uint8Array && isCurrentPassage(p);
}

export function isReply(m: unknown): m is ReplyMessage {
  if (!isObject(m) || typeof m.id !== 'number') return false;
  if (m.rss !== undefined && typeof m.rss !== 'number') return false;
  if (m.ok === true) {
    return (
      (m.title === null || typeof m.title === 'string') &&
      typeof m.text === 'string' &&
      typeof m.extractor === 'string' &&
      typeof m.sha256 === 'string' &&
      typeof m.size === 'number' &&
      (m.lang === undefined || m.lang === null || isLang(m.lang)) &&
      (m.stems === undefined || (isObject(m.stems) && (m.stems.lang === null || isLang(m.stems.lang)) && typeof m.stems.text === 'string')) &&
      (m.passages === undefined || (Array.isArray(m.passages) && m.passages.every(isPackedPassage)))
    );
  }
  return (
    m.ok === false &&
    typeof m.reason === 'string' &&
    REASONS.has(m.reason) &&
    typeof m.message === 'string' &&
    (m.errno === undefined || typeof m.errno === 'string')
  );
}
