/** DOM helpers of the dashboard: elements built as nodes, never from HTML strings. */

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export function svgEl(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function button(label: string, onClick: (b: HTMLButtonElement) => void | Promise<void>, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', () => {
    const r = onClick(b);
    if (r instanceof Promise) {
      b.disabled = true;
      // A finished action gives the button back; a failed one was already reported by the action.
      void r.finally(() => {
        b.disabled = false;
        // Disabling a focused button drops the focus to the page: a keyboard user gets it back.
        if (b.isConnected && (document.activeElement === document.body || document.activeElement === null)) b.focus();
      });
    }
  });
  return b;
}

/** A path shown shortened, with the whole path as its accessible name and tooltip. */
export function pathText(full: string, short: string, cls = 'path'): HTMLElement {
  return el('span', { class: cls, title: full }, short);
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
/** The server's snippet is escaped text with <mark> around matches: rebuilt as nodes, never parsed as HTML. */
export function snippetNodes(html: string): Node[] {
  const out: Node[] = [];
  let marked = false;
  for (const part of html.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) {
      const text = part.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m] ?? m);
      out.push(marked ? el('mark', {}, text) : document.createTextNode(text));
    }
  }
  return out;
}

/** Shows a message in a card's status line: errors as role=alert, the rest politely. */
export function say(target: HTMLElement, message: string, kind: 'ok' | 'error' = 'ok'): void {
  target.textContent = message;
  target.dataset.kind = kind;
  target.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}
