import { api, post, SignedOut, type BackupListing, type BackupSummary } from './api.js';
import { $, button, el, say } from './dom.js';
import { fmtBytes } from './format.js';

/**
 * The Backups card: every backup with whether it is verified and its size, the next scheduled
 * time, Back up now, Verify, and Restore after a confirmation that says what happens to the index.
 */

let onSignedOut: (e: unknown) => void = () => {};
let onChange: () => void = () => {};
let pending: BackupSummary | null = null;

const when = (iso: string) => new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' });

export function initBackups(signedOut: (e: unknown) => void, changed: () => void): void {
  onSignedOut = signedOut;
  onChange = changed;
  $('backup-now').addEventListener('click', () => void act($<HTMLButtonElement>('backup-now'), 'Backing up…', async () => {
    const r = await post<{ status: string; manifest?: { documentCount: number } }>('/api/v1/backups', { reason: 'manual' });
    return r.status === 'created' ? `Backup taken and verified (${(r.manifest?.documentCount ?? 0).toLocaleString('en')} documents).` : `Backup: ${r.status}.`;
  }));
  $('backup-verify').addEventListener('click', () => void act($<HTMLButtonElement>('backup-verify'), 'Verifying every backup…', async () => {
    const r = await post<{ results: { id: string; verification: { ok: boolean } }[] }>('/api/v1/backups/verify');
    const bad = r.results.filter((x) => !x.verification.ok).length;
    return bad ? `${bad} of ${r.results.length} backups failed verification.` : `All ${r.results.length} backups verified.`;
  }));
  const dialog = $<HTMLDialogElement>('restore-dialog');
  $('restore-cancel').addEventListener('click', () => dialog.close());
  $('restore-confirm').addEventListener('click', () => {
    dialog.close();
    const b = pending;
    if (b)
      void act(null, 'Restoring… search answers again in a moment.', async () => {
        const r = await post<{ documents: number; setAside: string | null }>(`/api/v1/backups/${encodeURIComponent(b.id)}/restore`);
        return `Restored the backup of ${when(b.createdAt)} (${r.documents.toLocaleString('en')} documents).${r.setAside ? ` The previous index was kept at ${r.setAside}.` : ''} Changes since then are being indexed again.`;
      });
  });
}

async function act(btn: HTMLButtonElement | null, busy: string, run: () => Promise<string>): Promise<void> {
  const status = $('backups-status');
  if (btn) btn.disabled = true;
  say(status, busy);
  try {
    say(status, await run());
    await refreshBackups();
    // The health checks and counts say what the backup or restore changed.
    onChange();
  } catch (e) {
    if (e instanceof SignedOut) onSignedOut(e);
    else say(status, (e as Error).message, 'error');
  } finally {
    if (btn) {
      btn.disabled = false;
      if (document.activeElement === document.body || document.activeElement === null) btn.focus();
    }
  }
}

export async function refreshBackups(): Promise<void> {
  let l: BackupListing;
  try {
    l = await api<BackupListing>('/api/v1/backups');
  } catch (e) {
    if (e instanceof SignedOut) throw e;
    $('backup-next').textContent = `Backups are unavailable: ${(e as Error).message}`;
    return;
  }
  $('backup-next').textContent = l.nextScheduledAt ? `Next scheduled backup: ${when(l.nextScheduledAt)}` : 'No backup is scheduled (backups are off in the settings).';
  $('backup-storage').textContent = `${fmtBytes(l.storage.usedBytes)} used of ${fmtBytes(l.storage.budgetBytes)} allowed`;
  const rows = [...l.backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  $('backup-list').replaceChildren(
    ...(rows.length
      ? rows.map((b) =>
          el(
            'li',
            { 'data-backup': b.id },
            el('div', { class: 'backup-head' }, el('strong', {}, when(b.createdAt)), ' ', b.verified ? el('span', { class: 'badge ok' }, 'verified') : b.verification && !b.verification.ok ? el('span', { class: 'badge failed', title: b.verification.message ?? '' }, 'failed') : el('span', { class: 'badge muted-badge' }, 'not verified')),
            el('div', { class: 'muted small-text' }, `${b.documentCount.toLocaleString('en')} documents · ${fmtBytes(b.size)} · ${b.kind}, ${b.reason}`),
            el(
              'div',
              { class: 'actions' },
              button('Verify', async () => act(null, `Verifying ${when(b.createdAt)}…`, async () => {
                const r = await post<{ results: { verification: { ok: boolean; message: string | null } }[] }>(`/api/v1/backups/${encodeURIComponent(b.id)}/verify`);
                const v = r.results[0]?.verification;
                return v?.ok ? `The backup of ${when(b.createdAt)} is verified.` : `The backup of ${when(b.createdAt)} failed verification: ${v?.message ?? 'unknown'}`;
              }), { class: 'small', 'aria-label': `Verify the backup of ${when(b.createdAt)}` }),
              button('Restore…', () => confirmRestore(b), { class: 'small', 'aria-label': `Restore the backup of ${when(b.createdAt)}` }),
            ),
          ),
        )
      : [el('li', { class: 'muted' }, 'No backups yet.')]),
  );
}

function confirmRestore(b: BackupSummary): void {
  pending = b;
  $('restore-text').textContent =
    `The current index will be replaced by the backup of ${when(b.createdAt)} (${b.documentCount.toLocaleString('en')} documents). ` +
    'The current index is not deleted: it is set aside in the data folder. Search is unavailable for a moment, ' +
    'then files added or changed since the backup are indexed again from your folders.';
  $<HTMLDialogElement>('restore-dialog').showModal();
  $('restore-cancel').focus();
}
