import { OwletError, owletError, isOwletError, type ErrorCode } from '../../shared/errors.js';
import type { FailureReason } from './types.js';

/**
 * Extraction failures are OwletError values. Messages describe what is wrong with the file, never
 * its contents (they end up in logs and the UI).
 */
export function parseError(message: string, cause?: unknown): OwletError {
  return owletError('OWL_ERR_EXTRACT_PARSE', { reason: message }, cause === undefined ? {} : { cause });
}

export function tooLarge(message: string): OwletError {
  return owletError('OWL_ERR_EXTRACT_TOO_LARGE', { reason: message });
}

export function unsupported(message: string): OwletError {
  return owletError('OWL_ERR_EXTRACT_UNSUPPORTED', { reason: message });
}

/** The content is not text in any encoding Owlet knows (and no document extractor applies). */
export function binaryContent(message: string): OwletError {
  return owletError('OWL_ERR_EXTRACT_BINARY', { reason: message });
}

const REASON_BY_CODE: Partial<Record<ErrorCode, FailureReason>> = {
  OWL_ERR_EXTRACT_PARSE: 'parse-error',
  OWL_ERR_EXTRACT_TOO_LARGE: 'too-large',
  OWL_ERR_EXTRACT_UNSUPPORTED: 'unsupported',
  OWL_ERR_EXTRACT_BINARY: 'binary',
  OWL_ERR_EXTRACT_TIMEOUT: 'timeout',
  OWL_ERR_EXTRACT_MEMORY: 'memory',
  OWL_ERR_EXTRACT_CRASH: 'crash',
  OWL_ERR_FS: 'io-error',
};

/** Maps anything an extractor threw to a reason and a human message. */
export function describeFailure(e: unknown, ext: string): { reason: FailureReason; message: string } {
  if (isOwletError(e)) return { reason: REASON_BY_CODE[e.code] ?? 'parse-error', message: e.message };
  if (e instanceof RangeError && /call stack|Invalid (string|array|typed array) length|Array buffer allocation/i.test(e.message)) {
    return { reason: 'too-large', message: `the .${ext} file is too complex to extract within the configured limits` };
  }
  // Unknown exceptions come from third-party parsers on malformed input; their text may quote the
  // file, so only a generic message leaves the worker.
  return { reason: 'parse-error', message: `the .${ext} file is malformed or uses features the extractor cannot read` };
}
