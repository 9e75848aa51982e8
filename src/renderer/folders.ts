import { api, bridge, post, SignedOut, type RootsView } from './api.js';
import { $, button, el, pathText, say } from './dom.js';
import { shortenMiddle } from './format.js';

/**
 * Folders and exclusions: the first-run welcome (no folder yet) and the Folders card. In the app
 * "Add a folder…" opens the native picker (window.owlet.pickFolder); in a browser a path field
 * that the service validates (it says why a folder is refused).
 */

let onChange: () => void = () => {};
let onSignedOut: (e: unknown) => void = () => {};

export function initFolders(changed: () => void, signedOut: (e: unknown) => void): void {
  onChange = changed;
  onSignedOut = signedOut;
  const app = bridge();
  for (const form of ['welcome-form', 'folder-form'] as const) {
    const f = $<HTMLFormElement>(form);
    const field = f.querySelector<HTMLInputElement>('input')!;
    const status = $(form === 'welcome-form' ? 'welcome-status' : 'folders-status');
    if (app) {
      // The native picker replaces the path field.
      f.hidden = true;
      const pick = button('Add a folder…', async () => {
        const chosen = await app.pickFolder().catch((e: unknown) => say(status, `The folder picker failed: ${(e as Error).message}`, 'error'));
        if (typeof chosen === 'string' && chosen) await addFolder(chosen, status);
      }, { class: 'primary', id: `${form}-pick` });
      f.after(pick);
    }
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void addFolder(field.value, status).then((ok) => {
        if (ok) field.value = '';
      });
    });
  }
  $('exclude-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const field = $<HTMLInputElement>('exclude-input');
    void change(() => post<RootsView>('/api/v1/exclusions', { pattern: field.value }), $('folders-status'), `Excluded "${field.value}".`).then((ok) => {
      if (ok) field.value = '';
    });
  });
}

async function change(call: () => Promise<RootsView>, status: HTMLElement, done: string): Promise<boolean> {
  try {
    render(await call());
    say(status, done);
    onChange();
    return true;
  } catch (e) {
    if (e instanceof SignedOut) onSignedOut(e);
    else say(status, (e as Error).message, 'error');
    return false;
  }
}

async function addFolder(p: string, status: HTMLElement): Promise<boolean> {
  say(status, `Adding ${p}…`);
  return change(() => post<RootsView & { added: string; excluded: string | null }>('/api/v1/roots', { path: p }), status, `Added ${p}; indexing starts now.`);
}

export async function refreshFolders(): Promise<RootsView> {
  const v = await api<RootsView>('/api/v1/roots');
  render(v);
  return v;
}

let shown = '';

function render(v: RootsView): void {
  // Unchanged lists are left alone, so a periodic refresh never takes the focus from a button.
  const key = JSON.stringify(v);
  if (key === shown) return;
  shown = key;
  const first = v.roots.length === 0;
  $('welcome').hidden = !first;
  $('suggestions').replaceChildren(
    ...v.suggestions.map((s) =>
      el('li', {}, button(`Add ${s.name}`, async () => void (await addFolder(s.path, $('welcome-status'))), { 'aria-label': `Add ${s.name} (${s.path})`, class: 'primary' }), ' ', pathText(s.path, shortenMiddle(s.path, 60))),
    ),
  );
  $('folder-list').replaceChildren(
    ...(v.roots.length
      ? v.roots.map((r) =>
          el('li', {}, pathText(r, shortenMiddle(r, 56)), button('Remove', async () => void (await change(() => post<RootsView>('/api/v1/roots/remove', { path: r }), $('folders-status'), `Stopped indexing ${r}.`)), { class: 'small', 'aria-label': `Remove ${r}` })),
        )
      : [el('li', { class: 'muted' }, 'No folders yet.')]),
  );
  $('exclude-list').replaceChildren(
    ...v.exclude.map((x) => el('li', {}, el('code', {}, x), button('Remove', async () => void (await change(() => post<RootsView>('/api/v1/exclusions/remove', { pattern: x }), $('folders-status'), `"${x}" is indexed again.`)), { class: 'small', 'aria-label': `Remove the exclusion ${x}` }))),
  );
}
