import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { owletBin, runOwlet, waitExit } from '../../helpers/cli.js';
import { tmpDir, waitFor, writeTree } from '../../helpers/tmp.js';
import { SafeStorageSecretStore, hostKeyMessage, type SafeStorageLike } from '../../../src/main/secret-store-electron.js';
import { isServiceMessage, type ServiceMessage } from '../../../src/shared/protocol.js';
import { closeDatabase, openDatabase } from '../../../src/indexer/store/db.js';
import { verifyAuditLog } from '../../../src/indexer/audit/log.js';
import { fetchAuthed } from '../../helpers/auth.js';
import type { StatusReport } from '../../../src/shared/api.js';

const fakeSafe: SafeStorageLike = {
  isEncryptionAvailable: () => true,
  encryptString: (s) => Buffer.from(Buffer.from(s, 'utf8').map((b) => b ^ 0x5a)),
  decryptString: (b) => Buffer.from(Buffer.from(b).map((x) => x ^ 0x5a)).toString('utf8'),
  getSelectedStorageBackend: () => 'gnome_libsecret',
};

test('serve --key-from-host waits for the key on the IPC channel and opens the index with it', async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'h.txt': 'hostkeyword' });
  const msg = hostKeyMessage(data, new SafeStorageSecretStore(data, fakeSafe));
  const env: NodeJS.ProcessEnv = { ...process.env, OWLET_ALLOW_ROOT: '1' };
  delete env.NODE_TEST_CONTEXT;
  const child = fork(owletBin, ['serve', '--key-from-host', '--root', root, '--data-dir', data, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    const ready = new Promise<ServiceMessage>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ready message\n${out}`)), 20_000);
      child.on('message', (m) => {
        if (isServiceMessage(m) && m.type === 'ready') {
          clearTimeout(t);
          resolve(m);
        }
      });
    });
    // Nothing is opened before the key arrives.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!fs.existsSync(path.join(data, 'index.db')), 'the index is not opened without the key');
    child.send(msg);
    const r = await ready;
    assert.equal(r.type, 'ready');
    const url = (r as Extract<ServiceMessage, { type: 'ready' }>).url;
    await waitFor(async () => ((await (await fetchAuthed(data, `${url}/api/v1/status`)).json()) as StatusReport).counts.indexed === 1, 20_000, 'indexed');
    child.send({ type: 'shutdown', reason: 'test' });
    // The service removes service.json when it has stopped, lets go of its IPC channel, and exits.
    await waitFor(() => !fs.existsSync(path.join(data, 'service.json')), 10_000, 'clean stop');
    assert.equal((await waitExit(child, 10_000)).code, 0, out);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  // Encrypted with the host's key; no key was written to disk by the service.
  assert.ok(!fs.existsSync(path.join(data, 'keys', 'data-key.key')));
  const db = openDatabase(path.join(data, 'index.db'), { key: Buffer.from(msg.key, 'base64'), readonly: true });
  assert.equal((db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n, 1);
  closeDatabase(db);
  const audit = verifyAuditLog(path.join(data, 'audit'), Buffer.from(msg.auditKey!, 'base64'));
  assert.equal(audit.ok, true, JSON.stringify(audit.firstBroken));
  assert.ok(audit.entries >= 2, 'service start and stop, under the host\'s audit key');
  // The headless CLI does not guess: the keys are the app's.
  const search = await runOwlet(['search', 'hostkeyword', '--data-dir', data], { timeoutMs: 20_000 });
  assert.equal(search.code, 1);
  assert.match(search.stderr, /held by the Owlet app/);
});

test('serve --key-from-host without a host fails at once with a clear error', async () => {
  const data = tmpDir('owlet-data-');
  const r = await runOwlet(['serve', '--key-from-host', '--data-dir', data, '--port', '0'], { timeoutMs: 20_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--key-from-host needs a host process/);
  assert.ok(!fs.existsSync(path.join(data, 'index.db')));
});
