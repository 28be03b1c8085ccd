/**
 * The sign-in screen: user id, display name and avatar colour. In development mode the page mints
 * the sig through the server's dev endpoint; in production the configured sig service decides, so
 * the same form works for both (the controller does the fetching).
 * @packageDocumentation
 */
import { AVATAR_COLORS, USER_ID_PATTERN, colorFor, h, initials, show } from '@opencall/callkit/parts';

/** What the person entered. */
export interface SignInInput {
  userId: string;
  nickname: string;
  color: string;
}

/** The sign-in form. */
export class SignInScreen {
  /** The screen's root element. */
  readonly el: HTMLElement;
  readonly #userId: HTMLInputElement;
  readonly #nickname: HTMLInputElement;
  readonly #notice: HTMLElement;
  readonly #error: HTMLElement;
  readonly #submit: HTMLButtonElement;
  readonly #preview: HTMLElement;
  readonly #swatches: HTMLElement;
  #color = '';
  #colorTouched = false;

  constructor(opts: { devMode: boolean; onSubmit: (input: SignInInput) => void }) {
    this.#userId = h('input', {
      attrs: { id: 'signin-user', name: 'userId', required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', maxlength: 32, placeholder: 'e.g. alice' },
      on: { input: () => this.#refreshPreview() },
    });
    this.#nickname = h('input', {
      attrs: { id: 'signin-name', name: 'nickname', autocomplete: 'nickname', maxlength: 64, placeholder: 'e.g. Alice Martin' },
      on: { input: () => this.#refreshPreview() },
    });
    this.#notice = h('p', { class: 'notice', attrs: { role: 'status' } });
    this.#error = h('p', { class: 'form-error', attrs: { role: 'alert' } });
    this.#submit = h('button', { class: 'btn primary wide', attrs: { type: 'submit' } }, 'Sign in');
    this.#preview = h('span', { class: 'avatar avatar-lg', attrs: { 'aria-hidden': 'true' } });
    const swatches = h('div', { class: 'swatches', attrs: { role: 'radiogroup', 'aria-label': 'Avatar colour' } });
    this.#swatches = swatches;
    AVATAR_COLORS.forEach((c, i) => {
      const sw = h('button', {
        class: 'swatch',
        attrs: { type: 'button', role: 'radio', 'aria-checked': 'false', 'aria-label': `Colour ${i + 1}` },
        on: {
          click: () => {
            this.#colorTouched = true;
            this.#setColor(c);
          },
        },
      });
      sw.style.background = c;
      sw.dataset.color = c;
      swatches.appendChild(sw);
    });
    const form = h(
      'form',
      {
        class: 'signin-form',
        attrs: { 'aria-label': 'Sign in', novalidate: true },
        on: {
          submit: (e) => {
            e.preventDefault();
            this.#onSubmit(opts.onSubmit);
          },
        },
      },
      h('div', { class: 'signin-preview' }, this.#preview),
      h('div', { class: 'field' }, h('label', { attrs: { for: 'signin-user' } }, 'User ID'), this.#userId),
      h('div', { class: 'field' }, h('label', { attrs: { for: 'signin-name' } }, 'Display name'), this.#nickname),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'Avatar colour'), swatches),
      this.#error,
      this.#submit,
    );
    this.el = h(
      'section',
      { class: 'screen signin', attrs: { 'aria-labelledby': 'signin-title' } },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', attrs: { 'aria-hidden': 'true' } }), h('h1', { attrs: { id: 'signin-title' } }, 'OpenCall')),
      h('p', { class: 'tagline' }, opts.devMode ? 'Pick any user ID. To try a call, open a second window and sign in there as someone else.' : 'Sign in to make and receive calls.'),
      this.#notice,
      form,
    );
    show(this.#notice, false);
    this.#setColor(AVATAR_COLORS[0]);
    this.#refreshPreview();
  }

  /** Prefills the form (last used identity). */
  prefill(input: Partial<SignInInput>): void {
    if (input.userId) this.#userId.value = input.userId;
    if (input.nickname) this.#nickname.value = input.nickname;
    if (input.color) {
      this.#colorTouched = true;
      this.#setColor(input.color);
    }
    this.#refreshPreview();
  }

  /** Shows a message above the form (e.g. why the person was signed out); '' hides it. */
  setNotice(text: string): void {
    this.#notice.textContent = text;
    show(this.#notice, text !== '');
  }

  /** Shows a sign-in failure; '' clears it. */
  setError(text: string): void {
    this.#error.textContent = text;
  }

  /** Disables the form while signing in. */
  setBusy(busy: boolean): void {
    this.#submit.disabled = busy;
    this.#submit.textContent = busy ? 'Signing in…' : 'Sign in';
  }

  /** Focuses the first field. */
  focus(): void {
    (this.#userId.value ? this.#submit : this.#userId).focus();
  }

  #onSubmit(onSubmit: (input: SignInInput) => void): void {
    const userId = this.#userId.value.trim();
    if (!USER_ID_PATTERN.test(userId)) {
      this.setError('User ID: 1–32 letters, digits, _ or - (no spaces).');
      this.#userId.focus();
      return;
    }
    this.setError('');
    onSubmit({ userId, nickname: this.#nickname.value.trim() || userId, color: this.#color });
  }

  #setColor(color: string): void {
    this.#color = color;
    for (const sw of this.#swatches.querySelectorAll<HTMLElement>('.swatch')) {
      sw.setAttribute('aria-checked', sw.dataset.color === color ? 'true' : 'false');
    }
    this.#preview.style.background = color;
  }

  #refreshPreview(): void {
    const id = this.#userId.value.trim();
    // Until the person picks a colour, suggest the one their id maps to.
    if (!this.#colorTouched && id) this.#setColor(colorFor(id));
    this.#preview.textContent = initials(this.#nickname.value.trim() || id || '?');
  }
}
