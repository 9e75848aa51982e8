#!/usr/bin/env node
// Thin launcher so `npx owlet` works from the repository root once `npm ci` has built dist/.
//
// The read-only commands (`search`, `status`, `help`, and `--version`/`--help`/no command) run
// from dist/cli/read.cjs: the same CLI bundled into one file by `npm run build`
// (scripts/bundle-cli.mjs), because loading it as some 70 separate modules cost more than Node's
// own start-up (issue #14). Every other command runs from dist/ as tsc wrote it. This file is
// CommonJS (bin/package.json) so that those commands never start Node's ES module loader.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const argv = process.argv.slice(2);
const command = argv.find((a) => !a.startsWith('-'));
const readOnly = command === undefined || command === 'search' || command === 'status' || command === 'help';
const cli = readOnly && bundleIsCurrent() ? Promise.resolve(require('../dist/cli/read.cjs')) : import('../dist/indexer/cli/main.js');

/**
 * The bundle is made by `npm run build` after tsc; a bare `tsc` (or `tsc -w`) leaves an older one.
 * Then the read-only commands run from dist/ too, so every command runs the same code.
 */
function bundleIsCurrent() {
  try {
    const dist = path.join(__dirname, '..', 'dist');
    return fs.statSync(path.join(dist, 'cli', 'read.cjs')).mtimeMs >= fs.statSync(path.join(dist, 'indexer', 'cli', 'main.js')).mtimeMs;
  } catch {
    return false;
  }
}
cli.then(({ main }) => main(argv)).then((code) => { process.exitCode = code; });
