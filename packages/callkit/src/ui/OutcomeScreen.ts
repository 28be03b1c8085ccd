/**
 * The end-of-call card: what happened in words a person understands ("Bob is busy", "Connection
 * lost"), then back to the home screen by itself after a few seconds, or at once with OK. A call
 * can never leave the page on a dead screen.
 * @packageDocumentation
 */
import type { Outcome } from '../call/outcomes.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import type { IconName } from '../icons.js';
import { onLanguageChange, t } from '../i18n/index.js';

const TONE_ICON: Record<Outcome['tone'], IconName> = { neutral: 'hangup', warn: 'warning', error: 'wifiOff' };

/** The outcome overlay. */
export class OutcomeScreen {
  /** The screen's root element. */
  readonly el: HTMLElement;
  readonly #icon: HTMLElement;
  readonly #title: HTMLElement;
  readonly #detail: HTMLElement;
  readonly #ok: HTMLButtonElement;
  readonly #callAgain: HTMLButtonElement;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #onDone: () => void = () => undefined;
  #onAgain: (() => void) | null = null;

  constructor() {
    this.#icon = h('span', { class: 'outcome-icon' });
    this.#title = h('h1', { class: 'outcome-title', attrs: { id: 'outcome-title' } });
    this.#detail = h('p', { class: 'outcome-detail', attrs: { id: 'outcome-detail' } });
    this.#ok = h('button', { class: 'btn primary', attrs: { type: 'button' }, on: { click: () => this.#finish() } });
    this.#callAgain = h('button', { class: 'btn secondary', attrs: { type: 'button' }, on: { click: () => this.#again() } });
    this.el = h(
      'section',
      { class: 'overlay outcome', attrs: { role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'outcome-title', 'aria-describedby': 'outcome-detail' } },
      h('div', { class: 'outcome-card' }, this.#icon, this.#title, this.#detail, h('div', { class: 'outcome-actions' }, this.#callAgain, this.#ok)),
      h('div', { class: 'outcome-progress', attrs: { 'aria-hidden': 'true' } }),
    );
    const relabel = (): void => {
      this.#ok.textContent = t('outcome.ok');
      this.#callAgain.textContent = t('outcome.again');
    };
    relabel();
    onLanguageChange(relabel);
  }

  /** Shows `outcome`; calls `onDone` on OK or after `autoCloseMs`; offers "Call again" when `onAgain` is given. */
  show(outcome: Outcome, opts: { autoCloseMs: number; onDone: () => void; onAgain?: () => void }): void {
    this.#clearTimer();
    this.el.dataset.tone = outcome.tone;
    this.#icon.replaceChildren(icon(TONE_ICON[outcome.tone]));
    this.#title.textContent = outcome.title;
    this.#detail.textContent = outcome.detail;
    this.#onDone = opts.onDone;
    this.#onAgain = opts.onAgain ?? null;
    this.#callAgain.hidden = !opts.onAgain;
    this.el.style.setProperty('--outcome-ms', `${opts.autoCloseMs}ms`);
    // Restart the progress animation.
    this.el.classList.remove('counting');
    void this.el.offsetWidth;
    this.el.classList.add('counting');
    this.#timer = setTimeout(() => this.#finish(), opts.autoCloseMs);
  }

  /** Focuses OK. */
  focus(): void {
    this.#ok.focus();
  }

  /** Dismisses without calling back (e.g. a new call rings). */
  cancel(): void {
    this.#clearTimer();
  }

  #finish(): void {
    this.#clearTimer();
    this.#onDone();
  }

  #again(): void {
    this.#clearTimer();
    const again = this.#onAgain;
    this.#onDone();
    again?.();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
