/**
 * The full-screen ring: the caller's avatar and name, audio or video, who else is invited, and
 * Decline / Accept. Accept gets the focus so Enter answers; Escape declines.
 *
 * Privacy rule (shared with the web app): a remote avatar URL is not loaded while the call only
 * rings, because loading it would tell the caller's image host that this device is online and
 * ringing. Only inline (`data:`) avatars show here; others show initials until the call is accepted.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import { accentColor, avatarEl } from '../avatar.js';
import { h, replaceChildren } from '../dom.js';
import { onLanguageChange, t } from '../i18n/index.js';
import type { ProfileBook } from '../profiles.js';
import { roundButton, updateToggle } from './widgets.js';

/** The avatar URL the ring screen may load: inline images only (no network before accept). */
export function ringingAvatar(url: string): string {
  return url.startsWith('data:') ? url : '';
}

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
    this.#decline = roundButton({ label: t('incoming.decline'), caption: t('incoming.declineCaption'), icon: 'hangup', kind: 'danger', onClick: () => actions.onReject() });
    this.#accept = roundButton({ label: t('incoming.accept'), caption: t('incoming.acceptCaption'), icon: 'phone', kind: 'accept', onClick: () => actions.onAccept() });
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
    // Names of the other invitees arrive after the ring starts; a language switch relabels.
    const redraw = (): void => {
      if (this.#showing && !this.el.hidden) this.show(this.#showing.callerId, this.#showing.others, this.#showing.mediaType);
    };
    profiles.subscribe(redraw);
    onLanguageChange(redraw);
  }

  /** Fills the screen for a call from `callerId`. */
  show(callerId: string, others: string[], mediaType: CallMediaType): void {
    this.#showing = { callerId, others, mediaType };
    const name = this.profiles.nameOf(callerId);
    const video = mediaType === CallMediaType.video;
    const avatar = ringingAvatar(this.profiles.avatarOf(callerId));
    this.el.style.setProperty('--caller-color', accentColor(callerId, avatar));
    updateToggle(this.#decline, { label: t('incoming.decline'), caption: t('incoming.declineCaption'), icon: 'hangup', pressed: null });
    updateToggle(this.#accept, { label: t(video ? 'incoming.acceptVideo' : 'incoming.acceptAudio'), caption: t('incoming.acceptCaption'), icon: video ? 'video' : 'phone', pressed: null });
    replaceChildren(
      this.#body,
      h('p', { class: 'kicker', attrs: { id: 'incoming-kind' } }, t(video ? 'incoming.video' : 'incoming.audio')),
      h('div', { class: 'pulse' }, avatarEl(callerId, name, avatar, 'xl')),
      h('h1', { class: 'caller-name', attrs: { id: 'incoming-name' } }, name),
      h('p', { class: 'caller-id' }, `@${callerId}`),
      others.length > 0 ? h('p', { class: 'with' }, t('incoming.groupWith', { names: others.map((u) => this.profiles.nameOf(u)).join(', ') })) : null,
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
