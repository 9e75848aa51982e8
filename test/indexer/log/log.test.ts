import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../../src/indexer/log/logger.js';
import { createRotatingFileSink } from '../../../src/indexer/log/rotating-sink.js';
import { correlationId, newCorrelationId, withCorrelation } from '../../../src/indexer/log/correlation.js';
import { buildServer, type ServiceApi } from '../../../src/indexer/http/server.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { saveConfig } from '../../../src/indexer/config/load.js';
import { defaultConfig } from '../../../src/indexer/config/schema.js';
import { tmpDir } from '../../helpers/tmp.js';
import { quietApi } from '../../helpers/fake-api.js';

test('the file sink rotates by size and keeps a fixed number of files: the log never exceeds maxBytes × (files + 1)', () => {
  const dir = tmpDir('owlet-log-');
  const file = path.join(dir, 'logs', 'service.log');
  const sink = createRotatingFileSink({ file, maxBytes: 4096, maxFiles: 3 });
  const log = createLogger(sink, { component: 'test' });
  for (let i = 0; i < 500; i++) log.info('event', { i, pad: 'x'.repeat(40) });
  sink.close();
  const files = fs.readdirSync(path.dirname(file)).sort();
  assert.deepEqual(files, ['service.log', 'service.log.1', 'service.log.2', 'service.log.3']);
  let total = 0;
  for (const f of files) {
    const size = fs.statSync(path.join(dir, 'logs', f)).size;
    assert.ok(size <= 4096, `${f} is ${size} bytes`);
    total += size;
    // Every file holds whole JSON lines.
    for (const line of fs.readFileSync(path.join(dir, 'logs', f), 'utf8').trimEnd().split('\n')) JSON.parse(line);
  }
  assert.ok(total <= 4 * 4096);
  // Newest in the live file, older ones in .1, .2, .3; the oldest lines were dropped.
  const last = JSON.parse(fs.readFileSync(file, 'utf8').trimEnd().split('\n').pop()!);
  assert.equal(last.i, 499);
  const firstOfOldest = JSON.parse(fs.readFileSync(file + '.3', 'utf8').split('\n')[0]!);
  assert.ok(firstOfOldest.i > 0 && firstOfOldest.i < JSON.parse(fs.readFileSync(file + '.1', 'utf8').split('\n')[0]!).i);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});

test('two writers on one file (supervisor and service) rotate without losing the live file', () => {
  const dir = tmpDir('owlet-log-');
  const file = path.join(dir, 'service.log');
  const a = createRotatingFileSink({ file, maxBytes: 2048, maxFiles: 2 });
  const b = createRotatingFileSink({ file, maxBytes: 2048, maxFiles: 2 });
  for (let i = 0; i < 200; i++) (i % 2 ? a : b).write(JSON.stringify({ i, w: i % 2 ? 'a' : 'b', pad: 'y'.repeat(30) }) + '\n');
  a.close();
  b.close();
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { i: number });
  assert.ok(lines.some((l) => l.i === 199) || lines.some((l) => l.i === 198), 'the latest lines are in the live file');
  for (const f of fs.readdirSync(dir)) assert.ok(fs.statSync(path.join(dir, f)).size <= 2048 + 100, f);
});

test('log lines: time, level, component, message; correlation id when inside one; content-like fields never written', () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => void lines.push(l) }, { component: 'indexer', now: () => new Date(0) });
  log.info('outside');
  withCorrelation('scan-abc', () => {
    log.warn('inside', { path: '/x/y.pdf', text: 'the secret quarterly numbers', snippet: 'also <mark>secret</mark>', query: 'salary 2026', count: 3 });
    assert.equal(correlationId(), 'scan-abc');
  });
  const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(a, { time: '1970-01-01T00:00:00.000Z', level: 'info', component: 'indexer', msg: 'outside' });
  assert.equal(b!.cid, 'scan-abc');
  assert.equal(b!.path, '/x/y.pdf');
  assert.equal(b!.count, 3);
  assert.equal(b!.text, '[redacted 28 chars]');
  assert.equal(b!.query, '[redacted 11 chars]');
  assert.ok(!lines.join('').includes('secret'));
  assert.match(newCorrelationId('req'), /^req-[0-9a-f]{12}$/);
});

test('every HTTP request has a correlation id: in the X-Request-Id answer header, on its log line and on lines logged while handling it', async () => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => void lines.push(l) }, { level: 'debug' });
  const api: ServiceApi = quietApi({
    search: () => {
      log.child('search').info('searching');
      return { total: 0, hits: [] };
    },
  });
  const app = buildServer(api, { requestLog: log.child('http') });
  const r = await app.inject({ url: '/api/v1/search?q=confidential+merger' });
  const cid = String(r.headers['x-request-id']);
  assert.match(cid, /^req-/);
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const inside = recs.find((x) => x.msg === 'searching');
  assert.equal(inside?.cid, cid, 'a line logged by the handler carries the request id');
  const req = recs.find((x) => x.msg === 'request');
  assert.equal(req?.cid, cid);
  assert.equal(req?.path, '/api/v1/search', 'the query string (search terms) is not logged');
  assert.equal(req?.status, 200);
  assert.ok(!lines.join('').includes('merger'));
  const other = await app.inject({ url: '/nope' });
  assert.notEqual(other.headers['x-request-id'], cid);
  assert.ok(recs.length >= 2);
  await app.close();
});

test('an indexing pass logs under its own correlation id', async () => {
  const data = tmpDir('owlet-data-');
  saveConfig(data, { ...defaultConfig(), roots: [path.join(data, 'unplugged-drive')] });
  const lines: string[] = [];
  const svc = new OwletService({ dataDir: data, log: createLogger({ write: (l) => void lines.push(l) }), watch: false });
  try {
    await svc.rescan();
    await svc.rescan();
  } finally {
    await svc.stop();
  }
  const offline = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((x) => String(x.msg).startsWith('root offline'));
  assert.equal(offline.length, 2);
  assert.match(String(offline[0]!.cid), /^scan-/);
  assert.notEqual(offline[0]!.cid, offline[1]!.cid, 'each pass has its own id');
});
