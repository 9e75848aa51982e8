import path from 'node:path';
import { createLogger, type Logger, type Sink } from './logger.js';
import { createRotatingFileSink, DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES } from './rotating-sink.js';

/**
 * The service log's sink: JSON lines in <dataDir>/logs/service.log, rotated by size (10 MB × 5
 * files). The log shares the data volume: when it is full a line is dropped, the service goes on.
 */
export function fileLogSink(dataDir: string): Sink {
  return createRotatingFileSink({ file: path.join(dataDir, 'logs', 'service.log'), maxBytes: DEFAULT_LOG_MAX_BYTES, maxFiles: DEFAULT_LOG_FILES });
}

/** A logger writing to the service log, tagged with `component` and this process's pid. */
export function fileLogger(dataDir: string, component: string): Logger {
  return createLogger(fileLogSink(dataDir), { component, fields: { pid: process.pid } });
}
