import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REFUSAL_HELP } from '../../../src/indexer/update/refusal.js';
import { repoRoot } from '../../helpers/cli.js';

/** Issue #12 asks the README to say how to update and what each refusal means; this keeps it true. */
describe('README: updates section', () => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Updates'), readme.indexOf('\n## ', readme.indexOf('## Updates') + 3));

  it('explains every refusal with the words the CLI prints', () => {
    for (const [reason, help] of Object.entries(REFUSAL_HELP)) {
      assert.ok(section.includes(`| \`${reason}\` | ${help.replace(/\|/g, '\\|')} |`), `README row for ${reason}`);
    }
  });

  it('shows how to make a key, cut a release, serve a feed, install headless, update and roll back', () => {
    for (const step of ['openssl genpkey -algorithm ed25519', 'npm run release -- --version', 'http.server', 'PREFIX/versions/', 'ln -s versions/', 'owlet update apply', 'owlet update rollback', 'owlet update status']) {
      assert.ok(section.includes(step), `README shows ${step}`);
    }
  });
});
