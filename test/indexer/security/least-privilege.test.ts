import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir, writeTree } from '../../helpers/tmp.js';
import { assertNotRoot, type PrivilegeProbe } from '../../../src/indexer/security/least-privilege.js';
import { isOwletError } from '../../../src/shared/errors.js';

const probe = (over: Partial<PrivilegeProbe>): PrivilegeProbe => ({ platform: 'linux', env: {}, uid: 1000, isWindowsAdmin: () => false, ...over });
const refused = (e: unknown) => isOwletError(e) && e.code === 'OWL_ERR_PRIVILEGED_USER' && /--allow-root/.test(e.message);

test('root and Administrator are refused unless explicitly allowed', () => {
  assert.doesNotThrow(() => assertNotRoot(false, probe({ uid: 1000 })));
  assert.throws(() => assertNotRoot(false, probe({ uid: 0 })), refused);
  assert.throws(() => assertNotRoot(undefined, probe({ uid: 0, env: { OWLET_ALLOW_ROOT: 'yes' } })), refused, 'only "1" allows');
  assert.doesNotThrow(() => assertNotRoot(true, probe({ uid: 0 })));
  assert.doesNotThrow(() => assertNotRoot(false, probe({ uid: 0, env: { OWLET_ALLOW_ROOT: '1' } })));
  assert.throws(() => assertNotRoot(false, probe({ platform: 'win32', uid: undefined, isWindowsAdmin: () => true })), (e: unknown) => refused(e) && /Administrator/.test((e as Error).message));
  assert.doesNotThrow(() => assertNotRoot(false, probe({ platform: 'win32', uid: undefined, isWindowsAdmin: () => false })));
});

const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;

test('the CLI refuses serve, run and index as root without --allow-root (real processes)', { skip: isRoot ? false : 'needs to run as root (CI does); the refusal logic itself is tested above' }, async () => {
  const root = tmpDir('owlet-root-');
  const data = tmpDir('owlet-data-');
  writeTree(root, { 'a.txt': 'hello' });
  const env = { OWLET_ALLOW_ROOT: '' };
  for (const args of [['index'], ['serve', '--port', '0'], ['run', '--port', '0']]) {
    const cmd = args[0]!;
    const r = await runOwlet([...args, '--root', root, '--data-dir', data], { env, timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /refusing to run as root.*--allow-root/s, cmd);
    assert.match(r.stderr, /what to do: run Owlet as the user whose documents it indexes/, 'the remedy is about the user, not about folders');
  }
  assert.ok(!fs.existsSync(`${data}/index.db`), 'refused before touching the data');
  const allowed = await runOwlet(['index', '--root', root, '--data-dir', data, '--allow-root'], { env, timeoutMs: 30_000 });
  assert.equal(allowed.code, 0, allowed.stderr);
  const viaEnv = await runOwlet(['index', '--root', root, '--data-dir', data], { env: { OWLET_ALLOW_ROOT: '1' }, timeoutMs: 30_000 });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  // Read-only commands are not affected.
  const search = await runOwlet(['search', 'hello', '--data-dir', data], { env, timeoutMs: 20_000 });
  assert.equal(search.code, 0, search.stderr);
});
