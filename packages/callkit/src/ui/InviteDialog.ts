/**
 * "Add people" during a call: a modal dialog with the same id input as the dialer.
 * @packageDocumentation
 */
import { h } from '../dom.js';
import { IdListInput } from './widgets.js';
import { t } from '../i18n/index.js';

/** The invite dialog (a native `<dialog>`: focus trapping and Escape come with it). */
export class InviteDialog {
  /** The dialog element. */
  readonly el: HTMLDialogElement;
  readonly #input: IdListInput;
  readonly #title: HTMLElement;
  readonly #cancel: HTMLButtonElement;
  readonly #submit: HTMLButtonElement;
  #selfId = '';

  constructor(onInvite: (userIds: string[]) => void) {
    this.#input = new IdListInput({
      id: 'invite-input',
      label: t('invite.label'),
      placeholder: t('invite.placeholder'),
      exclude: () => this.#selfId,
      onEnterEmpty: () => submit(),
    });
    const submit = (): void => {
      const ids = this.#input.take(this.#selfId);
      if (!ids) return;
      this.close();
      onInvite(ids);
    };
    this.#title = h('h2', { attrs: { id: 'invite-title' } });
    this.#cancel = h('button', { class: 'btn secondary', attrs: { type: 'button' }, on: { click: () => this.close() } });
    this.#submit = h('button', { class: 'btn primary', attrs: { type: 'button' }, on: { click: () => submit() } });
    this.el = h('dialog', { class: 'sheet', attrs: { 'aria-labelledby': 'invite-title' } }, this.#title, this.#input.el, h('div', { class: 'sheet-actions' }, this.#cancel, this.#submit));
    this.#relabel();
  }

  /** Opens the dialog for `selfId`. */
  open(selfId: string): void {
    this.#selfId = selfId;
    this.#relabel();
    this.#input.clear();
    if (!this.el.open) this.el.showModal();
    this.#input.input.focus();
  }

  #relabel(): void {
    this.#title.textContent = t('invite.title');
    this.#cancel.textContent = t('invite.cancel');
    this.#submit.textContent = t('invite.submit');
    this.#input.relabel(t('invite.label'), t('invite.placeholder'));
  }

  /** Closes it. */
  close(): void {
    if (this.el.open) this.el.close();
  }
}
