import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3-multiple-ciphers';
import { assertOwnSchema } from '../../../src/indexer/backup/load.js';
import { openRaw } from '../../../src/indexer/backup/sqlite.js';
import { DEFAULT_MIGRATION_CONTEXT, MIGRATIONS } from '../../../src/indexer/store/migrations.js';
import { tmpDir } from '../../helpers/tmp.js';

/** Issue #11 point 1: a restored file is opened with trusted_schema=OFF and must have exactly our schema. */

function ownDatabase(file: string): number {
  const db = new Database(file);
  for (const m of MIGRATIONS) m.up(db, DEFAULT_MIGRATION_CONTEXT);
  const version = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  db.pragma(`user_version = ${version}`);
  db.close();
  return version;
}

test('a restored database must have exactly the schema this build makes: an extra trigger or view, a missing table or an unknown version is refused', () => {
  const dir = tmpDir('owlet-schema-check-');
  const m = { id: '20261203T000000Z-abcd' };
  const cases: [string, string | null, RegExp | null][] = [
    ['own', null, null],
    ['trigger', "CREATE TRIGGER planted AFTER INSERT ON documents BEGIN SELECT 1; END", /schema object this Owlet did not make \(trigger planted\)/],
    ['view', 'CREATE VIEW planted AS SELECT 1', /schema object this Owlet did not make \(view planted\)/],
    ['dropped', 'DROP TABLE meta', /lacks table meta/],
  ];
  for (const [name, sql, refused] of cases) {
    const file = path.join(dir, `${name}.db`);
    const version = ownDatabase(file);
    if (sql) {
      const w = new Database(file);
      w.exec(sql);
      w.close();
    }
    const db = openRaw(file, { readonly: true, untrusted: true });
    try {
      assert.equal(db.pragma('trusted_schema', { simple: true }), 0, 'opened with trusted_schema=OFF');
      if (refused) assert.throws(() => assertOwnSchema(db, version, m), refused, name);
      else assert.doesNotThrow(() => assertOwnSchema(db, version, m));
      assert.throws(() => assertOwnSchema(db, version + 1, m), /schema version \d+, which this Owlet does not know/);
    } finally {
      db.close();
    }
  }
});
