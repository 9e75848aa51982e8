#!/usr/bin/env node
// Thin launcher so `npx owlet` works from the repository root once `npm ci` has built dist/.
import { main } from '../dist/indexer/cli/main.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
