import { api, ApiError, bridge, bridgeError, SignedOut, type Hit, type Preview, type SearchResult } from './api.js';
import { $, button, el, pathText, say, snippetNodes } from './dom.js';
import { fmtBytes, pageRange, shortenMiddle, withFilters } from './format.js';

/**
 * The search card: as-you-type (debounced), type and date filters, the total and paging, keyboard
 * navigation (↓/↑ between results, Enter opens, Escape back to the box), and a preview pane in a
 * browser; in the app a result opens the file and "Show in folder" reveals it.
 */

const PAGE = 20;
const DEBOUNCE_MS = 250;

let page = 0;
let timer: number | undefined;
/** Answers to older requests are dropped: only the latest query's results are shown. */
let seq = 0;
let onSignedOut: (e: unknown) => void = () => {};

const input = () => $<HTMLInputElement>('search-input');

function query(): string {
  return withFilters(input().value, $<HTMLSelectElement>('filter-type').value, $<HTMLSelectElement>('filter-date').value);
}

export function initSearch(signedOut: (e: unknown) => void): void {
  onSignedOut = signedOut;
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(0);
  });
  input().addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => run(0), DEBOUNCE_MS);
  });
  for (const id of ['filter-type', 'filter-date']) $(id).addEventListener('change', () => run(0));
  input().addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') {
      const first = document.querySelector<HTMLElement>('#results .hit');
      if (first) {
        ev.preventDefault();
        focusHit(first);
      }
    }
  });
  $('results').addEventListener('keydown', (ev) => {
    const hits = [...document.querySelectorAll<HTMLElement>('#results .hit')];
    const at = hits.indexOf(document.activeElement as HTMLElement);
    if (at < 0) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = hits[at + (ev.key === 'ArrowDown' ? 1 : -1)];
      if (next) focusHit(next);
      else if (ev.key === 'ArrowUp') input().focus();
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      input().focus();
    }
  });
  $('page-prev').addEventListener('click', () => run(page - 1, 'page-prev'));
  $('page-next').addEventListener('click', () => run(page + 1, 'page-next'));
  $('preview').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closePreview();
  });
  $('preview-close').addEventListener('click', () => closePreview());
}

/** Roving focus: the focused result is the one Tab returns to. */
function focusHit(h: HTMLElement): void {
  for (const o of document.querySelectorAll<HTMLElement>('#results .hit')) o.tabIndex = o === h ? 0 : -1;
  h.focus();
}

function run(p: number, keepFocusOn?: string): void {
  window.clearTimeout(timer);
  search(p, keepFocusOn).catch(onSignedOut);
}

/** Runs a search now (also used by "did you mean"). */
export async function search(p = 0, keepFocusOn?: string): Promise<void> {
  const status = $('search-status');
  const list = $('results');
  const q = query();
  const mine = ++seq;
  if (!q) {
    status.textContent = '';
    $('pager').hidden = true;
    return void list.replaceChildren();
  }
  status.textContent = 'Searching…';
  try {
    const url = `/api/v1/search?q=${encodeURIComponent(q)}&limit=${PAGE}${p > 0 ? `&offset=${p * PAGE}` : ''}`;
    const r = await api<SearchResult>(url);
    if (mine !== seq) return;
    page = p;
    say(status, r.total === 0 ? 'No documents match.' : `${r.total.toLocaleString('en')} document${r.total === 1 ? '' : 's'}${r.total > PAGE ? `, showing ${pageRange(p, PAGE, r.total)}` : ''}.`);
    const suggested = r.suggestion?.query;
    if (suggested) {
      // "Did you mean": one click runs the corrected query.
      const link = el('button', { type: 'button', class: 'link', id: 'did-you-mean' }, suggested);
      link.addEventListener('click', () => {
        input().value = suggested;
        run(0);
      });
      status.append(' Did you mean ', link, '?');
    }
    list.replaceChildren(...r.hits.map((h, i) => hitItem(h, i === 0)));
    const pages = Math.ceil(r.total / PAGE);
    $('pager').hidden = pages <= 1;
    $<HTMLButtonElement>('page-prev').disabled = p === 0;
    $<HTMLButtonElement>('page-next').disabled = p >= pages - 1;
    $('page-of').textContent = `Page ${p + 1} of ${pages.toLocaleString('en')}`;
    if (keepFocusOn) {
      // A disabled button loses focus: the first result takes it instead.
      const b = $<HTMLButtonElement>(keepFocusOn);
      const first = document.querySelector<HTMLElement>('#results .hit');
      if (b.disabled && first) focusHit(first);
    }
  } catch (e) {
    if (e instanceof SignedOut) throw e;
    if (mine !== seq) return;
    say(status, (e as Error).message, 'error');
    list.replaceChildren();
    $('pager').hidden = true;
  }
}

function hitItem(h: Hit, first: boolean): HTMLLIElement {
  const app = bridge();
  const details = `${fmtBytes(h.size)} · modified ${h.mtime.slice(0, 10)}`;
  const open = el('button', { type: 'button', class: 'hit', tabindex: first ? '0' : '-1', 'data-path': h.path }, el('span', { class: 'title' }, h.title || h.path.split(/[\\/]/).pop() || h.path));
  open.setAttribute('aria-label', `${h.title}, ${app ? 'open the file' : 'preview'}`);
  open.addEventListener('click', () => void (app ? openFile(h.path) : showPreview(h.path, open)));
  const actions = app ? el('div', { class: 'actions' }, button('Show in folder', async () => showInFolder(h.path), { class: 'small', 'aria-label': `Show ${h.title} in its folder` })) : null;
  return el('li', {}, open, el('div', { class: 'meta' }, pathText(h.path, shortenMiddle(h.path, 80)), ` · ${details}`), el('p', { class: 'snippet' }, ...snippetNodes(h.snippet)), actions);
}

async function openFile(p: string): Promise<void> {
  try {
    const err = bridgeError(await bridge()!.openPath(p));
    if (err) say($('search-status'), `Could not open ${p}: ${err}`, 'error');
  } catch (e) {
    say($('search-status'), `Could not open ${p}: ${(e as Error).message}`, 'error');
  }
}

async function showInFolder(p: string): Promise<void> {
  try {
    const err = bridgeError(await bridge()!.showInFolder(p));
    if (err) say($('search-status'), `Could not show ${p}: ${err}`, 'error');
  } catch (e) {
    say($('search-status'), `Could not show ${p}: ${(e as Error).message}`, 'error');
  }
}

let returnFocus: HTMLElement | null = null;

async function showPreview(p: string, from: HTMLElement): Promise<void> {
  returnFocus = from;
  const pane = $('preview');
  pane.hidden = false;
  $('search-body').classList.add('with-preview');
  $('preview-title').textContent = 'Loading preview…';
  $('preview-meta').replaceChildren();
  $('preview-text').textContent = '';
  try {
    const d = await api<Preview>(`/api/v1/preview?path=${encodeURIComponent(p)}`);
    $('preview-title').textContent = d.title || d.path.split(/[\\/]/).pop() || d.path;
    $('preview-meta').replaceChildren(pathText(d.path, shortenMiddle(d.path, 70)), ` · ${fmtBytes(d.size)} · modified ${d.mtime.slice(0, 10)}`);
    $('preview-text').textContent = d.text + (d.truncated ? '\n…' : '');
  } catch (e) {
    if (e instanceof SignedOut) return onSignedOut(e);
    $('preview-title').textContent = 'No preview';
    say($('preview-meta'), e instanceof ApiError ? e.message : String(e), 'error');
  }
  $('preview-title').focus();
}

function closePreview(): void {
  $('preview').hidden = true;
  $('search-body').classList.remove('with-preview');
  returnFocus?.focus();
}
