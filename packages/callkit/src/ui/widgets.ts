/**
 * Small pieces shared by the screens: round call buttons, network-quality bars, and the input that
 * collects one or more user ids as chips.
 * @packageDocumentation
 */
import { NetworkQuality } from '@opencall/client';
import { h, setAttr } from '../dom.js';
import { icon } from '../icons.js';
import type { IconName } from '../icons.js';
import { t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/index.js';

/** A round icon button with a visible caption; `label` is also its accessible name. */
export function roundButton(opts: { label: string; icon: IconName; kind?: 'accept' | 'danger' | 'plain'; caption?: string; onClick: () => void }): HTMLButtonElement {
  const caption = opts.caption ?? opts.label;
  return h(
    'button',
    { class: `round-btn ${opts.kind ?? 'plain'}`, attrs: { type: 'button', 'aria-label': opts.label }, on: { click: () => opts.onClick() } },
    h('span', { class: 'round-btn-disc' }, icon(opts.icon)),
    h('span', { class: 'round-btn-caption', attrs: { 'aria-hidden': 'true' } }, caption),
  );
}

/** Updates a {@link roundButton}'s icon, name, caption and pressed state (`null`: not a toggle). */
export function updateToggle(btn: HTMLButtonElement, opts: { label: string; icon: IconName; caption: string; pressed: boolean | null }): void {
  setAttr(btn, 'aria-label', opts.label);
  setAttr(btn, 'aria-pressed', opts.pressed === null ? null : opts.pressed ? 'true' : 'false');
  btn.classList.toggle('toggled', opts.pressed === true);
  const disc = btn.querySelector('.round-btn-disc');
  if (disc && disc.getAttribute('data-icon') !== opts.icon) {
    disc.setAttribute('data-icon', opts.icon);
    disc.replaceChildren(icon(opts.icon));
  }
  const cap = btn.querySelector('.round-btn-caption');
  if (cap) cap.textContent = opts.caption;
}

/** Stable quality names (the `data-quality` the stylesheet reads). */
const QUALITY_NAME: Record<NetworkQuality, string> = {
  [NetworkQuality.unknown]: 'unknown',
  [NetworkQuality.excellent]: 'excellent',
  [NetworkQuality.good]: 'good',
  [NetworkQuality.poor]: 'poor',
  [NetworkQuality.bad]: 'bad',
  [NetworkQuality.vBad]: 'very bad',
  [NetworkQuality.down]: 'down',
};

const QUALITY_TEXT: Record<NetworkQuality, MessageKey> = {
  [NetworkQuality.unknown]: 'net.unknown',
  [NetworkQuality.excellent]: 'net.excellent',
  [NetworkQuality.good]: 'net.good',
  [NetworkQuality.poor]: 'net.poor',
  [NetworkQuality.bad]: 'net.bad',
  [NetworkQuality.vBad]: 'net.veryBad',
  [NetworkQuality.down]: 'net.down',
};

const QUALITY_BARS: Record<NetworkQuality, number> = {
  [NetworkQuality.unknown]: 0,
  [NetworkQuality.excellent]: 4,
  [NetworkQuality.good]: 3,
  [NetworkQuality.poor]: 2,
  [NetworkQuality.bad]: 1,
  [NetworkQuality.vBad]: 1,
  [NetworkQuality.down]: 0,
};

/** Four signal bars of `whose` (a display name, or null for this user); {@link setNetBars} updates them. */
export function netBars(whose: string | null): HTMLElement {
  const el = h('span', { class: 'net', attrs: { role: 'img', 'data-quality': '' } });
  if (whose !== null) el.dataset.whose = whose;
  for (let i = 1; i <= 4; i++) el.appendChild(h('i', { class: `bar b${i}` }));
  setNetBars(el, NetworkQuality.unknown);
  return el;
}

/** Shows a network quality on bars made by {@link netBars} (`force` relabels after a language switch). */
export function setNetBars(el: HTMLElement, quality: NetworkQuality, force = false): void {
  const name = QUALITY_NAME[quality];
  if (el.dataset.quality === name && !force) return;
  el.dataset.quality = name;
  el.dataset.bars = String(QUALITY_BARS[quality]);
  const text = t(QUALITY_TEXT[quality]);
  const whose = el.dataset.whose;
  const label = whose === undefined ? t('net.self', { quality: text }) : t('net.user', { name: whose, quality: text });
  setAttr(el, 'aria-label', label);
  setAttr(el, 'title', label);
}

/** The pattern of a user id (protocol: 1–32 of `[A-Za-z0-9_-]`). */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/u;

/**
 * Collects user ids as removable chips. Enter, comma or space turns the typed text into a chip;
 * Backspace in an empty field removes the last one. {@link take} also includes unfinished text.
 */
export class IdListInput {
  /** The component's root element. */
  readonly el: HTMLElement;
  readonly input: HTMLInputElement;
  readonly #chips: HTMLElement;
  readonly #error: HTMLElement;
  readonly #label: HTMLLabelElement;
  readonly #ids: string[] = [];
  readonly #onEnterEmpty: () => void;

  constructor(opts: { id: string; label: string; placeholder: string; exclude: () => string; onEnterEmpty: () => void }) {
    this.#onEnterEmpty = opts.onEnterEmpty;
    this.#chips = h('span', { class: 'chips', attrs: { role: 'list', 'aria-label': t('ids.list') } });
    this.input = h('input', {
      attrs: { id: opts.id, type: 'text', placeholder: opts.placeholder, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', enterkeyhint: 'go' },
      on: { keydown: (e) => this.#onKey(e, opts.exclude()) },
    });
    this.#error = h('p', { class: 'field-error', attrs: { role: 'alert', id: `${opts.id}-error` } });
    setAttr(this.input, 'aria-describedby', `${opts.id}-error`);
    this.#label = h('label', { attrs: { for: opts.id } }, opts.label);
    this.el = h(
      'div',
      { class: 'field' },
      this.#label,
      h('div', { class: 'chip-input', on: { click: () => this.input.focus() } }, this.#chips, this.input),
      this.#error,
    );
  }

  /** The ids collected, with the unfinished text as a last one; null (with a message shown) if one is invalid. */
  take(selfId: string): string[] | null {
    if (this.input.value.trim() !== '' && !this.#add(this.input.value, selfId)) return null;
    if (this.#ids.length === 0) {
      this.#fail(t('ids.empty'));
      return null;
    }
    return [...this.#ids];
  }

  /** Changes the visible label and placeholder (a language switch). */
  relabel(label: string, placeholder: string): void {
    this.#label.textContent = label;
    this.input.placeholder = placeholder;
    this.#chips.setAttribute('aria-label', t('ids.list'));
  }

  /** Puts ids in (replacing the current ones). */
  set(ids: string[]): void {
    this.clear();
    for (const id of ids) this.#push(id);
  }

  /** Empties the field. */
  clear(): void {
    this.#ids.length = 0;
    this.#chips.replaceChildren();
    this.input.value = '';
    this.#fail('');
  }

  #onKey(e: KeyboardEvent, selfId: string): void {
    if (e.key === 'Enter' || e.key === ',' || (e.key === ' ' && this.input.value.trim() !== '')) {
      e.preventDefault();
      if (this.input.value.trim() === '') {
        if (e.key === 'Enter' && this.#ids.length > 0) this.#onEnterEmpty();
        return;
      }
      this.#add(this.input.value, selfId);
    } else if (e.key === 'Backspace' && this.input.value === '' && this.#ids.length > 0) {
      this.#ids.pop();
      this.#chips.lastElementChild?.remove();
    }
  }

  #add(raw: string, selfId: string): boolean {
    const id = raw.trim().replace(/^@/u, '');
    if (!USER_ID_PATTERN.test(id)) {
      this.#fail(t('ids.invalid', { id }));
      return false;
    }
    if (id === selfId) {
      this.#fail(t('ids.self'));
      return false;
    }
    this.input.value = '';
    this.#fail('');
    if (!this.#ids.includes(id)) this.#push(id);
    return true;
  }

  #push(id: string): void {
    this.#ids.push(id);
    const chip = h(
      'span',
      { class: 'chip', attrs: { role: 'listitem' } },
      id,
      h(
        'button',
        {
          class: 'chip-x',
          attrs: { type: 'button', 'aria-label': t('ids.remove', { id }) },
          on: {
            click: (e) => {
              e.stopPropagation();
              const i = this.#ids.indexOf(id);
              if (i >= 0) this.#ids.splice(i, 1);
              chip.remove();
              this.input.focus();
            },
          },
        },
        '×',
      ),
    );
    this.#chips.appendChild(chip);
  }

  #fail(message: string): void {
    this.#error.textContent = message;
    this.input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }
}
