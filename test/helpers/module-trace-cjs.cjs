// `node --require ./test/helpers/module-trace-cjs.cjs …`: at exit, appends every CommonJS module the
// process loaded (require.cache, which the ESM resolve hook of module-trace.mjs does not see) to
// $OWLET_MODULE_TRACE as file: URLs. Modules bundled into dist/cli/read.cjs announce themselves
// when they are initialised (scripts/bundle-cli.mjs); they are appended as `bundled:` lines naming
// the file each came from (dist/indexer/….js for our sources), and Node's built-in modules it
// loaded (process.moduleLoadList) as `builtin:` lines.
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');

const bundled = [];
globalThis.__owletModuleTrace = (name) => bundled.push(name);

process.on('exit', () => {
  const file = process.env.OWLET_MODULE_TRACE;
  if (!file) return;
  const urls = Object.keys(require.cache).filter((p) => p.startsWith('/') || /^[A-Za-z]:\\/.test(p)).map((p) => pathToFileURL(p).href);
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `builtin:${m.slice('NativeModule '.length)}`);
  fs.appendFileSync(file, [...urls, ...bundled.map((b) => `bundled:${b}`), ...builtins].join('\n') + '\n');
});
