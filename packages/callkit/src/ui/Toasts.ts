/**
 * Short messages over any screen ("Carol declined", "Session renewed"), announced to screen readers
 * through a polite live region. Each disappears after a few seconds.
 * @packageDocumentation
 */
import { h } from '../dom.js';

/** The toast stack. */
export class Toasts {
  /** The live region holding the toasts. */
  readonly el: HTMLElement = h('div', { class: 'toasts', attrs: { role: 'status', 'aria-live': 'polite' } });

  /** Shows `text` for `ms` milliseconds. */
  show(text: string, tone: 'info' | 'warn' | 'error' = 'info', ms = 3500): void {
    const toast = h('div', { class: `toast ${tone}` }, text);
    this.el.appendChild(toast);
    while (this.el.childElementCount > 3) this.el.firstElementChild?.remove();
    setTimeout(() => {
      toast.classList.add('leaving');
      setTimeout(() => toast.remove(), 300);
    }, ms);
  }
}
