import path from 'node:path';
import { createLogger, type Logger } from './logger.js';
import { createRotatingFileSink, DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES } from './rotating-sink.js';

/**
 * Opens the service log: JSON lines in <dataDir>/logs/service.log, rotated by size (10 MB × 5
 * files). The log shares the data volume: when it is full a line is dropped, the service goes on.
 */
export function fileLogger(dataDir: string, component: string): Logger {
  const sink = createRotatingFileSink({ file: path.join(dataDir, 'logs', 'service.log'), maxBytes: DEFAULT_LOG_MAX_BYTES, maxFiles: DEFAULT_LOG_FILES });
  return createLogger(sink, { component, fields: { pid: process.pid } });
}
