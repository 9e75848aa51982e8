import fs from 'node:fs';
import path from 'node:path';
import { createLogger, type Level, type Logger, type Sink } from '../indexer/log/logger.js';
import { DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES } from '../indexer/log/rotating-sink.js';

/**
 * The main process's log through electron-log, in the same shape as `logs/service.log`: Owlet's
 * own logger makes each JSON line (time, level, component, msg, fields; document contents
 * redacted), electron-log's file transport writes it verbatim, and rotation keeps the same
 * generations (main.log.1 newest … main.log.N) at the same size. The service's records forwarded
 * over the host channel are written through the same logger (app-host.ts), so one file tells
 * the story of both processes.
 *
 * Takes the electron-log instance (`electron-log/main` in the app; `electron-log/node` in tests:
 * the same file transport).
 */
export interface ElectronLogLike {
  transports: {
    file: {
      level: string | false;
      maxSize: number;
      format: unknown;
      // Method syntax: electron-log's own parameter types are wider than what this module uses.
      resolvePathFn(vars: never, message?: never): string;
      archiveLogFn(oldLogFile: { path: string; toString(): string }): void;
      writeOptions?: { flag?: string; mode?: number; encoding?: string };
    };
    console: { level: string | false };
  };
  debug(...params: unknown[]): void;
  info(...params: unknown[]): void;
  warn(...params: unknown[]): void;
  error(...params: unknown[]): void;
}

export interface MainLogOptions {
  /** The app's logs folder (`app.getPath('logs')`). */
  dir: string;
  maxBytes?: number;
  maxFiles?: number;
  /** Also echo to the console (npm run dev:app). */
  console?: boolean;
}

/** main.log → main.log.1 → … → main.log.N (dropped), like the service's rotating sink. */
export function rotateGenerations(file: string, maxFiles: number): void {
  fs.rmSync(`${file}.${maxFiles}`, { force: true });
  for (let i = maxFiles - 1; i >= 1; i--) {
    try {
      fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    } catch {
      // that generation does not exist yet
    }
  }
  fs.renameSync(file, `${file}.1`);
}

const LEVEL_RE = /^\{"time":"[^"]*","level":"(debug|info|warn|error)"/;

/** Configures electron-log's file transport and returns a Sink for Owlet's logger. */
export function electronLogSink(elog: ElectronLogLike, o: MainLogOptions): Sink {
  const file = path.join(o.dir, 'main.log');
  const maxFiles = Math.max(1, Math.floor(o.maxFiles ?? DEFAULT_LOG_FILES));
  fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const t = elog.transports.file;
  t.level = 'debug';
  t.resolvePathFn = () => file;
  t.maxSize = Math.max(1024, o.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
  // The line is already made: no timestamp prefix, no inspect, exactly one JSON object per line.
  t.format = ({ data }: { data: unknown[] }) => [String(data[0])];
  t.archiveLogFn = (old) => {
    try {
      rotateGenerations(old.toString(), maxFiles);
    } catch {
      // electron-log clears the file after this returns: a failed rename loses old lines, not new ones.
    }
  };
  t.writeOptions = { flag: 'a', mode: 0o600, encoding: 'utf8' };
  elog.transports.console.level = o.console ? 'info' : false;
  return {
    write(line: string) {
      const level = (LEVEL_RE.exec(line)?.[1] ?? 'info') as Level;
      // Owlet's lines end with a newline; electron-log adds its own.
      elog[level](line.endsWith('\n') ? line.slice(0, -1) : line);
    },
  };
}

/** The main process's logger (component `main`), written through electron-log. */
export function createMainLogger(elog: ElectronLogLike, o: MainLogOptions): Logger {
  return createLogger(electronLogSink(elog, o), { component: 'main', fields: { pid: process.pid } });
}
