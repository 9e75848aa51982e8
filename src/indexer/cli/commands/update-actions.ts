import { fileURLToPath } from 'node:url';
import { owletError } from '../../../shared/errors.js';
import { loadConfig } from '../../config/load.js';
import { resolveDataDir } from '../../config/paths.js';
import { applyThroughSupervisor, callUpdateControl } from '../../update/control.js';
import { HeadlessUpdater, type ApplyResult, type UpdateStatus } from '../../update/headless.js';
import { currentVersion, detectInstallation, entryOf, type Installation } from '../../update/layout.js';
import { defaultPolicyFile, effectiveSettings, readPolicy, type EffectiveUpdateSettings } from '../../update/policy.js';
import { REFUSAL_HELP, isRefusal } from '../../update/refusal.js';
import { nullLogger } from '../../log/logger.js';
import { noAudit } from '../../audit/types.js';
import { SCHEMA_VERSION } from '../../store/migrations.js';
import { readServiceInfo } from '../../service/service-file.js';
import type { CommandIo as UpdateIo } from '../io.js';

/** This process's own launcher: its real path says whether Owlet runs from an installation prefix. */
const OWN_BIN = fileURLToPath(new URL('../../../../bin/owlet.js', import.meta.url));


export function updateSettingsFor(dataDir: string): EffectiveUpdateSettings {
  return effectiveSettings(loadConfig(dataDir).updates, readPolicy(defaultPolicyFile()));
}

function installation(): Installation {
  const inst = detectInstallation(OWN_BIN);
  if (!inst) {
    throw owletError('OWL_ERR_UPDATE_REFUSED', { reason: `updates are off: this Owlet runs from a source checkout (${OWN_BIN}), not from PREFIX/versions/<version>/; install a release (see README, "Updates") to get updates` }, { detail: { reason: 'not-installed' } });
  }
  return inst;
}

/** `check` and `status` need no running service: a read-only updater over the install prefix. */
function readOnlyUpdater(inst: Installation, settings: EffectiveUpdateSettings): HeadlessUpdater {
  const version = currentVersion(inst.layout) ?? inst.version;
  const refuse = async (): Promise<never> => {
    throw owletError('OWL_ERR_SUPERVISOR_NOT_RUNNING', { reason: 'apply and rollback go through it' });
  };
  return new HeadlessUpdater({
    installation: inst,
    host: { entry: { modulePath: entryOf(inst.layout, version), version }, setEntry: () => undefined, restart: refuse, onDidCrash: () => ({ dispose: () => undefined }) },
    settings: () => settings,
    backup: refuse,
    restore: refuse,
    schemaVersion: SCHEMA_VERSION,
    log: nullLogger,
    audit: noAudit,
  });
}

function describe(r: ApplyResult): string {
  switch (r.outcome) {
    case 'installed':
      return `installed ${r.to} (was ${r.from}); downtime ${r.downtimeMs ?? '?'} ms; pre-update backup ${r.backupId ?? '-'}`;
    case 'rolled-back':
      return `rolled back: ${r.message ?? ''}${r.downtimeMs !== undefined ? ` (downtime ${r.downtimeMs} ms)` : ''}`;
    case 'refused':
      return `refused${r.reason ? ` (${r.reason})` : ''}: ${r.message ?? ''}${r.reason && r.reason in REFUSAL_HELP ? `\n  what it means: ${REFUSAL_HELP[r.reason as keyof typeof REFUSAL_HELP]}` : ''}\n  nothing was changed.`;
    case 'up-to-date':
      return `up to date (${r.from})`;
    case 'staged-out':
      return `${r.to} is being rolled out gradually and not offered to this machine yet`;
    case 'handed-over':
      return `${r.to} took over from ${r.from}: ${r.message ?? ''}`;
  }
}

/** `owlet update check`: fetch and verify the feed manifest. */
export async function checkForUpdate(o: { dataDir?: string; feed?: string; json?: boolean }, io: UpdateIo, setCode: (c: number) => void): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  const settings = updateSettingsFor(dataDir);
  try {
    const c = await readOnlyUpdater(installation(), settings).check(o.feed);
    const out = { status: c.status, version: c.version, keyId: c.manifest.keyId, ...(c.status === 'available' ? { url: c.url, size: c.artifact.size } : {}) };
    io.out(o.json ? JSON.stringify(out) : c.status === 'available' ? `update available: ${c.version} (${c.artifact.size} bytes, signed by ${c.manifest.keyId})` : c.status === 'up-to-date' ? `up to date (${c.version})` : `${c.version} is rolling out gradually; not offered to this machine yet`);
  } catch (e) {
    if (!isRefusal(e)) throw e;
    io.out(o.json ? JSON.stringify({ status: 'refused', reason: e.reason, message: e.message }) : `${e.message}\n  what it means: ${REFUSAL_HELP[e.reason]}`);
    setCode(1);
  }
}

/** `owlet update status`: from the running supervisor, else read from the install prefix. */
export async function updateStatus(o: { dataDir?: string; json?: boolean }, io: UpdateIo): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  let s: UpdateStatus;
  try {
    s = await callUpdateControl<UpdateStatus>(dataDir, 'GET', '/status');
  } catch {
    s = readOnlyUpdater(installation(), updateSettingsFor(dataDir)).status();
  }
  if (o.json) return io.out(JSON.stringify(s));
  io.out(`prefix     ${s.prefix}`);
  io.out(`running    ${s.running}   current -> ${s.current ?? '(none)'}`);
  io.out(`supervisor ${s.supervisor ? `${s.supervisor.version} (pid ${s.supervisor.pid})` : 'not running'}`);
  io.out(`kept       ${s.versions.join(', ') || '(none)'}`);
  io.out(`feed       ${s.settings.disabled ? `off (${s.settings.disabledBy ?? ''})` : `${s.settings.feedUrl} [${s.settings.channel}]`}${s.settings.pinnedVersion ? `, pinned to ${s.settings.pinnedVersion}` : ''}`);
  io.out(`highest    ${s.highestInstalled ?? '-'}`);
  if (s.bad.length) io.out(`bad        ${s.bad.map((b) => `${b.version} (${b.reason})`).join('; ')}`);
  if (s.lastCheck) io.out(`last check ${s.lastCheck.at}: ${s.lastCheck.result}`);
  if (s.lastResult) io.out(`last       ${JSON.stringify(s.lastResult)}`);
  if (s.pending) io.out(`pending    ${s.pending.version} (${s.pending.phase})`);
}

/** `owlet update apply | rollback`: through the running `owlet run` supervisor. */
export async function applyOrRollback(name: 'apply' | 'rollback', route: string, o: { dataDir?: string; feed?: string; json?: boolean }, io: UpdateIo, setCode: (c: number) => void): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  installation();
  const body = o.feed ? { feed: o.feed } : {};
  // The gate may run in the new version's supervisor: follow it until the outcome is known.
  const gate = updateSettingsFor(dataDir).healthGate;
  const supervisorPid = readServiceInfo(dataDir)?.supervisorPid;
  const r = name === 'apply' ? await applyThroughSupervisor(dataDir, body, { followMs: (gate.readySeconds + gate.stableSeconds + 120) * 1000, ...(supervisorPid !== undefined ? { supervisorPid } : {}) }) : await callUpdateControl<ApplyResult>(dataDir, 'POST', route, body);
  io.out(o.json ? JSON.stringify(r) : describe(r));
  // Handed over and not finished (Owlet stopped, or the gate still runs): not installed yet either.
  if (r.outcome === 'refused' || (name === 'apply' && (r.outcome === 'rolled-back' || r.outcome === 'handed-over'))) setCode(1);
}
