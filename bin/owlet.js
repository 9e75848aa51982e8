#!/usr/bin/env node
// Thin launcher so `npx owlet` works from the repository root once `npm ci` has built dist/.
//
// The read-only commands (`search`, `status`, `help`, and `--version`/`--help`/no command) run
// from dist/cli/read.cjs: the same CLI bundled into one file by `npm run build`
// (scripts/bundle-cli.mjs), because loading it as some 70 separate modules cost more than Node's
// own start-up (issue #14). Every other command runs from dist/ as tsc wrote it. This file is
// CommonJS (bin/package.json) so that those commands never start Node's ES module loader.
'use strict';

const argv = process.argv.slice(2);
const command = argv.find((a) => !a.startsWith('-'));
const readOnly = command === undefined || command === 'search' || command === 'status' || command === 'help';
const cli = readOnly ? Promise.resolve(require('../dist/cli/read.cjs')) : import('../dist/indexer/cli/main.js');
cli.then(({ main }) => main(argv)).then((code) => { process.exitCode = code; });
