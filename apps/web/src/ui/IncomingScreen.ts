/**
 * The full-screen ring: the caller's avatar and name, audio or video, who else is invited, and
 * Decline / Accept. Accept gets the focus so Enter answers; Escape declines.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import { accentColor, avatarEl } from '../avatar.js';
import { h, replaceChildren } from '../dom.js';
import { icon } from '../icons.js';
import type { ProfileBook } from '../profiles.js';
import { roundButton } from './widgets.js';

/** The incoming-call overlay. */
export class IncomingScreen {
  /** The screen's root element. */
  readonly el: HTMLElement;
  readonly #body: HTMLElement;
  readonly #accept: HTMLButtonElement;
  readonly #decline: HTMLButtonElement;
  #showing: { callerId: string; others: string[]; mediaType: CallMediaType } | null = null;

  constructor(
    private readonly profiles: ProfileBook,
    actions: { onAccept: () => void; onReject: () => void },
  ) {
    this.#body = h('div', { class: 'incoming-body' });
    this.#decline = roundButton({ label: 'Decline call', caption: 'Decline', icon: 'hangup', kind: 'danger', onClick: () => actions.onReject() });
    this.#accept = roundButton({ label: 'Accept call', caption: 'Accept', icon: 'phone', kind: 'accept', onClick: () => actions.onAccept() });
    this.el = h(
      'section',
      {
        class: 'overlay incoming',
        attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'incoming-name', 'aria-describedby': 'incoming-kind' },
        on: {
          keydown: (e) => {
            if (e.key === 'Escape') actions.onReject();
          },
        },
      },
      this.#body,
      h('div', { class: 'answer-row' }, this.#decline, this.#accept),
    );
    // Names of the other invitees arrive after the ring starts: redraw with them.
    profiles.subscribe(() => {
      if (this.#showing && !this.el.hidden) this.show(this.#showing.callerId, this.#showing.others, this.#showing.mediaType);
    });
  }

  /** Fills the screen for a call from `callerId`. */
  show(callerId: string, others: string[], mediaType: CallMediaType): void {
    this.#showing = { callerId, others, mediaType };
    const name = this.profiles.nameOf(callerId);
    const video = mediaType === CallMediaType.video;
    this.el.style.setProperty('--caller-color', accentColor(callerId, this.profiles.avatarOf(callerId)));
    this.#accept.querySelector('.round-btn-disc')?.replaceChildren(icon(video ? 'video' : 'phone'));
    this.#accept.setAttribute('aria-label', video ? 'Accept video call' : 'Accept audio call');
    replaceChildren(
      this.#body,
      h('p', { class: 'kicker', attrs: { id: 'incoming-kind' } }, video ? 'Incoming video call' : 'Incoming audio call'),
      h('div', { class: 'pulse' }, avatarEl(callerId, name, this.profiles.avatarOf(callerId), 'xl')),
      h('h1', { class: 'caller-name', attrs: { id: 'incoming-name' } }, name),
      h('p', { class: 'caller-id' }, `@${callerId}`),
      others.length > 0 ? h('p', { class: 'with' }, `Group call with ${others.map((u) => this.profiles.nameOf(u)).join(', ')}`) : null,
    );
  }

  /** Focuses Accept (keyboard users answer with Enter). */
  focus(): void {
    this.#accept.focus();
  }

  /** Disables both buttons while an answer is on its way. */
  setBusy(busy: boolean): void {
    this.#accept.disabled = busy;
    this.#decline.disabled = busy;
  }
}
