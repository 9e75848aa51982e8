import { api, post, SignedOut, type ProblemFile, type ProblemGroup } from './api.js';
import { $, button, el, pathText, say } from './dom.js';
import { shortenMiddle } from './format.js';

/**
 * Files not searchable, grouped by reason with counts, what the reason means and what to do; each
 * group opens to its files with "Try again". Quarantined files (workers crashed on them) are one
 * of the groups, listed first among failures by the service.
 */

const FILES_PER_GROUP = 50;
let onSignedOut: (e: unknown) => void = () => {};
/** Groups the person opened stay open across refreshes. */
const open = new Set<string>();
let lastKey = '';

export function initProblems(signedOut: (e: unknown) => void): void {
  onSignedOut = signedOut;
}

export async function refreshProblems(): Promise<void> {
  const r = await api<{ groups: ProblemGroup[] }>('/api/v1/problems?limit=1');
  const key = JSON.stringify(r.groups);
  if (key === lastKey) return;
  lastKey = key;
  const box = $('problem-groups');
  if (r.groups.length === 0) return void box.replaceChildren(el('p', { class: 'muted' }, 'Every file found is searchable.'));
  box.replaceChildren(...r.groups.map(group));
  for (const g of r.groups) if (open.has(g.reason)) void loadFiles(g.reason);
}

function group(g: ProblemGroup): HTMLElement {
  const id = `problem-${g.reason}`;
  const d = el(
    'details',
    { id, 'data-reason': g.reason, 'data-status': g.status },
    el('summary', {}, el('span', { class: `badge ${g.status === 'failed' ? 'failed' : 'muted-badge'}` }, g.status), ' ', el('strong', {}, g.reason === 'quarantined' ? 'Quarantine' : g.meaning), ` (${g.count.toLocaleString('en')})`),
    el('p', { class: 'remedy' }, g.reason === 'quarantined' ? `${g.meaning}. ${g.remedy}` : g.remedy),
    el('ul', { class: 'files plain' }),
  );
  if (open.has(g.reason)) d.open = true;
  d.addEventListener('toggle', () => {
    if (d.open) {
      open.add(g.reason);
      void loadFiles(g.reason);
    } else open.delete(g.reason);
  });
  return d;
}

async function loadFiles(reason: string): Promise<void> {
  const list = document.querySelector<HTMLElement>(`#problem-${CSS.escape(reason)} .files`);
  if (!list) return;
  try {
    const r = await api<{ files: ProblemFile[] }>(`/api/v1/problems?reason=${encodeURIComponent(reason)}&limit=${FILES_PER_GROUP}`);
    list.replaceChildren(
      ...r.files.map((f) =>
        el(
          'li',
          { 'data-path': f.path },
          pathText(f.path, shortenMiddle(f.path, 52)),
          el('span', { class: 'msg' }, f.message),
          button('Try again', async () => retry(f.path), { class: 'small', 'aria-label': `Try again: ${f.path}` }),
        ),
      ),
    );
  } catch (e) {
    if (e instanceof SignedOut) onSignedOut(e);
    else list.replaceChildren(el('li', { role: 'alert' }, (e as Error).message));
  }
}

async function retry(p: string): Promise<void> {
  try {
    await post('/api/v1/problems/retry', { paths: [p] });
    say($('problems-status'), `Trying ${p} again; the list updates when it is done.`);
    lastKey = '';
  } catch (e) {
    if (e instanceof SignedOut) onSignedOut(e);
    else say($('problems-status'), (e as Error).message, 'error');
  }
}
