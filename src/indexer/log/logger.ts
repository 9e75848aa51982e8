import { correlationId } from './correlation.js';

/**
 * Structured logging: one JSON object per line with time, level, component and message plus
 * fields, and `cid` (the correlation id of the request or indexing pass) when there is one.
 * Callers pass identifiers and counts, never document text; fields whose names say they hold
 * content (text, snippet, query, …) are replaced by their length as a safety net.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(component: string, fields?: Fields): Logger;
}

export interface Sink {
  write(line: string): void;
}

/** Field names that would carry document or query contents; never written, only their length. */
export const REDACTED_FIELDS: ReadonlySet<string> = new Set(['text', 'content', 'contents', 'body', 'snippet', 'passage', 'query', 'q', 'title']);

function redact(k: string, v: unknown): unknown {
  if (typeof v === 'string') return `[redacted ${v.length} chars]`;
  return v === null || v === undefined ? v : `[redacted ${k}]`;
}

/**
 * JSON.stringify escapes C0 controls and newlines, but not DEL, the C1 controls (terminal escape
 * introducers) or U+2028/2029 (line breaks to many readers): those are escaped too, so no value
 * can start a new line or drive a terminal when the log is read.
 */
function escapeInvisibles(line: string): string {
  return line.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function createLogger(sink: Sink, opts: { level?: Level; component?: string; fields?: Fields; now?: () => Date } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const now = opts.now ?? (() => new Date());
  const base = opts.fields ?? {};
  const component = opts.component ?? 'owlet';
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < min) return;
    const cid = correlationId();
    const rec = { time: now().toISOString(), level, component, msg, ...(cid ? { cid } : {}), ...base, ...fields };
    let line: string;
    try {
      line = JSON.stringify(rec, (k, v) =>
        v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : REDACTED_FIELDS.has(k) ? redact(k, v) : v,
      );
    } catch {
      line = JSON.stringify({ time: rec.time, level, component, msg, note: 'fields not serialisable' });
    }
    sink.write(escapeInvisibles(line) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c, f) => createLogger(sink, { ...opts, component: c, fields: { ...base, ...f } }),
  };
}

/** For tests and quiet commands. */
export const nullLogger: Logger = createLogger({ write: () => {} });
