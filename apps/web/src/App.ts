/**
 * The page: sign-in, the home screen, and the call overlays, wired to one {@link CallEngine}.
 * Sign-in state, session renewal (onUserSigExpired), being signed in elsewhere (onKickedOffline)
 * and the connection banner live here; calls live in {@link CallController}.
 * @packageDocumentation
 */
import { CallEngine } from '@opencall/client';
import type { CallEngineError, CallMediaType, CallRecord } from '@opencall/client';
import { avatarDataUrl } from './avatar.js';
import { CallController } from './call/CallController.js';
import type { Phase } from './call/CallModel.js';
import { IncomingNotice } from './call/notify.js';
import { describeError } from './call/outcomes.js';
import { fetchUserSig } from './config.js';
import type { PageConfig } from './config.js';
import { trackedWebSocket } from './connection.js';
import { h, show } from './dom.js';
import { ProfileBook } from './profiles.js';
import { Tones } from './sounds.js';
import { CallScreen } from './ui/CallScreen.js';
import { HomeScreen } from './ui/HomeScreen.js';
import { IncomingScreen } from './ui/IncomingScreen.js';
import { InviteDialog } from './ui/InviteDialog.js';
import { OutcomeScreen } from './ui/OutcomeScreen.js';
import { SignInScreen } from './ui/SignInScreen.js';
import type { SignInInput } from './ui/SignInScreen.js';
import { Toasts } from './ui/Toasts.js';
import { loadIdentity, saveIdentity, lastSeenHistory, markHistorySeen } from './storage.js';
import { enableOfflinePush, listenForAcceptRequests } from './push/offlinePush.js';

/** The calling page. */
export class App {
  readonly #config: PageConfig;
  readonly #engine: CallEngine;
  readonly #profiles = new ProfileBook();
  readonly #tones = new Tones();
  readonly #toasts = new Toasts();
  readonly #signIn: SignInScreen;
  readonly #home: HomeScreen;
  readonly #incoming: IncomingScreen;
  readonly #call: CallScreen;
  readonly #outcome = new OutcomeScreen();
  readonly #invite: InviteDialog;
  readonly #reconnecting: HTMLElement;
  #calls: CallController | null = null;
  #identity: SignInInput | null = null;
  #signingOut = false;
  #records: CallRecord[] = [];
  #historyLoading: Promise<void> | null = null;
  #historyAgain = false;
  /** A call a notification's Accept asked this page to answer once it rings here. */
  #acceptRequested: string | null = null;

  constructor(root: HTMLElement, config: PageConfig) {
    this.#config = config;
    this.#engine = new CallEngine({
      serverUrl: config.serverUrl,
      sdkAppId: config.sdkAppId,
      WebSocket: trackedWebSocket((e) => this.#onLink(e)),
    });
    this.#signIn = new SignInScreen({ devMode: config.devMode, onSubmit: (input) => void this.signIn(input) });
    this.#home = new HomeScreen(this.#profiles, {
      onCall: (ids, type) => void this.#dial(ids, type),
      onDelete: (callId) => void this.#deleteRecord(callId),
      onSignOut: () => void this.signOut(),
      onShowHistory: () => {
        if (this.#identity) markHistorySeen(this.#identity.userId);
        void this.refreshHistory();
      },
    });
    this.#incoming = new IncomingScreen(this.#profiles, { onAccept: () => void this.#calls?.accept(), onReject: () => void this.#calls?.reject() });
    this.#call = new CallScreen(this.#profiles, {
      onHangup: () => void this.#calls?.hangup(),
      onToggleMic: () => void this.#calls?.toggleMic(),
      onToggleCamera: () => void this.#calls?.toggleCamera(),
      onSwitchToAudio: () => void this.#calls?.switchToAudio(),
      onInvite: () => this.#invite.open(this.#identity?.userId ?? ''),
      onRemoteView: (userId, video) => this.#calls?.showRemote(userId, video),
      onRemoteViewGone: (userId) => this.#calls?.hideRemote(userId),
    });
    this.#invite = new InviteDialog((ids) => void this.#calls?.invite(ids));
    this.#reconnecting = h('div', { class: 'reconnecting', attrs: { role: 'status' } }, h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Connection lost. Reconnecting…');
    const phone = h(
      'div',
      { class: 'phone' },
      config.devMode
        ? h('div', { class: 'dev-banner', attrs: { role: 'note' } }, h('strong', {}, 'Development mode'), ' — anyone can sign in as anyone. Do not expose this server.')
        : null,
      this.#reconnecting,
      h('div', { class: 'screens' }, this.#signIn.el, this.#home.el, this.#call.el, this.#incoming.el, this.#outcome.el),
      this.#toasts.el,
      this.#invite.el,
    );
    root.replaceChildren(phone);
    show(this.#reconnecting, false);
    this.#engine.addObserver({
      onKickedOffline: () => this.#signedOutByServer('You signed in on another device or tab, so this one was signed out.'),
      onUserSigExpired: () => void this.#renewSig(),
      onError: (code, message) => this.#onEngineError(code, message),
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
    const calls = this.#calls;
    if (calls?.model.phase === 'incoming' && calls.model.callId === callId) {
      this.#acceptRequested = null;
      void calls.accept();
    } else if (!this.#engine.isInitialized && saved) void this.signIn(saved);
  }

  /** Signs in with the given identity (the sign-in form's submit). */
  async signIn(input: SignInInput): Promise<void> {
    this.#tones.unlock();
    // A subscription is created only when the user grants notifications on this click (see offlinePush.ts).
    const askedNow = typeof Notification !== 'undefined' && Notification.permission === 'default';
    IncomingNotice.requestPermission();
    this.#signIn.setBusy(true);
    this.#signIn.setError('');
    try {
      const { userSig } = await fetchUserSig(this.#config, input.userId);
      // Listen before signing in: an invitation waiting for this user rings as soon as the device is online.
      this.#startCalls(input.userId);
      await this.#engine.init(input.userId, userSig);
      // Ring in every open tab/device of this user (servers with devicePolicy 'multi'); a no-op under 'kick'.
      await this.#engine.enableMultiDeviceAbility(true).catch(() => undefined);
      const avatar = avatarDataUrl(input.nickname, input.color);
      await this.#engine.setSelfInfo(input.nickname, avatar).catch(() => this.#toasts.show('Could not publish your name; others see your user ID.', 'warn'));
      this.#profiles.remember({ userId: input.userId, nickname: input.nickname, avatar });
      this.#profiles.setLoader((ids) => this.#engine.getUserProfiles(ids));
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
      if (!this.#engine.isInitialized) this.#stopCalls();
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
    this.#stopCalls();
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
        void this.#profiles.load(this.#records.flatMap((r) => [r.inviter, ...r.inviteList]));
        const seen = lastSeenHistory(self);
        const missed = this.#records.filter((r) => r.result === 'missed' && r.beginTime > seen).length;
        this.#home.setRecords(this.#records, missed);
      } while (this.#historyAgain);
    })().finally(() => {
      this.#historyLoading = null;
    });
    return this.#historyLoading;
  }

  #startCalls(selfId: string): void {
    this.#stopCalls();
    const calls = new CallController(selfId, {
      engine: this.#engine,
      profiles: this.#profiles,
      tones: this.#tones,
      toast: (text, tone) => this.#toasts.show(text, tone),
      localVideo: () => this.#call.localVideo,
      onCallFinished: () => {
        // The server writes the record as the call ends; ask a moment later.
        setTimeout(() => void this.refreshHistory(), 300);
      },
    });
    calls.onPendingChange = (control, pending) => {
      if (control === 'answer') this.#incoming.setBusy(pending);
      else this.#call.setPending(control, pending);
    };
    this.#engine.addObserver(calls.observer);
    calls.model.subscribe((change) => {
      if (change === 'phase') this.#onPhase(calls.model.phase);
    });
    this.#call.attach(calls.model);
    this.#calls = calls;
  }

  #stopCalls(): void {
    const calls = this.#calls;
    if (!calls) return;
    this.#engine.removeObserver(calls.observer);
    calls.reset();
    this.#call.detach();
    this.#invite.close();
    this.#calls = null;
  }

  #onPhase(phase: Phase): void {
    const calls = this.#calls;
    if (!calls) return;
    const m = calls.model;
    switch (phase) {
      case 'incoming':
        this.#outcome.cancel();
        this.#incoming.show(m.callerId, m.invitees.filter((u) => u !== m.selfId), m.mediaType);
        this.#screen('incoming');
        this.#incoming.focus();
        if (this.#acceptRequested !== null && this.#acceptRequested === m.callId) {
          this.#acceptRequested = null;
          void calls.accept();
        }
        break;
      case 'outgoing':
      case 'connected':
        this.#screen('call');
        this.#call.focus();
        break;
      case 'ended': {
        this.#invite.close();
        const again = m.isCaller && calls.lastDial ? calls.lastDial : null;
        const outcome = m.outcome ?? { title: 'Call ended', detail: '', tone: 'neutral' as const };
        this.#outcome.show(outcome, {
          autoCloseMs: outcome.tone === 'neutral' ? 2500 : 5000,
          onDone: () => calls.dismiss(),
          ...(again && outcome.tone !== 'neutral' ? { onAgain: () => void this.#dial(again.userIds, again.mediaType) } : {}),
        });
        this.#screen('outcome');
        this.#outcome.focus();
        break;
      }
      case 'idle':
        this.#screen(this.#identity && this.#engine.isInitialized ? 'home' : 'signin');
        break;
    }
  }

  async #dial(userIds: string[], mediaType: CallMediaType): Promise<void> {
    await this.#calls?.dial(userIds, mediaType);
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
    this.#stopCalls();
    show(this.#reconnecting, false);
    this.#signIn.setNotice(notice);
    if (this.#identity) this.#signIn.prefill(this.#identity);
    this.#screen('signin');
    this.#signIn.focus();
  }

  #onLink(event: 'up' | 'down'): void {
    const lost = event === 'down' && this.#engine.isInitialized && !this.#signingOut;
    show(this.#reconnecting, lost);
    this.#home.setLink(lost ? 'reconnecting' : 'online');
  }

  #screen(name: 'signin' | 'home' | 'incoming' | 'call' | 'outcome'): void {
    show(this.#signIn.el, name === 'signin');
    // Home stays underneath the overlays so closing one returns to it without a redraw.
    show(this.#home.el, name !== 'signin');
    show(this.#incoming.el, name === 'incoming');
    show(this.#call.el, name === 'call');
    show(this.#outcome.el, name === 'outcome');
    if (name !== 'incoming' && name !== 'call') this.#tones.stop();
  }
}
