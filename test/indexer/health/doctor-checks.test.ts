import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DOCTOR_CHECKS } from '../../../src/indexer/health/doctor/checks/index.js';
import { runDoctor, type DoctorCheck, type DoctorFinding } from '../../../src/indexer/health/doctor.js';
import { tmpDir } from '../../helpers/tmp.js';

const root = path.resolve(import.meta.dirname, '../../..');
const space = async () => ({ free: 50 * 1024 ** 3, total: 100 * 1024 ** 3 });

test('the doctor runs a list of checks with unique ids, each a module of doctor/checks', () => {
  const ids = DOCTOR_CHECKS.map((c) => c.id);
  assert.ok(ids.length >= 10, 'the list is the real one');
  assert.deepEqual(ids, [...new Set(ids)], 'no two checks share an id');
  assert.equal(ids[0], 'datadir', 'the data directory comes first: without it nothing else is checked');
  const modules = fs.readdirSync(path.join(root, 'src/indexer/health/doctor/checks')).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  assert.equal(modules.length, DOCTOR_CHECKS.length, 'one module per check, and every module is in the list');
});

/**
 * Which test of doctor.test.ts applies each check's fix for real (a real data folder, then
 * runDoctor with fix or "owlet doctor --fix"). A check that gains a fix must be named here, with
 * the test that exercises it.
 */
const FIX_EXERCISED_BY: Record<string, string> = {
  datadir: 'a data directory open to other users is restricted to its owner',
  service: 'a stale service.json from a crashed service is removed, a live one never',
  integrity: 'doctor --fix (the real CLI) rebuilds a damaged full-text index and search works again',
  fts: 'documents missing from the full-text index are found and restored by the rebuild',
  roots: 'a root marked offline but reachable again is rescanned: its new files become searchable',
  metrics: 'an invalid configuration is a failed finding naming the key; an unreadable metrics.db is moved aside',
};

test('every check with a fix is exercised by a doctor test that runs --fix', () => {
  const withFix = DOCTOR_CHECKS.filter((c) => c.fix).map((c) => c.id).sort();
  assert.deepEqual(withFix, Object.keys(FIX_EXERCISED_BY).sort());
  const src = fs.readFileSync(path.join(root, 'test/indexer/health/doctor.test.ts'), 'utf8');
  const bodies = src.split(/\ntest\(/).slice(1);
  for (const [id, title] of Object.entries(FIX_EXERCISED_BY)) {
    const body = bodies.find((b) => b.startsWith(`'${title}`));
    assert.ok(body, `doctor.test.ts has the test "${title}" (the fix of ${id})`);
    assert.match(body, /fix: true|'--fix'/, `"${title}" runs the doctor with --fix`);
  }
});

/** A check that reports what it is given and records the fixes applied, for the runner's rules. */
function fakeCheck(id: string, findings: (ctx: { stop: boolean }) => DoctorFinding[], fix?: DoctorCheck['fix']): DoctorCheck {
  return { id, inspect: (ctx) => findings(ctx), ...(fix ? { fix } : {}) };
}

test('the runner: checks in order, one action per finding or one for all, a shared action once, failures reported, then a fresh inspection', async () => {
  const data = tmpDir('owlet-doctor-run-');
  fs.chmodSync(data, 0o700);
  const applied: string[] = [];
  let repaired = false;
  const broken = (id: string, fix: string): DoctorFinding => ({ id, name: id, status: repaired ? 'ok' : 'degraded', message: repaired ? 'fine' : 'broken', ...(repaired ? {} : { fix }) });
  const checks: DoctorCheck[] = [
    fakeCheck('perm', () => [broken('perm:a', 'chmod a'), broken('perm:b', 'chmod b'), { id: 'perm:c', name: 'c', status: 'ok', message: 'fine', fix: 'never offered: ok' }], {
      async each(f) {
        applied.push(f.id);
        return `did ${f.fix}`;
      },
    }),
    fakeCheck('rebuild-one', () => [broken('one', 'rebuild')], { each: async () => (applied.push('rebuild'), 'rebuilt') }),
    fakeCheck('rebuild-two', () => [broken('two', 'rebuild')], { each: async () => (applied.push('rebuild again'), 'rebuilt again') }),
    fakeCheck('folders', () => [broken('root:/x', 'rescan /x'), broken('root:/y', 'rescan /y')], {
      together: (fs) => ({ check: 'roots', action: `rescan ${fs.map((f) => f.id.slice(5)).join(', ')}`, run: async () => (applied.push('rescan'), (repaired = true), 'rescanned') }),
    }),
    fakeCheck('fails', () => [broken('bad', 'try')], {
      each: async () => {
        throw Object.assign(new Error('no room'), { code: 'ENOSPC' });
      },
    }),
  ];
  const r = await runDoctor(data, { fix: true }, { space, checks });
  assert.deepEqual(applied, ['perm:a', 'perm:b', 'rebuild', 'rescan'], 'in finding order; the second "rebuild" is the same action and runs once');
  assert.deepEqual(
    r.fixed.map((f) => [f.check, f.action, f.ok, f.message]),
    [
      ['perm:a', 'chmod a', true, 'did chmod a'],
      ['perm:b', 'chmod b', true, 'did chmod b'],
      ['one', 'rebuild', true, 'rebuilt'],
      ['roots', 'rescan /x, /y', true, 'rescanned'],
      ['bad', 'try', false, 'ENOSPC: no room'],
    ],
  );
  assert.ok(
    r.checks.every((c) => c.status === 'ok'),
    'the report is of the inspection after the fixes',
  );
  assert.equal(r.checks[0]!.runbook, 'docs/operations/runbooks/doctor/perm.md', 'findings name their runbook');
});

test('the runner stops after a check that says nothing more can be checked, and offers no fix without --fix', async () => {
  const data = tmpDir('owlet-doctor-stop-');
  let ran = false;
  let fixed = false;
  const checks: DoctorCheck[] = [
    fakeCheck('first', (ctx) => {
      ctx.stop = true;
      return [{ id: 'first', name: 'First', status: 'failed', message: 'nothing here', fix: 'make it' }];
    }, { each: async () => ((fixed = true), 'made') }),
    fakeCheck('second', () => ((ran = true), [])),
  ];
  const r = await runDoctor(data, { fix: false }, { space, checks });
  assert.equal(ran, false);
  assert.equal(fixed, false);
  assert.deepEqual(
    r.checks.map((c) => c.id),
    ['first'],
  );
  assert.equal(r.status, 'failed');
  assert.deepEqual(r.service, { running: false });
});
