#!/usr/bin/env node
// Runs the test files given, in the order given, two at a time, with Node's own test runner and its
// TAP reporter. `node --test FILES` sorts its files by name, which left the longest files for last
// (scripts/run-tests.mjs orders them); run() keeps the order. Start it with `--import tsx`: the
// runner starts each file with this process's flags.
import { run } from 'node:test';
import { tap } from 'node:test/reporters';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('test-runner: no test files given');
  process.exit(2);
}
const stream = run({ files, concurrency: 2, timeout: 240_000 });
// As `node --test` does: a failed test (not a todo) fails the run.
stream.on('test:fail', (data) => {
  if (!data.todo) process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
