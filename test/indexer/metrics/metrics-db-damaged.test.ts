import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startOwlet, waitExit } from '../../helpers/cli.js';
import { fetchAuthed } from '../../helpers/auth.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import type { ServiceInfo } from '../../../src/shared/api.js';

test('a damaged metrics.db does not keep owlet serve from starting: it is moved aside, a new one is made, monitoring and alerts work', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'a document tokenone' });
  fs.chmodSync(data, 0o700);
  fs.writeFileSync(path.join(data, 'metrics.db'), 'this is not a database at all, just text that is long enough to have a header', { mode: 0o600 });
  const child = startOwlet(['serve', '--root', root, '--data-dir', data, '--port', '0']);
  try {
    const info = await waitFor(() => JSON.parse(fs.readFileSync(path.join(data, 'service.json'), 'utf8')) as ServiceInfo, 60_000, 'service.json').catch((e: Error) => {
      throw new Error(`${e.message}\n${child.output()}`);
    });
    await waitFor(async () => (await fetch(`${info.url}/health/ready`)).status === 200, 30_000, 'ready');
    const alerts = (await (await fetchAuthed(data, `${info.url}/api/v1/alerts`)).json()) as { enabled: boolean };
    assert.equal(alerts.enabled, true, 'monitoring is on, on a new metrics.db');
    const metrics = await (await fetchAuthed(data, `${info.url}/metrics`)).text();
    assert.match(metrics, /owlet_disk_free_bytes \d/);
    const aside = fs.readdirSync(data).filter((f) => f.startsWith('metrics.db.broken-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
    assert.equal(aside.length, 1, 'the damaged file is kept for a person, beside the new one');
    assert.match(fs.readFileSync(path.join(data, aside[0]!), 'utf8'), /not a database/);
    assert.notEqual(fs.readFileSync(path.join(data, 'metrics.db')).subarray(0, 16).toString('latin1'), 'this is not a da');
  } finally {
    child.kill('SIGTERM');
    await waitExit(child, 15_000);
  }
});
