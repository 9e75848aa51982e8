import { api, post, SignedOut, type Setting } from './api.js';
import { $, el, say } from './dom.js';

/**
 * Settings the dashboard may change, as a form built from GET /api/v1/settings. The service
 * validates every change against the config schema and says which take effect at the next start;
 * a setting fixed by the machine policy is shown locked with the reason.
 */

let onSignedOut: (e: unknown) => void = () => {};
let current: Setting[] = [];

export function initSettings(signedOut: (e: unknown) => void): void {
  onSignedOut = signedOut;
  $('settings-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void save();
  });
}

const fieldId = (key: string) => `set-${key.replace(/\./g, '-')}`;

export async function refreshSettings(): Promise<void> {
  current = (await api<{ settings: Setting[] }>('/api/v1/settings')).settings;
  const groups = [...new Set(current.map((s) => s.group))];
  $('settings-fields').replaceChildren(...groups.map((g) => el('fieldset', {}, el('legend', {}, g), ...current.filter((s) => s.group === g).map(field))));
}

function field(s: Setting): HTMLElement {
  const id = fieldId(s.key);
  const hintId = `${id}-hint`;
  const hint = [s.unit, s.live ? null : 'applies when Owlet restarts'].filter(Boolean).join('; ');
  const lock = s.locked ? el('p', { class: 'locked', id: `${id}-lock` }, el('span', { 'aria-hidden': 'true' }, '🔒 '), `Locked: set by ${s.locked}`) : null;
  const described = [hint ? hintId : null, lock ? `${id}-lock` : null].filter(Boolean).join(' ');
  let control: HTMLElement;
  if (typeof s.value === 'boolean') {
    const c = el('input', { type: 'checkbox', id, name: s.key, 'data-key': s.key });
    c.checked = s.value;
    control = el('div', { class: 'check-row' }, c, el('label', { for: id }, s.label));
    if (described) c.setAttribute('aria-describedby', described);
    if (s.locked) c.disabled = true;
  } else if (s.choices) {
    const chosen = Array.isArray(s.value) ? (s.value as string[]) : [];
    control = el(
      'fieldset',
      { class: 'choices', 'data-key': s.key, id },
      el('legend', {}, s.label),
      ...s.choices.map((c) => {
        const cid = `${id}-${c}`;
        const box = el('input', { type: 'checkbox', id: cid, value: c });
        box.checked = chosen.includes(c);
        if (s.locked) box.disabled = true;
        return el('span', { class: 'choice' }, box, el('label', { for: cid }, c));
      }),
    );
  } else {
    const number = typeof s.value === 'number';
    const input = el('input', { type: number ? 'number' : 'text', id, name: s.key, 'data-key': s.key, step: 'any' });
    input.value = s.value === null || s.value === undefined ? '' : String(s.value);
    if (described) input.setAttribute('aria-describedby', described);
    if (s.locked) input.disabled = true;
    control = el('div', { class: 'field' }, el('label', { for: id }, s.label), input);
  }
  return el('div', { class: 'setting', 'data-setting': s.key, 'data-locked': String(Boolean(s.locked)) }, control, hint ? el('p', { class: 'hint', id: hintId }, hint) : null, lock);
}

function valueOf(s: Setting): unknown {
  const id = fieldId(s.key);
  if (typeof s.value === 'boolean') return $<HTMLInputElement>(id).checked;
  if (s.choices) return s.choices.filter((c) => $<HTMLInputElement>(`${id}-${c}`).checked);
  const raw = $<HTMLInputElement>(id).value.trim();
  if (typeof s.value === 'number') return raw === '' ? null : Number(raw);
  // A nullable text setting (webhook URL): empty means none.
  return raw === '' && (s.value === null || s.value === undefined) ? null : raw === '' ? null : raw;
}

async function save(): Promise<void> {
  const status = $('settings-status');
  const changes: Record<string, unknown> = {};
  for (const s of current) {
    if (s.locked) continue;
    const v = valueOf(s);
    if (JSON.stringify(v) !== JSON.stringify(s.value ?? null)) changes[s.key] = v;
  }
  if (Object.keys(changes).length === 0) return say(status, 'Nothing changed.');
  try {
    const r = await post<{ settings: Setting[]; restartNeeded: string[] }>('/api/v1/settings', { changes });
    const labels = r.restartNeeded.map((k) => current.find((s) => s.key === k)?.label ?? k);
    say(status, `Saved.${labels.length ? ` Takes effect when Owlet restarts: ${labels.join(', ')}.` : ' In effect now.'}`);
    await refreshSettings();
  } catch (e) {
    if (e instanceof SignedOut) onSignedOut(e);
    else say(status, (e as Error).message, 'error');
  }
}
