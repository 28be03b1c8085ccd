/**
 * The page: sign-in, the home screen (dialer and history) and the connection banner, around the
 * call kit (`@opencall/callkit`), which shares the page's engine and shows every call screen.
 * Sign-in state, session renewal (onUserSigExpired) and being signed in elsewhere
 * (onKickedOffline) live here; calls live in the kit.
 * @packageDocumentation
 */
import { CallEngine } from '@opencall/client';
import type { CallEngineError, CallMediaType, CallRecord, ConnectionState } from '@opencall/client';
import { CallKit } from '@opencall/callkit';
import { IncomingNotice, Toasts, avatarDataUrl, describeError, h, show } from '@opencall/callkit/parts';
import { fetchUserSig } from './config.js';
import type { PageConfig } from './config.js';
import { CallDetails } from './ui/CallDetails.js';
import { HomeScreen } from './ui/HomeScreen.js';
import { SignInScreen } from './ui/SignInScreen.js';
import type { SignInInput } from './ui/SignInScreen.js';
import { loadIdentity, saveIdentity, lastSeenHistory, markHistorySeen, loadPreviewChoice, savePreviewChoice } from './storage.js';
import { enableOfflinePush, listenForAcceptRequests } from './push/offlinePush.js';

/** The calling page. */
export class App {
  readonly #config: PageConfig;
  readonly #engine: CallEngine;
  readonly #kit: CallKit;
  readonly #toasts = new Toasts();
  readonly #signIn: SignInScreen;
  readonly #home: HomeScreen;
  readonly #details: CallDetails;
  readonly #reconnecting: HTMLElement;
  #identity: SignInInput | null = null;
  #signingOut = false;
  #records: CallRecord[] = [];
  #historyLoading: Promise<void> | null = null;
  #historyAgain = false;
  /** A call a notification's Accept asked this page to answer once it rings here. */
  #acceptRequested: string | null = null;

  /** Builds the page into `root`: the kit mounts into the phone frame over the home screen. */
  static async create(root: HTMLElement, config: PageConfig): Promise<App> {
    const engine = new CallEngine({ serverUrl: config.serverUrl, sdkAppId: config.sdkAppId });
    const screens = h('div', { class: 'screens' });
    const kit = await CallKit.mount(screens, { engine, fill: 'element', preview: loadPreviewChoice() });
    // A call can float (or go to the browser's picture-in-picture window) while history is browsed.
    kit.enableFloatWindow(true);
    return new App(root, config, engine, kit, screens);
  }

  private constructor(root: HTMLElement, config: PageConfig, engine: CallEngine, kit: CallKit, screens: HTMLElement) {
    this.#config = config;
    this.#engine = engine;
    this.#kit = kit;
    this.#signIn = new SignInScreen({ devMode: config.devMode, onSubmit: (input) => void this.signIn(input) });
    this.#home = new HomeScreen(kit.profiles, {
      onCall: (ids, type) => void this.#dial(ids, type),
      onDelete: (callId) => void this.#deleteRecord(callId),
      onDetails: (record, opener) => void this.#showDetails(record, opener),
      onSignOut: () => void this.signOut(),
      onPreviewChange: (preview) => {
        savePreviewChoice(preview);
        kit.enablePreview(preview);
      },
      onShowHistory: () => {
        if (this.#identity) markHistorySeen(this.#identity.userId);
        void this.refreshHistory();
      },
    });
    this.#reconnecting = h('div', { class: 'reconnecting', attrs: { role: 'status' } }, h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Connection lost. Reconnecting…');
    this.#home.setPreview(loadPreviewChoice());
    this.#details = new CallDetails(kit.profiles);
    screens.prepend(this.#signIn.el, this.#home.el, this.#details.el);
    const phone = h(
      'div',
      { class: 'phone' },
      config.devMode
        ? h('div', { class: 'dev-banner', attrs: { role: 'note' } }, h('strong', {}, 'Development mode'), ' — anyone can sign in as anyone. Do not expose this server.')
        : null,
      this.#reconnecting,
      screens,
      this.#toasts.el,
    );
    root.replaceChildren(phone);
    show(this.#reconnecting, false);
    engine.on('connectionStateChanged', ({ state }) => this.#onLink(state));
    engine.addObserver({
      onKickedOffline: () => this.#signedOutByServer('You signed in on another device or tab, so this one was signed out.'),
      onUserSigExpired: () => void this.#renewSig(),
      onError: (code, message) => this.#onEngineError(code, message),
      // The server writes the record as the call ends; ask a moment later.
      onCallEnd: () => this.#historySoon(),
      onCallNotConnected: () => this.#historySoon(),
      // A notification's Accept that arrived before this page rang: answer as soon as it does.
      onCallReceived: (callId) => {
        if (this.#acceptRequested !== callId) return;
        this.#acceptRequested = null;
        void this.#engine.accept().catch(() => undefined);
      },
    });
    this.#screen('signin');
    const saved = loadIdentity();
    if (saved) this.#signIn.prefill(saved);
    this.#signIn.focus();
    listenForAcceptRequests((callId) => this.#acceptFromNotification(callId, this.#identity ?? loadIdentity()));
  }

  /** Accept on a push notification: sign in with the remembered identity if needed, then answer when it rings. */
  #acceptFromNotification(callId: string, saved: SignInInput | null): void {
    this.#acceptRequested = callId;
    if (this.#engine.isInitialized) {
      // Ringing here already: answer now (the kit's ring screen follows the engine's events).
      this.#engine.accept().then(
        () => void (this.#acceptRequested = null),
        () => undefined,
      );
    } else if (saved) void this.signIn(saved);
  }

  /** Signs in with the given identity (the sign-in form's submit). */
  async signIn(input: SignInInput): Promise<void> {
    // A subscription is created only when the user grants notifications on this click (see offlinePush.ts).
    const askedNow = typeof Notification !== 'undefined' && Notification.permission === 'default';
    IncomingNotice.requestPermission();
    this.#signIn.setBusy(true);
    this.#signIn.setError('');
    try {
      const { userSig } = await fetchUserSig(this.#config, input.userId);
      await this.#kit.init({ userId: input.userId, userSig });
      // Ring in every open tab/device of this user (servers with devicePolicy 'multi'); a no-op under 'kick'.
      await this.#engine.enableMultiDeviceAbility(true).catch(() => undefined);
      await this.#kit.setSelfInfo(input.nickname, avatarDataUrl(input.nickname, input.color)).catch(() => this.#toasts.show('Could not publish your name; others see your user ID.', 'warn'));
      this.#identity = input;
      saveIdentity(input);
      this.#home.setSelf(input.userId);
      this.#home.setLink('online');
      this.#signIn.setNotice('');
      this.#screen('home');
      this.#home.focusDialer();
      // Ring this browser by push while the page is closed (permission was asked on the sign-in click).
      void enableOfflinePush(this.#engine, askedNow);
      await this.refreshHistory();
    } catch (err) {
      const code = (err as CallEngineError).code;
      this.#signIn.setError(typeof code === 'number' ? describeError(code, (err as Error).message) : (err as Error).message);
    } finally {
      this.#signIn.setBusy(false);
    }
  }

  /** Signs out and returns to the sign-in screen. */
  async signOut(): Promise<void> {
    this.#signingOut = true;
    try {
      await this.#engine.unInit();
    } finally {
      this.#signingOut = false;
    }
    this.#screen('signin');
    this.#signIn.focus();
  }

  /** Reloads the history list (queued: at most one query runs, one more follows if asked meanwhile). */
  refreshHistory(): Promise<void> {
    if (this.#historyLoading) {
      this.#historyAgain = true;
      return this.#historyLoading;
    }
    this.#historyLoading = (async () => {
      do {
        this.#historyAgain = false;
        const self = this.#identity?.userId;
        if (!self || !this.#engine.isInitialized) return;
        try {
          this.#records = await this.#engine.queryRecentCalls({ limit: 100 });
        } catch {
          continue;
        }
        void this.#kit.profiles.load(this.#records.flatMap((r) => [r.inviter, ...r.inviteList]));
        const seen = lastSeenHistory(self);
        const missed = this.#records.filter((r) => r.result === 'missed' && r.beginTime > seen).length;
        this.#home.setRecords(this.#records, missed);
      } while (this.#historyAgain);
    })().finally(() => {
      this.#historyLoading = null;
    });
    return this.#historyLoading;
  }

  #historySoon(): void {
    setTimeout(() => void this.refreshHistory(), 300);
  }

  async #dial(userIds: string[], mediaType: CallMediaType): Promise<void> {
    await this.#kit.calls(userIds, mediaType);
  }

  /** A history row's "Details": the call's delivery trace from the server, in plain words. */
  async #showDetails(record: CallRecord, opener: HTMLElement): Promise<void> {
    const self = this.#identity?.userId;
    if (!self) return;
    this.#details.open(record, { userId: self, deviceId: this.#engine.deviceId }, opener);
    try {
      const steps = await this.#engine.getCallTrace(record.callId);
      void this.#kit.profiles.load(steps.map((s) => s.userId));
      this.#details.setTrace(record.callId, steps);
    } catch (err) {
      const code = (err as CallEngineError).code;
      this.#details.setError(record.callId, typeof code === 'number' ? describeError(code, (err as Error).message) : (err as Error).message);
    }
  }

  async #deleteRecord(callId: string): Promise<void> {
    try {
      await this.#engine.deleteRecordCalls([callId]);
      this.#toasts.show('Call deleted from your history');
    } catch (err) {
      this.#toasts.show(describeError((err as CallEngineError).code, (err as Error).message), 'error');
    }
    await this.refreshHistory();
  }

  /** onUserSigExpired: fetch a fresh sig and re-authenticate in place (the call goes on). */
  async #renewSig(): Promise<void> {
    const id = this.#identity;
    if (!id) return;
    try {
      const { userSig } = await fetchUserSig(this.#config, id.userId);
      await this.#engine.init(id.userId, userSig);
      this.#toasts.show('Session renewed');
    } catch {
      this.#toasts.show('Your session expired and could not be renewed. Sign in again after this call.', 'error', 8000);
    }
  }

  #onEngineError(code: number, message: string): void {
    // A failed reconnection ends the session: the engine is no longer initialised.
    if (this.#identity && !this.#engine.isInitialized && !this.#signingOut) {
      this.#signedOutByServer(`The connection to the server was lost (${describeError(code, message)}). Sign in again.`);
      return;
    }
    this.#toasts.show(describeError(code, message), 'error');
  }

  #signedOutByServer(notice: string): void {
    show(this.#reconnecting, false);
    this.#signIn.setNotice(notice);
    if (this.#identity) this.#signIn.prefill(this.#identity);
    this.#screen('signin');
    this.#signIn.focus();
  }

  #onLink(state: ConnectionState): void {
    const lost = state === 'reconnecting';
    show(this.#reconnecting, lost);
    this.#home.setLink(lost ? 'reconnecting' : 'online');
  }

  #screen(name: 'signin' | 'home'): void {
    if (name !== 'home') this.#details.close();
    show(this.#signIn.el, name === 'signin');
    show(this.#home.el, name === 'home');
  }
}
