/**
 * The browser's Document Picture-in-Picture window (`documentPictureInPicture.requestWindow`,
 * Chromium 116+): an always-on-top window of the browser that stays visible when the user switches
 * tabs or apps. The kit moves its live call view (video elements keep playing, listeners stay) into
 * a shadow root of that window and back when it closes, however it closes (the kit's button, the
 * window's own close button, the call ending, the page going away).
 * @packageDocumentation
 */

/** The part of the Document Picture-in-Picture API the kit uses (not yet in TypeScript's DOM types). */
interface DocumentPictureInPicture {
  requestWindow(options?: { width?: number; height?: number; disallowReturnToOpener?: boolean }): Promise<Window>;
  readonly window: Window | null;
}

function api(): DocumentPictureInPicture | null {
  const found = (globalThis as { documentPictureInPicture?: DocumentPictureInPicture }).documentPictureInPicture;
  return found && typeof found.requestWindow === 'function' ? found : null;
}

/** True where the browser can open a Document Picture-in-Picture window. */
export function pipSupported(): boolean {
  return api() !== null;
}

/** An open picture-in-picture window holding the kit's content. */
export interface PipWindow {
  /** The window (its document holds the content). */
  readonly window: Window;
  /** Puts the content back where it was (idempotent) and closes the window. */
  close(): void;
}

/** What {@link openPip} moves and how the window looks. */
export interface PipOptions {
  /** The element to move (it comes back to the same place). */
  content: HTMLElement;
  /** The stylesheet of the content's shadow root (adopted again in the new window's document). */
  css: string;
  /** Custom properties to carry over (the host page's theme), read from this element. */
  themeFrom: Element;
  /** The window's title. */
  title: string;
  /** Language of the window's document. */
  lang: string;
  width: number;
  height: number;
  /** The content is back in the page (the window closed, by whatever means). */
  onClosed(): void;
}

/**
 * Opens a picture-in-picture window and moves `content` into it. Must run while the page has a
 * user activation (a click): the browser refuses the window otherwise, and then this rejects
 * (`NotAllowedError`), as it does where the API is missing.
 */
export async function openPip(opts: PipOptions): Promise<PipWindow> {
  const pip = api();
  if (!pip) throw new Error('documentPictureInPicture is not available in this browser');
  // One picture-in-picture window per page: the browser replaces an open one, so close ours first.
  pip.window?.close();
  const win = await pip.requestWindow({ width: opts.width, height: opts.height });
  const doc = win.document;
  doc.title = opts.title;
  doc.documentElement.lang = opts.lang;
  doc.body.style.margin = '0';
  const host = doc.createElement('div');
  host.dataset.opencallPip = '';
  // Constructed stylesheets belong to one document: build the sheet again with the window's constructor.
  const Sheet = (win as unknown as { CSSStyleSheet: typeof CSSStyleSheet }).CSSStyleSheet;
  const sheet = new Sheet();
  sheet.replaceSync(opts.css);
  const root = host.attachShadow({ mode: 'open' });
  root.adoptedStyleSheets = [sheet];
  copyTheme(opts.themeFrom, host, opts.css);
  doc.body.appendChild(host);

  const home = opts.content.parentNode;
  const next = opts.content.nextSibling;
  root.appendChild(opts.content);
  let back = false;
  const restore = (): void => {
    if (back) return;
    back = true;
    // Moved within the same task, a playing <video> is never "removed from a document", so it keeps playing.
    if (home) home.insertBefore(opts.content, next && next.parentNode === home ? next : null);
    opts.onClosed();
  };
  win.addEventListener('pagehide', restore, { once: true });
  return {
    window: win,
    close: () => {
      restore();
      win.close();
    },
  };
}

/** Copies the `--opencall-*` custom properties the stylesheet reads from `from` (the kit element) to `to`. */
function copyTheme(from: Element, to: HTMLElement, css: string): void {
  const style = getComputedStyle(from);
  for (const [, name] of css.matchAll(/var\((--opencall-[\w-]+)/gu)) {
    const value = style.getPropertyValue(name!);
    if (value) to.style.setProperty(name!, value);
  }
}
