#!/usr/bin/env node
/*
 * Build step after `tsc` (issue #14): the CLI's read-only commands (`search`, `status`, `help`,
 * `--version`, `--help`) as ONE file, dist/cli/read.cjs, which bin/owlet.js runs for them. Node's
 * ES module loader pays for every file it resolves, reads, compiles and links: the 50 to 80
 * modules those commands loaded from dist/ cost about as much as Node's own start-up.
 *
 * CommonJS, unsplit, on purpose: esbuild then wraps every module another one imports lazily in
 * an initialiser that runs at that import, and turns each module's imports of packages and Node
 * built-ins into require() calls inside it. So the file holds the whole read path, and a run
 * still loads only what it reaches: `--version` no SQLite, `status` no search modules, a search
 * answered by a running service no keys; zod only when config.json needs the full loader.
 * (ES module output would hoist every package import to the top of the file.)
 *
 * Bundled from node_modules: commander and better-sqlite3's JavaScript (a dozen CommonJS files
 * each; its native addon is loaded from its package). Other packages (zod, the stemmers, the
 * keychain binding) stay outside and are required when reached. Every other command (`serve`,
 * `run`, `index`, ...) runs from dist/ as tsc wrote it: its workers and child processes start from
 * files there, so its actions are left out of this file (imports of their dist/ modules that
 * bin/owlet.js never lets this file reach).
 *
 * Each bundled module announces itself to `globalThis.__owletModuleTrace` when it is initialised,
 * if a test installed that function (test/helpers/module-trace-cjs.cjs): the start-up test checks
 * which modules a command loaded, inside this file as outside it.
 */
import path from 'node:path';
import fs from 'node:fs';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const outdir = path.join(root, 'dist', 'cli');
const cliDir = path.join(root, 'src', 'indexer', 'cli');

/** The actions of the commands this file runs; every other action stays in dist/. */
const READ_ACTIONS = new Set(['actions/search.js', 'actions/search-index.js', 'actions/show-status.js', 'actions/read-index.js']);
/** Packages bundled (plain JavaScript, many files); the others are required from node_modules. */
const BUNDLED_PACKAGES = new Set(['commander', 'better-sqlite3-multiple-ciphers']);

/** What the read path imports from these built-ins (functions, or the default export used as an object). */
const LAZY_BUILTINS = { 'node:crypto': ['randomBytes', 'createHash', 'timingSafeEqual'], 'node:zlib': ['default'], 'node:child_process': ['spawnSync'] };

const rel = (file) => path.relative(root, file).split(path.sep).join('/');
/** The name a module has in the start-up test's trace: its dist/ file for our sources. */
const traceName = (file) => rel(file).replace(/^src\/(.*)\.ts$/, 'dist/$1.js');
const traceLine = (file) => `\n;globalThis.__owletModuleTrace?.(${JSON.stringify(traceName(file))});\n`;

/** @type {esbuild.Plugin} */
const readPath = {
  name: 'owlet-read-path',
  setup(build) {
    // Node built-ins that load many internal modules, which the read path imports but calls only
    // in some runs (crypto: when it writes a key or token; zlib: when a search reads a stored
    // passage; child_process: commander for external subcommands, the Windows administrator check):
    // loaded at their first use. An import of anything not listed fails the build here.
    build.onResolve({ filter: /^node:(crypto|zlib|child_process)$/ }, (args) => {
      if (args.importer.startsWith(path.join(root, 'src') + path.sep)) return { path: args.path, namespace: 'owlet-lazy-builtin' };
      if (args.importer.includes(`${path.sep}node_modules${path.sep}commander${path.sep}`)) return { path: args.path, namespace: 'owlet-lazy-builtin-cjs' };
      return undefined;
    });
    const loader = (name) => `let loaded;\nconst load = () => (loaded ??= require(${JSON.stringify(name)}));\n`;
    build.onLoad({ filter: /.*/, namespace: 'owlet-lazy-builtin' }, (args) => ({
      contents: loader(args.path) + LAZY_BUILTINS[args.path].map((name) => (name === 'default' ? 'export default new Proxy({}, { get: (_, key) => load()[key] });' : `export const ${name} = (...args) => load().${name}(...args);`)).join('\n'),
      loader: 'js',
    }));
    // For CommonJS code (commander reads childProcess.spawn when it runs an external subcommand).
    build.onLoad({ filter: /.*/, namespace: 'owlet-lazy-builtin-cjs' }, (args) => ({ contents: `${loader(args.path)}module.exports = new Proxy({}, { get: (_, key) => load()[key] });`, loader: 'js' }));
    // `import fs from 'node:fs'` compiles to a copy of the module's hundred-odd properties made
    // for each importing module (esbuild's CommonJS interop): ~30 copies per run. Imported through
    // one ES module that exports the built-in as its default, it is the module itself, once. A named
    // import of these fails the build here.
    build.onResolve({ filter: /^node:(fs|path|os)$/ }, (args) => (args.importer.startsWith(path.join(root, 'src') + path.sep) ? { path: args.path, namespace: 'owlet-builtin-default' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'owlet-builtin-default' }, (args) => ({ contents: `export default require(${JSON.stringify(args.path)});`, loader: 'js' }));
    build.onResolve({ filter: /^\.\.?\//, namespace: 'file' }, (args) => {
      if (args.kind !== 'dynamic-import' || !args.importer.startsWith(cliDir + path.sep)) return undefined;
      const target = path.relative(cliDir, path.resolve(path.dirname(args.importer), args.path)).split(path.sep).join('/');
      // Modules outside cli/ (the store, the search engine, the configuration loader) are bundled.
      if (target.startsWith('../') || READ_ACTIONS.has(target)) return undefined;
      return { path: `../indexer/cli/${target}`, external: true };
    });
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === 'bindings' && args.importer.includes(`${path.sep}better-sqlite3-multiple-ciphers${path.sep}`)) return { path: 'bindings', namespace: 'owlet-sqlite-addon' };
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
    // better-sqlite3 finds its addon through `bindings`, which searches from its caller's file
    // (here: this bundle). Load it from the package instead; `bindings` rooted at the package is
    // the fallback for an install that put it elsewhere.
    build.onLoad({ filter: /.*/, namespace: 'owlet-sqlite-addon' }, () => ({
      contents: `
        const pkg = 'better-sqlite3-multiple-ciphers';
        module.exports = function (name) {
          try {
            return require(pkg + '/build/Release/' + name);
          } catch (e) {
            if (!e || e.code !== 'MODULE_NOT_FOUND') throw e;
            const pkgJson = require.resolve(pkg + '/package.json');
            return require('node:module').createRequire(pkgJson)('bindings')({ bindings: name, module_root: require('node:path').dirname(pkgJson) });
          }
        };`,
      loader: 'js',
    }));
    // commander is loaded with createRequire in dist/ (cli/commander.ts says why); here it is
    // bundled code.
    build.onLoad({ filter: /[\\/]src[\\/]indexer[\\/]cli[\\/]commander\.ts$/ }, (args) => ({
      contents: `export { Command, CommanderError, Option } from 'commander';${traceLine(args.path)}`,
      loader: 'ts',
      resolveDir: cliDir,
    }));
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => ({ contents: (await fs.promises.readFile(args.path, 'utf8')) + traceLine(args.path), loader: 'ts' }));
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.js$/ }, async (args) => ({ contents: (await fs.promises.readFile(args.path, 'utf8')) + traceLine(args.path), loader: 'js' }));
  },
};

fs.rmSync(outdir, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: [path.join(cliDir, 'main.ts')],
  outfile: path.join(outdir, 'read.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // A smaller file compiles faster. Names are kept: stack traces and `.name` read as in the sources.
  minifyWhitespace: true,
  minifySyntax: true,
  // The sources find package.json and packages from their own file (createRequire(import.meta.url)):
  // dist/cli/read.cjs sits as deep as dist/indexer/version.js, so '../../package.json' still holds.
  define: { 'import.meta.url': '__owletFileUrl' },
  banner: { js: "'use strict';\nconst __owletFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [readPath],
  metafile: true,
  write: false,
  logLevel: 'warning',
});

/*
 * esbuild leaves a few non-ASCII characters in regular expression literals; one of them makes V8
 * hold the whole source as two-byte text and Node decode the file on its slow path. As \uXXXX
 * escapes (the same character in a string or a regular expression) the file is ASCII. An escaped
 * one (`\—`) would change meaning, so it stops the build instead.
 */
const [output] = result.outputFiles;
if (/\\[^\x00-\x7f]/.test(output.text)) throw new Error('bundle-cli: a non-ASCII character follows a backslash in the bundle; escape it in the source');
fs.mkdirSync(outdir, { recursive: true });
fs.writeFileSync(output.path, output.text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

// `OWLET_BUNDLE_SIZES=1 node scripts/bundle-cli.mjs`: the biggest sources in the file.
if (process.env.OWLET_BUNDLE_SIZES) {
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
  for (const [file, i] of inputs.slice(0, 40)) console.log(String(i.bytesInOutput).padStart(8), file);
}
