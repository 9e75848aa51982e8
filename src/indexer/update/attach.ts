import { postEventAlert } from '../alerts/inbox.js';
import { backupBeforeUpdate } from '../backup/update.js';
import { localAudit, restoreLocal } from '../backup/local.js';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { serveUpdateControl, type ControlServer } from './control.js';
import { HeadlessUpdater, type SupervisorMove, type UpdatableHost } from './headless.js';
import { currentVersion, detectInstallation } from './layout.js';
import { defaultPolicyFile, effectiveSettings, readPolicy } from './policy.js';
import { isRefusal } from './refusal.js';
import { nextCheckDelayMs } from '../config/update-settings.js';
import { holdAtStepFromEnv } from './test-hold.js';

export interface AttachedUpdater {
  updater: HeadlessUpdater | null;
  close(): Promise<void>;
}

/**
 * Gives `owlet run` its updates when it runs from an installation prefix: clears what a killed
 * update left, opens the supervisor's update API (`owlet update apply|rollback`), and checks the
 * feed every `checkHours` (jittered), applying when `autoApply` is on. From a source checkout it
 * says that updates are off and does nothing else.
 */
export async function attachHeadlessUpdates(o: {
  dataDir: string;
  ownBin: string;
  host: UpdatableHost;
  log: Logger;
  out: (line: string) => void;
  policyFile?: string;
  /** Called when `current` names another version than the code this supervisor runs (after an install or rollback): the supervisor moves to it. */
  onNewCurrent?: (version: string) => void;
  /** Under the installed launcher: how an update hands the service to the next version's supervisor. */
  move?: SupervisorMove;
  /** This supervisor was started by a move: when the previous one began stopping its service (epoch ms). */
  movedAt?: number;
}): Promise<AttachedUpdater> {
  const inst = detectInstallation(o.ownBin);
  const log = o.log.child('update');
  if (!inst) {
    log.info('updates off: running from a source checkout, not an installation prefix', { bin: o.ownBin });
    return { updater: null, close: async () => undefined };
  }
  const policyFile = o.policyFile ?? defaultPolicyFile();
  const settings = () => effectiveSettings(loadConfig(o.dataDir).updates, readPolicy(policyFile));
  const audit = localAudit(o.dataDir, log);
  const running = currentVersion(inst.layout) ?? inst.version;
  if (o.host.entry.version === undefined) o.host.setEntry({ ...o.host.entry, version: running });
  const hold = holdAtStepFromEnv();
  const updater = new HeadlessUpdater({
    installation: inst,
    host: o.host,
    settings,
    backup: async () => {
      const m = await backupBeforeUpdate({ dataDir: o.dataDir, log, audit, timeoutMs: 600_000 });
      return { id: m.id, schemaVersion: m.schemaVersion };
    },
    restore: async (id) => void (await restoreLocal(o.dataDir, id, log, audit)),
    schemaVersion: SCHEMA_VERSION,
    supervisorPid: process.pid,
    ...(o.move ? { move: o.move } : {}),
    log,
    audit,
    ...(hold ? { onStep: hold } : {}),
    onAlert: (a) => {
      log.warn('alert', { alert: a.id, severity: a.severity, message: a.message });
      o.out(`owlet: ALERT ${a.id}: ${a.message}`);
      // The service (dashboard, tray, webhook) hears of it through the data folder's alert inbox.
      try {
        postEventAlert(o.dataDir, a);
      } catch (e) {
        log.warn('alert inbox unwritable', { alert: a.id, error: e });
      }
    },
  });
  // After a handover (or a kill during one) this supervisor runs the update's health gate itself.
  const resumed = updater.recoverInterrupted(o.movedAt);
  if (resumed) void resumed.then((r) => o.out(`owlet: update ${r.outcome} ${r.to ?? ''}${r.message ? `: ${r.message}` : ''}`));
  let control: ControlServer | null = null;
  const afterChange = () => {
    const cur = currentVersion(inst.layout);
    if (cur !== null && cur !== inst.version && !updater.inProgress) o.onNewCurrent?.(cur);
  };
  try {
    control = await serveUpdateControl(o.dataDir, updater, afterChange);
  } catch (e) {
    log.warn('update API unavailable', { error: e });
  }
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    const delay = nextCheckDelayMs(settings().checkHours);
    if (delay === null) return;
    timer = setTimeout(() => void tick(), delay);
    timer.unref();
  };
  const tick = async () => {
    const st = settings();
    try {
      if (st.disabled) log.info('automatic update check skipped', { why: st.disabledBy });
      else if (st.autoApply) {
        const r = await updater.apply();
        if (r.outcome !== 'up-to-date' && r.outcome !== 'staged-out') o.out(`owlet: update ${r.outcome}${r.to ? ` ${r.to}` : ''}${r.message ? `: ${r.message}` : ''}`);
        afterChange();
      } else {
        const c = await updater.check();
        if (c.status === 'available') o.out(`owlet: update ${c.version} available (owlet update apply)`);
      }
    } catch (e) {
      log.warn('automatic update check failed', { refused: isRefusal(e) ? e.reason : null, error: e });
    }
    schedule();
  };
  schedule();
  log.info('updates on', { prefix: inst.layout.prefix, version: running });
  return {
    updater,
    close: async () => {
      if (timer) clearTimeout(timer);
      await control?.close();
    },
  };
}
