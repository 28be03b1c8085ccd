/**
 * "Add people" during a call: a modal dialog with the same id input as the dialer.
 * @packageDocumentation
 */
import { h } from '../dom.js';
import { IdListInput } from './widgets.js';

/** The invite dialog (a native `<dialog>`: focus trapping and Escape come with it). */
export class InviteDialog {
  /** The dialog element. */
  readonly el: HTMLDialogElement;
  readonly #input: IdListInput;
  #selfId = '';

  constructor(onInvite: (userIds: string[]) => void) {
    this.#input = new IdListInput({
      id: 'invite-input',
      label: 'Add people to this call',
      placeholder: 'User ID, e.g. carol',
      exclude: () => this.#selfId,
      onEnterEmpty: () => submit(),
    });
    const submit = (): void => {
      const ids = this.#input.take(this.#selfId);
      if (!ids) return;
      this.close();
      onInvite(ids);
    };
    this.el = h(
      'dialog',
      { class: 'sheet', attrs: { 'aria-labelledby': 'invite-title' } },
      h('h2', { attrs: { id: 'invite-title' } }, 'Invite to call'),
      this.#input.el,
      h(
        'div',
        { class: 'sheet-actions' },
        h('button', { class: 'btn secondary', attrs: { type: 'button' }, on: { click: () => this.close() } }, 'Cancel'),
        h('button', { class: 'btn primary', attrs: { type: 'button' }, on: { click: () => submit() } }, 'Invite'),
      ),
    );
  }

  /** Opens the dialog for `selfId`. */
  open(selfId: string): void {
    this.#selfId = selfId;
    this.#input.clear();
    if (!this.el.open) this.el.showModal();
    this.#input.input.focus();
  }

  /** Closes it. */
  close(): void {
    if (this.el.open) this.el.close();
  }
}
