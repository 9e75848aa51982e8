import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkRoot, isWithin, suggestedFolders, userFolderPaths } from '../../../src/indexer/config/roots.js';
import { tmpDir } from '../../helpers/tmp.js';

test('the welcome offers the folders the desktop names (localised XDG user-dirs), else the usual names', () => {
  const home = tmpDir('owlet-home-');
  fs.mkdirSync(path.join(home, 'Dokumente'));
  fs.mkdirSync(path.join(home, 'Downloads'));
  fs.mkdirSync(path.join(home, '.config'));
  fs.writeFileSync(
    path.join(home, '.config', 'user-dirs.dirs'),
    ['# written by xdg-user-dirs-update', 'XDG_DOCUMENTS_DIR="$HOME/Dokumente"', 'XDG_DESKTOP_DIR="$HOME"', 'XDG_DOWNLOAD_DIR="relative/ignored"', ''].join('\n'),
  );
  assert.deepEqual(userFolderPaths(home, {}, 'linux'), [
    { name: 'Documents', path: path.join(home, 'Dokumente') },
    { name: 'Desktop', path: path.join(home, 'Desktop') },
    { name: 'Downloads', path: path.join(home, 'Downloads') },
  ]);
  assert.deepEqual(userFolderPaths(home, {}, 'darwin')[0], { name: 'Documents', path: path.join(home, 'Documents') });
  // Only folders that exist are offered (no Desktop here).
  assert.deepEqual(suggestedFolders(home, {}).map((f) => f.name), process.platform === 'linux' ? ['Documents', 'Downloads'] : ['Downloads']);
});

test('path containment is by whole segments, case-folded on Windows', () => {
  assert.equal(isWithin('/home/ann/docs', '/home/ann'), true);
  assert.equal(isWithin('/home/annie', '/home/ann'), false);
  assert.equal(isWithin('C:\\Users\\Ann\\Docs', 'c:\\users', 'win32'), true);
  assert.equal(isWithin('/a', '/a'), true);
});

test('a folder resolved through a symbolic link is judged by where it leads', () => {
  const home = tmpDir('owlet-home-');
  const data = tmpDir('owlet-data-');
  const link = path.join(home, 'etc-link');
  fs.symlinkSync('/etc', link);
  assert.throws(() => checkRoot(link, { dataDir: data, home }), /system folder/);
  const toData = path.join(home, 'data-link');
  fs.symlinkSync(data, toData);
  assert.throws(() => checkRoot(toData, { dataDir: data, home }), /Owlet's own data folder/);
  fs.mkdirSync(path.join(home, 'real'));
  fs.symlinkSync(path.join(home, 'real'), path.join(home, 'alias'));
  assert.equal(checkRoot(path.join(home, 'alias'), { dataDir: data, home }), path.join(home, 'real'));
});
