import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE as LOADER_FILE, loadConfig, saveConfig } from '../../../src/indexer/config/load.js';
import { ConfigSchema, defaultConfig, type Config } from '../../../src/indexer/config/schema.js';
import { CONFIG_DEFAULTS } from '../../../src/indexer/cli/config-defaults.js';
import { CONFIG_FILE, certainlyValidConfig, readConfig } from '../../../src/indexer/cli/quick-config.js';
import { VERSION } from '../../../src/indexer/version.js';
import { defaultsModule, DEFAULTS_FILE } from '../../../scripts/config-defaults.js';
import { tmpDir } from '../../helpers/tmp.js';

/**
 * The read-only commands read config.json without the schema library (issue #14), but only when
 * the file is certainly valid; anything else goes to config/load.ts. The one property that
 * matters: whenever the fast path answers, it answers what the full loader would.
 */

function dataWith(content: unknown): string {
  const dir = tmpDir('owlet-quick-');
  if (content !== undefined) fs.writeFileSync(path.join(dir, CONFIG_FILE), typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
  return dir;
}

/** What the full loader says: the configuration, or the error code it refuses the file with. */
function full(dir: string): Config | string {
  try {
    return loadConfig(dir);
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every path to a value in the defaults (objects and leaves), e.g. ['security', 'http', 'bodyLimitKb']. */
function pathsOf(v: unknown, at: string[] = []): string[][] {
  if (!isRecord(v)) return [at];
  return [at, ...Object.entries(v).flatMap(([k, c]) => pathsOf(c, [...at, k]))];
}

function setAt(root: Record<string, unknown>, p: string[], value: unknown): void {
  let o = root;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (value === undefined) delete o[p[p.length - 1]!];
  else o[p[p.length - 1]!] = value;
}

test('the defaults copy is the schema\'s defaults (regenerate it with scripts/config-defaults.ts when this fails)', () => {
  assert.deepEqual(CONFIG_DEFAULTS, defaultConfig(), 'run: node --import tsx scripts/config-defaults.ts');
  assert.equal(fs.readFileSync(DEFAULTS_FILE, 'utf8'), defaultsModule(), 'run: node --import tsx scripts/config-defaults.ts');
  assert.equal(CONFIG_FILE, LOADER_FILE);
});

test('a setting left out means its default at every level of the schema (what the fast path assumes)', () => {
  for (const p of pathsOf(CONFIG_DEFAULTS).filter((x) => x.length > 0)) {
    const cut = structuredClone(CONFIG_DEFAULTS) as unknown as Record<string, unknown>;
    setAt(cut, p, undefined);
    assert.deepEqual(ConfigSchema.parse(cut), defaultConfig(), `without ${p.join('.')}`);
    const emptied = structuredClone(CONFIG_DEFAULTS) as unknown as Record<string, unknown>;
    if (isRecord((p.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], CONFIG_DEFAULTS)))) {
      setAt(emptied, p, {});
      assert.deepEqual(ConfigSchema.parse(emptied), defaultConfig(), `${p.join('.')}: {}`);
    }
  }
});

test('the files Owlet and the benchmark write take the fast path and read exactly as the full loader reads them', () => {
  const root = tmpDir('owlet-root-');
  const written = dataWith(undefined);
  saveConfig(written, { ...defaultConfig(), roots: [root], search: { languages: ['de', 'en'] } });
  const cases: [string, string][] = [
    ['no config.json', dataWith(undefined)],
    ['as saveConfig writes it (every setting, writtenBy)', written],
    ['only version and roots (the benchmark\'s --compare-bin)', dataWith({ version: 1, roots: [root, '/elsewhere'] })],
    ['empty', dataWith({})],
    ['written by an older version', dataWith({ version: 1, writtenBy: '0.0.1', roots: [root] })],
    ['eight languages', dataWith({ search: { languages: ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'sv'] } })],
  ];
  for (const [what, dir] of cases) {
    const quick = certainlyValidConfig(dir);
    assert.ok(quick, `${what}: the fast path answers`);
    assert.deepEqual(quick, full(dir), what);
  }
});

test('whatever the fast path accepts, the full loader accepts the same way; everything else goes to the full loader', () => {
  const root = tmpDir('owlet-root-');
  const base = (): Record<string, unknown> => ({ writtenBy: VERSION, ...structuredClone(CONFIG_DEFAULTS), roots: [root] });
  const odd: unknown[] = [null, 'x', '', -1, 0, 1.5, 1e9, true, [], ['x'], {}, { extra: 1 }];
  let answered = 0;
  let refused = 0;
  const check = (what: string, content: unknown) => {
    const dir = dataWith(content);
    const quick = certainlyValidConfig(dir);
    if (quick === null) refused++;
    else {
      answered++;
      assert.deepEqual(quick, full(dir), `${what}: the fast path and the full loader disagree`);
    }
  };
  for (const p of pathsOf(CONFIG_DEFAULTS)) {
    for (const v of odd) {
      const c = base();
      if (p.length === 0) check(`the whole file = ${JSON.stringify(v)}`, v);
      else {
        setAt(c, p, v);
        check(`${p.join('.')} = ${JSON.stringify(v)}`, c);
      }
    }
    const c = base();
    if (p.length > 0) {
      setAt(c, p, undefined);
      check(`without ${p.join('.')}`, c);
    }
  }
  // Changed values of the settings it checks itself, good and bad.
  for (const roots of [[], [root], [''], [1], 'x', [root, root]]) check(`roots = ${JSON.stringify(roots)}`, { ...base(), roots });
  for (const languages of [[], ['en'], ['xx'], ['EN'], Array(9).fill('en'), ['de', 'fr']]) check(`languages = ${JSON.stringify(languages)}`, { ...base(), search: { languages } });
  for (const writtenBy of ['0.0.1', VERSION, '99.0.0', '0.1.0-beta.1', 'junk', 1, null]) check(`writtenBy = ${JSON.stringify(writtenBy)}`, { ...base(), writtenBy });
  for (const text of ['{"roots": [}', '', '[]', '"x"', '{"__proto__": {"roots": ["/x"]}}', '{"constructor": {}}']) check(`the text ${JSON.stringify(text)}`, text);
  assert.ok(answered > 20 && refused > 100, `both sides exercised (answered ${answered}, refused ${refused})`);

  // A setting changed from its default that the fast path does not check itself goes to the full loader.
  assert.equal(certainlyValidConfig(dataWith({ ...base(), maxFileSizeMb: 10 })), null);
  assert.equal(certainlyValidConfig(dataWith({ ...base(), writtenBy: '99.0.0' })), null, 'a newer writer: the full loader sets its keys aside');
});

test('a config.json the data-folder guard refuses is left to the full loader, which refuses it the same way as before', async () => {
  const dir = dataWith({ roots: [] });
  fs.chmodSync(path.join(dir, CONFIG_FILE), 0o666);
  if (process.getuid?.() !== undefined) {
    assert.equal(certainlyValidConfig(dir), null);
    await assert.rejects(readConfig(dir), /writable by other users/);
  }
  const linked = dataWith(undefined);
  fs.symlinkSync(path.join(dir, CONFIG_FILE), path.join(linked, CONFIG_FILE));
  assert.equal(certainlyValidConfig(linked), null);
  await assert.rejects(readConfig(linked), /symbolic link/);
});

test('readConfig: an invalid file is reported by the full loader, naming the key', async () => {
  const dir = dataWith({ maxFileSizeMb: 'big', extractors: { workers: 0 } });
  await assert.rejects(readConfig(dir), (e: { code?: string; message?: string }) => e.code === 'OWL_ERR_CONFIG_INVALID' && /maxFileSizeMb/.test(e.message ?? '') && /extractors\.workers/.test(e.message ?? ''));
  const ok = dataWith({ roots: ['/somewhere'] });
  assert.deepEqual(await readConfig(ok), loadConfig(ok));
});
