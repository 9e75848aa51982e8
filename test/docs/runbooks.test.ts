import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { alertRunbook, checkRunbook } from '../../src/shared/runbooks.js';
import { DEFAULT_ALERT_RULES } from '../../src/indexer/config/monitoring-settings.js';
import type { BackupAlert } from '../../src/indexer/backup/create.js';
import type { GuardianAlert } from '../../src/indexer/recovery/plan.js';
import type { HeadlessUpdaterDeps } from '../../src/indexer/update/headless.js';

const root = path.resolve(import.meta.dirname, '../..');
const SECTIONS = ['## What it means', '## How to confirm', '## How to fix', '## When to escalate'];

type EventAlertId = BackupAlert['id'] | GuardianAlert['id'] | Parameters<NonNullable<HeadlessUpdaterDeps['onAlert']>>[0]['id'];
/**
 * Every event alert id, checked by the compiler both ways: a new id in BackupAlert, GuardianAlert
 * or the updater without an entry here fails the typecheck, and so does an entry for an id that
 * no longer exists.
 */
const EVENT_ALERTS: Record<EventAlertId, true> = {
  'backup-skipped-no-space': true,
  'backup-failed': true,
  'backup-verification-failed': true,
  'backup-budget': true,
  'index-corrupt': true,
  'index-recovered': true,
  'index-rebuilding': true,
  'index-recovery-failed': true,
  'update-rolled-back': true,
};

function assertRunbook(rel: string, what: string): void {
  const file = path.join(root, rel);
  assert.ok(fs.existsSync(file), `${what} has no runbook: write ${rel}`);
  const text = fs.readFileSync(file, 'utf8');
  for (const s of SECTIONS) assert.ok(text.includes(s), `${rel} lacks "${s}"`);
  const confirm = text.slice(text.indexOf('## How to confirm'), text.indexOf('## How to fix'));
  const command = /\b(owlet|ls|df|cat|dmesg|journalctl|curl)\b/;
  const quoted = [...confirm.matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map((m) => m[1] ?? m[2] ?? '');
  assert.ok(quoted.some((q) => command.test(q)), `${rel}: "How to confirm" names the command to run`);
}

test('every default alert rule has a runbook with what it means, how to confirm, fix and escalate', () => {
  assert.ok(DEFAULT_ALERT_RULES.length >= 10);
  for (const r of DEFAULT_ALERT_RULES) assertRunbook(alertRunbook(r.id), `alert rule ${r.id}`);
});

test('every event alert (backups, recovery, updates) has a runbook', () => {
  for (const id of Object.keys(EVENT_ALERTS)) assertRunbook(alertRunbook(id), `event alert ${id}`);
});

const DOCTOR_CHECKS_DIR = 'src/indexer/health/doctor/checks';

/**
 * Finding ids as the health and doctor code writes them: `id: 'disk'` and `id: \`root:${…}\``.
 * In the doctor's check modules a finding is `id: …, name: …`; the check itself (`id: …, inspect`)
 * names a check, not a finding, and needs no runbook of its own.
 */
function findingIdsInSource(): Set<string> {
  const ids = new Set<string>();
  for (const f of ['src/indexer/health/checks.ts', 'src/indexer/metrics/monitoring.ts']) {
    const src = fs.readFileSync(path.join(root, f), 'utf8');
    for (const m of src.matchAll(/\bid: '([a-z][a-z-]*)'/g)) ids.add(m[1]!);
    for (const m of src.matchAll(/\bid: `([a-z][a-z-]*):\$\{/g)) ids.add(m[1]!);
  }
  const doctor = fs.readdirSync(path.join(root, DOCTOR_CHECKS_DIR)).filter((f) => f.endsWith('.ts'));
  assert.ok(doctor.length >= 10, `the scan sees the doctor's check modules in ${DOCTOR_CHECKS_DIR}`);
  for (const f of doctor) {
    const src = fs.readFileSync(path.join(root, DOCTOR_CHECKS_DIR, f), 'utf8');
    for (const m of src.matchAll(/\bid: '([a-z][a-z-]*)',\s*name:/g)) ids.add(m[1]!);
    for (const m of src.matchAll(/\bid: `([a-z][a-z-]*):\$\{[^}]*\}`,\s*name:/g)) ids.add(m[1]!);
    for (const m of src.matchAll(/\bid: rel \? `([a-z][a-z-]*):\$\{/g)) ids.add(m[1]!);
  }
  return ids;
}

test('every health check and doctor finding id has a runbook (ids with a folder or kind share one by prefix)', () => {
  const ids = findingIdsInSource();
  for (const known of ['database', 'disk', 'fts', 'root', 'breaker', 'audit', 'updates', 'datadir', 'config', 'service', 'keys', 'metrics']) assert.ok(ids.has(known), `the source scan sees "${known}" (guards against a vacuous pass)`);
  for (const id of ids) assertRunbook(checkRunbook(id), `finding ${id}`);
  assert.equal(checkRunbook('root:/home/me/Documents'), checkRunbook('root'));
  assert.equal(checkRunbook('breaker:pdf'), 'docs/operations/runbooks/doctor/breaker.md');
});

test('no runbook is orphaned: each page belongs to a rule, an event alert or a finding', () => {
  const alerts = new Set([...DEFAULT_ALERT_RULES.map((r) => r.id), ...Object.keys(EVENT_ALERTS)]);
  for (const f of fs.readdirSync(path.join(root, 'docs/operations/runbooks/alerts'))) assert.ok(alerts.has(f.replace(/\.md$/, '')), `alerts/${f} names no alert`);
  const findings = findingIdsInSource();
  for (const f of fs.readdirSync(path.join(root, 'docs/operations/runbooks/doctor'))) assert.ok(findings.has(f.replace(/\.md$/, '')), `doctor/${f} names no finding`);
});
