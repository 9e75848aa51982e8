import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import type { UpdateCardView, UpdateHistoryEntry } from '../../shared/api.js';
import { AUDIT_DIR, listAuditFiles } from '../audit/log.js';
import { owletError } from '../../shared/errors.js';
import type { UpdateCardApi } from '../http/routes/updates.js';
import type { Logger } from '../log/logger.js';
import { callUpdateControl, controlSocketPath } from '../update/control.js';
import { detectInstallation, installedVersions } from '../update/layout.js';
import type { EffectiveUpdateSettings } from '../update/policy.js';
import { readState } from '../update/state.js';
import { VERSION } from '../version.js';

const HISTORY_EVENTS = new Map<string, UpdateHistoryEntry['outcome']>([
  ['update.installed', 'installed'],
  ['update.rolled-back', 'rolled-back'],
  ['update.refused', 'refused'],
]);
const HISTORY_MAX = 20;

/**
 * The update history from the audit trail (`update.installed`, `update.rolled-back`,
 * `update.refused`, each with its time and reason), newest first. Read-only and tolerant: the
 * trail's integrity is `owlet audit verify`'s job; a line being written is skipped.
 */
export function updateHistory(dataDir: string, max = HISTORY_MAX): UpdateHistoryEntry[] {
  const dir = path.join(dataDir, AUDIT_DIR);
  const out: UpdateHistoryEntry[] = [];
  for (const name of listAuditFiles(dir).reverse()) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0 && out.length < max; i--) {
      const line = lines[i]!;
      if (!line.includes('"update.')) continue;
      let e: { ts?: unknown; event?: unknown; fields?: Record<string, unknown> };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        continue;
      }
      const outcome = typeof e.event === 'string' ? HISTORY_EVENTS.get(e.event) : undefined;
      if (!outcome || typeof e.ts !== 'string') continue;
      const f = e.fields ?? {};
      const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
      out.push({ at: e.ts, outcome, from: str(f.from), to: str(f.to), reason: str(f.reason), message: str(f.message) });
    }
    if (out.length >= max) break;
  }
  return out;
}

export interface ServiceUpdateViewDeps {
  dataDir: string;
  /** The real path of the running `bin/owlet.js` (decides whether this is an installation). */
  binFile: string;
  settings: () => EffectiveUpdateSettings;
  platform?: NodeJS.Platform;
}

/** The Updates card for a headless service (GET /api/v1/update): what `owlet run`'s supervisor can do. */
export function serviceUpdateView(d: ServiceUpdateViewDeps): UpdateCardView {
  let settings: EffectiveUpdateSettings | null = null;
  let problem: string | null = null;
  try {
    settings = d.settings();
  } catch (e) {
    problem = `the update settings cannot be read: ${(e as Error).message}`;
  }
  const base: UpdateCardView = {
    host: 'service',
    running: VERSION,
    off: null,
    channel: settings?.channel ?? 'latest',
    available: null,
    lastCheck: null,
    progress: null,
    readyToRestart: false,
    previous: null,
    problem,
    history: updateHistory(d.dataDir),
    bad: [],
  };
  const inst = detectInstallation(d.binFile);
  if (!inst) {
    const from = path.dirname(path.dirname(d.binFile));
    return { ...base, off: { kind: 'not-installed', message: `This Owlet runs from ${from}, not from an installation (PREFIX/versions/<version>/), so it cannot replace itself. Install a release to get updates.` } };
  }
  const view: UpdateCardView = { ...base, running: inst.version };
  try {
    const s = readState(inst.layout.prefix);
    view.bad = s.bad;
    view.lastCheck = s.lastCheck;
    const m = /^available (\S+)$/.exec(s.lastCheck?.result ?? '');
    if (m && m[1] !== inst.version && !s.bad.some((b) => b.version === m[1])) view.available = m[1]!;
    if (s.pending) view.progress = { version: s.pending.version, phase: s.pending.phase, percent: null };
  } catch (e) {
    view.problem = (e as Error).message;
  }
  view.previous = installedVersions(inst.layout).find((v) => v !== inst.version && semver.valid(v) !== null && semver.lt(v, inst.version)) ?? null;
  if (settings?.disabled) {
    const by = settings.disabledBy ?? 'policy';
    view.off = by.startsWith('no feed')
      ? { kind: 'no-feed', message: 'No update feed is configured (updates.feedUrl), so Owlet cannot look for updates.' }
      : { kind: 'policy', message: `Updates are turned off by the machine policy: ${by.replace(/^policy /, '')}.` };
  } else if ((d.platform ?? process.platform) !== 'win32' && !fs.existsSync(controlSocketPath(d.dataDir))) {
    view.off = { kind: 'no-supervisor', message: 'Updates are applied by the "owlet run" supervisor, and this service was started without one (owlet serve). Start Owlet with PREFIX/current/bin/owlet.js run.' };
  }
  return view;
}

/**
 * The card's actions for a headless service: asks the `owlet run` supervisor over its control
 * socket (update/control.ts). An apply or rollback restarts this very service, so it is started
 * and not awaited; the card follows it through the view (pending phase, then the history).
 */
export function serviceUpdateCard(d: ServiceUpdateViewDeps & { log: Logger; call?: typeof callUpdateControl }): UpdateCardApi {
  const call = d.call ?? callUpdateControl;
  return {
    view: () => serviceUpdateView(d),
    check: async () => {
      try {
        await call(d.dataDir, 'POST', '/check');
      } catch (e) {
        // A refused check (bad signature, expired manifest…) is recorded in lastCheck; say it as the card's problem.
        throw owletError('OWL_ERR_UPDATE_REFUSED', { reason: (e as Error).message });
      }
    },
    start: async (action) => {
      // Fail now, with the reason, when there is no supervisor to ask.
      await call(d.dataDir, 'GET', '/status');
      void call(d.dataDir, 'POST', `/${action}`).then(
        (r) => d.log.info(`update ${action} finished`, { outcome: (r as { outcome?: string }).outcome ?? 'unknown' }),
        (e: unknown) => d.log.warn(`update ${action} failed`, { error: e }),
      );
    },
  };
}
