import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OwletService } from '../../../src/indexer/service/service.js';
import type { IndexContext } from '../../../src/indexer/service/context.js';
import { nullLogger } from '../../../src/indexer/log/logger.js';
import { noAudit, type AuditEventName } from '../../../src/shared/audit.js';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir } from '../../helpers/tmp.js';

/**
 * The service stands below audit/ in the layers: it does not open its audit trail itself but is
 * handed an opener by whoever hosts it (serve, `owlet index`, doctor pass serviceAuditLog).
 */

test('the service audits through the opener its host hands it, once the index and its keys are open', async () => {
  const data = tmpDir('owlet-data-');
  const appended: AuditEventName[] = [];
  let opened: IndexContext | null = null;
  const svc = new OwletService({
    dataDir: data,
    log: nullLogger,
    watch: false,
    openAudit: (ctx) => {
      assert.ok(ctx.db.open, 'the index is open when the audit trail is');
      opened = ctx;
      return { append: (e) => void appended.push(e) };
    },
  });
  try {
    assert.equal(opened, svc.ctx);
    svc.audit.append('backup.created', { id: 'x' });
    assert.deepEqual(appended, ['backup.created']);
  } finally {
    await svc.stop();
  }
});

test('without an opener the service audits nothing (and says so by type: noAudit)', async () => {
  const svc = new OwletService({ dataDir: tmpDir('owlet-data-'), log: nullLogger, watch: false });
  try {
    assert.equal(svc.audit, noAudit);
  } finally {
    await svc.stop();
  }
});

test('owlet index (the real CLI) opens the audit trail, as serve does', async () => {
  const data = tmpDir('owlet-data-');
  const root = tmpDir('owlet-root-');
  fs.writeFileSync(path.join(root, 'a.txt'), 'alpha');
  const r = await runOwlet(['index', '--root', root, '--data-dir', data]);
  assert.equal(r.code, 0, r.stderr);
  const dir = path.join(data, 'audit');
  assert.ok(fs.statSync(dir).isDirectory(), 'the audit folder exists');
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  const v = await runOwlet(['audit', 'verify', '--data-dir', data]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});
