/**
 * `<opencall-callkit>`: the custom element that hosts the kit. Everything lives in its (open)
 * shadow root with one constructed stylesheet, so the host page's CSS cannot reach in (`div {
 * display: none }` outside does nothing inside) and the kit's CSS cannot leak out. Theming goes
 * through CSS custom properties, which do cross the boundary (see `styles.ts`).
 * @packageDocumentation
 */
import { KIT_CSS } from './styles.js';

/** The tag name. */
export const CALLKIT_TAG = 'opencall-callkit';

// Resolved lazily: module evaluation must not touch `HTMLElement` (the kit is also imported in Node tests).
const Base: typeof HTMLElement = typeof HTMLElement === 'undefined' ? (class {} as unknown as typeof HTMLElement) : HTMLElement;

/** The kit's element. {@link CallKit.mount} creates and fills it. */
export class OpenCallKitElement extends Base {
  readonly #root: ShadowRoot;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(KIT_CSS);
    this.#root.adoptedStyleSheets = [sheet];
  }

  /** Puts the kit's UI into the shadow root. */
  show(content: HTMLElement): void {
    this.#root.replaceChildren(content);
  }
}

/** Registers `<opencall-callkit>` once. */
export function defineCallKitElement(): void {
  if (!customElements.get(CALLKIT_TAG)) customElements.define(CALLKIT_TAG, OpenCallKitElement);
}

declare global {
  interface HTMLElementTagNameMap {
    'opencall-callkit': OpenCallKitElement;
  }
}
