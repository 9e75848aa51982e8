import { api, ApiError, post, SignedOut, type UpdateCardView, type UpdateHistoryEntry, type UpdatesBridge } from './api.js';
import { $, button, el, say } from './dom.js';

/**
 * The Updates card: the running version, what is available, download progress, "Restart to
 * update", the history (installed / rolled back / refused, with reasons and dates) and "Roll back"
 * to the kept previous version after a confirmation. In the app it talks to main's updater through
 * the preload (`window.owlet.updates`, which pushes progress); in a browser to the HTTP API, where
 * `owlet run`'s supervisor applies updates. Updates that cannot run here say why; policy-disabled
 * ones show as locked with the reason.
 */

interface Source {
  kind: 'app' | 'service';
  state(): Promise<UpdateCardView>;
  check(): Promise<UpdateCardView>;
  /** App only: download the verified update (progress arrives through onState). */
  download?(): Promise<UpdateCardView>;
  /** App: restart to update; service: download, verify, install and restart the service. */
  install(): Promise<string>;
  rollback(): Promise<string>;
}

function appSource(b: UpdatesBridge): Source {
  return {
    kind: 'app',
    state: () => b.state(),
    check: () => b.check(),
    download: () => b.download(),
    install: async () => {
      const v = await b.restart();
      if (v.problem) throw new Error(v.problem);
      return 'Owlet restarts now to finish the update.';
    },
    rollback: async () => {
      const v = await b.rollback();
      if (v.problem) throw new Error(v.problem);
      return 'Owlet restarts now on the previous version.';
    },
  };
}

const httpSource: Source = {
  kind: 'service',
  state: () => api<UpdateCardView>('/api/v1/update'),
  check: () => post<UpdateCardView>('/api/v1/update/check'),
  install: async () => {
    const r = await post<{ version: string }>('/api/v1/update/apply');
    return `Installing Owlet ${r.version}: the service restarts and must pass its health check, or it is rolled back by itself.`;
  },
  rollback: async () => {
    const r = await post<{ version: string }>('/api/v1/update/rollback');
    return `Rolling back to Owlet ${r.version}: the service restarts in a moment.`;
  },
};

let source: Source = httpSource;
let onSignedOut: (e: unknown) => void = () => {};

const when = (iso: string) => new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' });

export function initUpdates(signedOut: (e: unknown) => void, bridge: UpdatesBridge | null): void {
  onSignedOut = signedOut;
  if (bridge) {
    source = appSource(bridge);
    bridge.onState((v) => render(v));
  }
  const dialog = $<HTMLDialogElement>('rollback-dialog');
  $('rollback-cancel').addEventListener('click', () => dialog.close());
  $('rollback-confirm').addEventListener('click', () => {
    dialog.close();
    void act(null, 'Rolling back…', () => source.rollback());
  });
}

async function act(btn: HTMLButtonElement | null, busy: string, run: () => Promise<string | UpdateCardView>): Promise<void> {
  const status = $('update-status');
  say(status, busy);
  try {
    const r = await run();
    if (typeof r === 'string') say(status, r);
    else {
      render(r);
      say(status, r.problem ? r.problem : '', r.problem ? 'error' : 'ok');
    }
    await refreshUpdates();
  } catch (e) {
    if (e instanceof SignedOut) onSignedOut(e);
    else say(status, (e as Error).message, 'error');
  } finally {
    if (btn && btn.isConnected && (document.activeElement === document.body || document.activeElement === null)) btn.focus();
  }
}

export async function refreshUpdates(): Promise<void> {
  try {
    render(await source.state());
  } catch (e) {
    if (e instanceof SignedOut) throw e;
    // An older service without the route: say so instead of an empty card.
    $('update-version').textContent = e instanceof ApiError && e.status === 404 ? 'This service does not report updates.' : `Updates are unavailable: ${(e as Error).message}`;
  }
}

const PHASES: Record<string, string> = { downloading: 'downloading', unpacking: 'unpacking', switching: 'restarting on it', gating: 'checking its health', verifying: 'checking its health' };
const OUTCOME: Record<UpdateHistoryEntry['outcome'], { label: string; cls: string }> = {
  installed: { label: 'installed', cls: 'ok' },
  'rolled-back': { label: 'rolled back', cls: 'degraded' },
  refused: { label: 'refused', cls: 'failed' },
};

function historyText(h: UpdateHistoryEntry): string {
  const v = h.outcome === 'rolled-back' && h.reason === 'requested' ? `from ${h.from ?? '?'} to ${h.to ?? '?'}, as requested` : h.to ? `${h.to}${h.from ? ` (from ${h.from})` : ''}` : 'an update';
  const why = h.reason && h.reason !== 'requested' ? `: ${h.message ?? h.reason}` : h.message && h.outcome !== 'installed' && h.reason !== 'requested' ? `: ${h.message}` : '';
  return `${v}${why}`;
}

function render(v: UpdateCardView): void {
  const card = $('updates-card');
  card.dataset.host = v.host;
  card.dataset.off = v.off?.kind ?? '';
  $('update-version').textContent = `Owlet ${v.running} · channel ${v.channel}`;

  const off = $('update-off');
  off.hidden = !v.off;
  off.replaceChildren(...(v.off ? [el('strong', {}, v.off.kind === 'policy' ? 'Locked: ' : 'Updates are off: '), v.off.message] : []));
  off.className = v.off?.kind === 'policy' ? 'locked' : 'muted';

  const avail = $('update-available');
  // Updates off here: what a past check found cannot be installed, so it is not offered.
  if (v.off) avail.textContent = '';
  else if (v.progress) avail.textContent = `Updating to ${v.progress.version}: ${PHASES[v.progress.phase] ?? v.progress.phase}${v.progress.percent !== null ? ` (${v.progress.percent} %)` : ''}…`;
  else if (v.readyToRestart && v.available) avail.textContent = `Owlet ${v.available} is downloaded and verified: restart to update.`;
  else if (v.available) avail.textContent = `Owlet ${v.available} is available.`;
  else if (v.lastCheck) avail.textContent = `${/^refused|^error/.test(v.lastCheck.result) ? `The last check was refused (${v.lastCheck.result.replace(/^refused: /, '')})` : 'Up to date'}, checked ${when(v.lastCheck.at)}.`;
  else avail.textContent = 'Not checked yet.';

  const bar = $<HTMLProgressElement>('update-progress');
  bar.hidden = !v.progress;
  if (v.progress?.percent != null) bar.value = v.progress.percent;
  else bar.removeAttribute('value');
  bar.setAttribute('aria-label', v.progress ? `Update to ${v.progress.version}` : 'Update progress');

  const busy = !!v.progress;
  const buttons: HTMLButtonElement[] = [];
  if (!v.off) {
    buttons.push(button('Check for updates', (b) => act(b, 'Checking…', () => source.check()), { id: 'update-check', ...(busy ? { disabled: '' } : {}) }));
    if (v.available && !busy) {
      if (source.kind === 'app' && !v.readyToRestart) buttons.push(button(`Download ${v.available}`, (b) => act(b, `Downloading ${v.available}…`, () => source.download!()), { id: 'update-download', class: 'primary' }));
      else buttons.push(button(source.kind === 'app' ? 'Restart to update' : `Install ${v.available} and restart`, (b) => act(b, 'Installing…', () => source.install()), { id: 'update-install', class: 'primary' }));
    }
    if (v.previous && !busy) buttons.push(button(`Roll back to ${v.previous}…`, () => confirmRollback(v), { id: 'update-rollback' }));
  }
  $('update-actions').replaceChildren(...buttons);

  const list = $('update-history');
  const rows = [
    ...v.history.map((h) => ({ at: h.at, outcome: h.outcome, text: historyText(h) })),
    // A version marked bad whose rollback predates the trail still shows, with its reason.
    ...v.bad.filter((b) => !v.history.some((h) => h.to === b.version && h.outcome === 'rolled-back')).map((b) => ({ at: b.at, outcome: 'rolled-back' as const, text: `${b.version}: ${b.reason}` })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  list.replaceChildren(
    ...(rows.length
      ? rows.map((r) => el('li', { 'data-outcome': r.outcome }, el('span', { class: `badge ${OUTCOME[r.outcome].cls}` }, OUTCOME[r.outcome].label), ' ', el('span', { class: 'when' }, when(r.at)), el('div', { class: 'what' }, r.text)))
      : [el('li', { class: 'muted' }, 'No updates yet.')]),
  );
}

function confirmRollback(v: UpdateCardView): void {
  $('rollback-text').textContent =
    `Owlet ${v.running} will be replaced by ${v.previous}, the version kept from before the last update, and restart on it. ` +
    'Your index and settings stay; search is unavailable for a few seconds. ' +
    `${v.running} will not be installed automatically again; a newer release will be offered as usual.`;
  $<HTMLDialogElement>('rollback-dialog').showModal();
  $('rollback-cancel').focus();
}
