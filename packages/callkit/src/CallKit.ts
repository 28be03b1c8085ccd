/**
 * `CallKit`: the calling UI as a component (SPEC §10). Mount it on any element, sign in, and call:
 *
 * ```ts
 * const kit = await CallKit.mount(document.getElementById('call')!, { serverUrl, sdkAppId });
 * await kit.init({ userId: 'alice', userSig });
 * await kit.calls(['bob'], CallMediaType.video);
 * ```
 *
 * The kit rings, connects and ends calls inside the host page. It shares an existing engine with
 * `{ engine }` (the host keeps its own sign-in, history…), otherwise it creates one.
 * @packageDocumentation
 */
import { CallEngine } from '@opencall/client';
import type { CallMediaType, CallParams, CallEngineOptions } from '@opencall/client';
import { setLanguage as switchLanguage } from './i18n/index.js';
import type { Language } from './i18n/index.js';
import { KitView } from './KitView.js';
import type { CallKitHooks, ViewMode } from './KitView.js';
import { OpenCallKitElement, defineCallKitElement } from './element.js';
import { ProfileBook } from './profiles.js';
import { Tones } from './sounds.js';

/** Where the kit's engine comes from: a new one for a server, or one the host page already has. */
export type CallKitSource = { serverUrl: string; sdkAppId: number; engineOptions?: Omit<CallEngineOptions, 'serverUrl' | 'sdkAppId'> } | { engine: CallEngine };

/** Options of {@link CallKit.mount}: the engine source, plus hooks and look. */
export type CallKitOptions = CallKitSource &
  CallKitHooks & {
    /** `window` (default): a call covers the browser window; `element`: it fills the host element. */
    fill?: 'window' | 'element';
    /** Starting language (default `en`). */
    language?: Language;
    /** Video calls start with a camera and microphone preview (see {@link CallKit.enablePreview}). */
    preview?: boolean;
  };

/** The calling UI of one page. */
export class CallKit {
  /** The engine the kit drives (shared or its own). */
  readonly engine: CallEngine;
  /** Names and avatars of the people on screen (the host may share it). */
  readonly profiles = new ProfileBook();
  /** The `<opencall-callkit>` element. */
  readonly element: OpenCallKitElement;
  readonly #view: KitView;
  readonly #tones = new Tones();
  readonly #ownEngine: boolean;
  readonly #hooks: CallKitHooks;
  #destroyed = false;

  private constructor(element: OpenCallKitElement, options: CallKitOptions) {
    this.#ownEngine = !('engine' in options);
    this.engine = 'engine' in options ? options.engine : new CallEngine({ serverUrl: options.serverUrl, sdkAppId: options.sdkAppId, ...options.engineOptions });
    this.#hooks = {};
    for (const name of ['beforeCalling', 'afterCalling', 'onMinimized', 'onMaximized'] as const) {
      const hook = options[name];
      if (hook) this.#hooks[name] = hook as never;
    }
    this.element = element;
    element.dataset.fill = options.fill ?? 'window';
    this.#view = new KitView(this.engine, this.profiles, this.#tones, this.#hooks);
    element.show(this.#view.el);
    this.profiles.setLoader((ids) => this.engine.getUserProfiles(ids));
    if (options.language) switchLanguage(options.language);
    if (options.preview) this.#view.enablePreview(true);
    const userId = this.engine.userId;
    if (userId) this.#view.attachUser(userId);
  }

  /**
   * Mounts the kit. `target` is an `<opencall-callkit>` element, or any element to put one into.
   * Resolves once the element is in the page.
   */
  static async mount(target: HTMLElement, options: CallKitOptions): Promise<CallKit> {
    defineCallKitElement();
    let element: OpenCallKitElement;
    if (target instanceof OpenCallKitElement) element = target;
    else {
      element = document.createElement('opencall-callkit');
      target.appendChild(element);
    }
    return new CallKit(element, options);
  }

  /** Hooks can also be set after mounting (`kit.hooks.afterCalling = …`). */
  get hooks(): CallKitHooks {
    return this.#hooks;
  }

  /** Signs in (the engine's `init`) and starts ringing for this user. */
  async init(credentials: { userId: string; userSig: string }): Promise<void> {
    this.#check();
    this.#tones.unlock();
    await this.engine.init(credentials.userId, credentials.userSig);
    this.#view.attachUser(credentials.userId);
  }

  /** Calls one or more people; the kit shows the call until it ends. */
  async calls(userIds: string[], mediaType: CallMediaType, params?: CallParams): Promise<void> {
    this.#check();
    this.#tones.unlock();
    await this.#view.dial(userIds, mediaType, params);
  }

  /** Joins a running call this user was invited to (or moves the call to this device). */
  async join(callId: string): Promise<void> {
    this.#check();
    await this.engine.join(callId);
  }

  /**
   * Preview before video calls: `calls()` first shows the caller their camera and microphone level,
   * with the device menu, and places the call when they press Start (Cancel places nothing; `calls()`
   * resolves either way). Off by default: `calls()` places the call at once, and the camera and the
   * microphone level still show while it rings.
   */
  enablePreview(enable: boolean): void {
    this.#view.enablePreview(enable);
  }

  /** Switches every string of the kit: `en`, `zh-cn` or `ja`. */
  setLanguage(language: Language): void {
    switchLanguage(language);
  }

  /**
   * Offers minimising the call: a button for the draggable floating window inside the page, and,
   * where the browser has Document Picture-in-Picture, one for its always-on-top window.
   */
  enableFloatWindow(enable: boolean): void {
    this.#view.enableFloat(enable);
  }

  /** Minimises the current call to the floating window (`false`: back to full size from either window). */
  minimise(minimised = true): void {
    this.#view.setMinimised(minimised);
  }

  /**
   * Moves the current call into the browser's picture-in-picture window (Document
   * Picture-in-Picture), or into the floating window where the browser has none or refuses one.
   * Call it from a user gesture (a click handler): browsers open the window only then. Resolves
   * with where the call shows (`full` when no call is up).
   */
  popOut(): Promise<ViewMode> {
    return this.#view.popOut();
  }

  /** Where the call shows: `full`, `float` (floating window) or `pip` (picture-in-picture window). */
  get viewMode(): ViewMode {
    return this.#view.mode;
  }

  /** Plays `url` (looped) as the incoming-call ringtone; null restores the built-in tone. */
  setCallingBell(url: string | null): void {
    this.#tones.setBell(url);
  }

  /** Mute mode: calls ring silently (no ringtone, ringback or end tone). */
  enableMuteMode(enable: boolean): void {
    this.#tones.setMuted(enable);
  }

  /** Publishes this user's name and avatar (others see them when called). */
  async setSelfInfo(nickname: string, avatarUrl: string): Promise<void> {
    this.#check();
    await this.engine.setSelfInfo(nickname, avatarUrl);
    const userId = this.engine.userId;
    if (userId) this.profiles.remember({ userId, nickname, avatar: avatarUrl });
  }

  /** Removes the kit from the page; an engine the kit created is signed out. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#tones.stop();
    this.#view.destroy();
    this.element.remove();
    if (this.#ownEngine) await this.engine.unInit();
  }

  #check(): void {
    if (this.#destroyed) throw new Error('this CallKit was destroyed');
  }
}
