/**
 * One signed-in session of the engine (init → unInit): its signaling connection, its call store,
 * and the handling of everything the server pushes. Server events are applied to the store, then
 * fired to observers, then handed to media, always in that order, so an observer reading engine
 * state sees the event it is being told about.
 *
 * The session never holds the engine: it reports its own end through `onEnded`, and its events
 * go out through the shared {@link EventHub}.
 * @packageDocumentation
 */
import { CallEndReason, CallStatus } from '@opencall/protocol/wire';
import type { AuthResult, ClientMessageData, ClientMessageType, ServerEvent } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';
import type { ConnectionState, EventHub } from '../events.js';
import type { MediaController } from '../media/MediaController.js';
import type { MediaCallContext } from '../media/MediaAdapter.js';
import type { ResolvedOptions } from '../options.js';
import { SignalingClient } from '../signaling/SignalingClient.js';
import type { RequestOptions } from '../signaling/RequestTracker.js';
import { CallStore } from '../state/CallStore.js';
import type { CallSnapshot } from '../state/CallStore.js';

/** How long `unInit` spends on its goodbye (hang up, sign out) before closing anyway: signing out finishes within 1 s. */
const SIGN_OUT_BUDGET_MS = 800;

/** What a session needs from the engine. */
export interface SessionDeps {
  readonly options: ResolvedOptions;
  readonly hub: EventHub;
  readonly media: MediaController;
  /** Called once when the session ends by itself (kicked, or reconnection refused). */
  readonly onEnded: (session: EngineSession) => void;
}

/** A signed-in session: signaling + current call. */
export class EngineSession {
  /** The signed-in user. */
  readonly userId: string;
  /** The current call. */
  readonly store = new CallStore();
  readonly #signaling: SignalingClient;
  readonly #deps: SessionDeps;
  #multiDevice = false;
  #ended = false;
  #kickReported = false;
  #link: ConnectionState = 'disconnected';

  /** Creates the session; {@link open} connects it. */
  constructor(userId: string, deps: SessionDeps) {
    this.userId = userId;
    this.#deps = deps;
    const o = deps.options;
    this.#signaling = new SignalingClient({
      urls: o.signalingUrls,
      WebSocket: o.WebSocket,
      requestTimeoutMs: o.requestTimeoutMs,
      reconnectWaitMs: o.reconnectWaitMs,
      reconnectInitialDelayMs: o.reconnectInitialDelayMs,
      reconnectMaxDelayMs: o.reconnectMaxDelayMs,
      logger: o.logger,
    });
    const s = this.#signaling;
    s.on('event', ({ event, seq }) => this.#onServerEvent(event, seq));
    s.on('disconnected', () => this.#setLink('reconnecting'));
    s.on('sessionLost', () => {
      this.#endCallLocally();
      this.#setLink('connected');
    });
    // The network may have changed under the media too: its connections restart ICE.
    s.on('resumed', () => {
      this.#setLink('connected');
      this.#deps.media.signalingResumed();
    });
    s.on('kicked', () => this.#onKicked());
    s.on('failed', ({ error }) => this.#onReconnectRefused(error));
    s.on('protocolError', ({ code, message }) => deps.hub.emit('onError', code, message));
  }

  /** True until the session was closed or ended by itself. */
  get isLive(): boolean {
    return !this.#ended;
  }

  /** The latest auth answer (limits, ICE servers, device policy). */
  get auth(): AuthResult | null {
    return this.#signaling.authResult;
  }

  /** Connects and signs in; rejects with -1401 or the server's refusal code. */
  async open(userSig: string): Promise<void> {
    const o = this.#deps.options;
    await this.#signaling.connect({
      sdkAppId: o.sdkAppId,
      userId: this.userId,
      userSig,
      deviceId: o.deviceId,
      multiDevice: this.#multiDevice,
    });
    this.#setLink('connected');
  }

  /** Re-authenticates in place with a fresh UserSig; no events, the call goes on. */
  async reauth(userSig: string): Promise<void> {
    await this.#signaling.reauth(userSig);
  }

  /** Sends a request of this session. */
  request<T extends ClientMessageType>(type: T, data: ClientMessageData<T>, options?: RequestOptions): Promise<unknown> {
    if (this.#ended) return Promise.reject(CallEngineError.notInitialized());
    return this.#signaling.request(type, data, options);
  }

  /** Opts this device in or out of multi-device ringing, now and on every reconnection. */
  async setMultiDevice(enable: boolean): Promise<void> {
    await this.request('device.multi', { enable });
    this.#multiDevice = enable;
    this.#signaling.setMultiDevice(enable);
  }

  /**
   * Signs out: hangs up a current call first (best effort) so peers see an ordinary hangup rather
   * than an `offline` leave a heartbeat timeout later; the server's end events fire as usual.
   */
  async close(): Promise<void> {
    if (this.#ended) return;
    // The goodbye is best effort and bounded: with the server unreachable a request would wait for
    // a reconnection (or its timeout) for many seconds, and signing out must not. The server then
    // settles the call by heartbeat.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const budget = new Promise<void>((resolve) => (timer = setTimeout(resolve, SIGN_OUT_BUDGET_MS)));
    await Promise.race([this.#goodbye(), budget]);
    clearTimeout(timer);
    this.#end(CallEngineError.notInitialized('the engine was uninitialised'));
  }

  /** Hangs up the current call, then signs the device out, while the connection is open. */
  async #goodbye(): Promise<void> {
    const callId = this.store.callId;
    const now = { waitForConnection: false, resend: false };
    if (callId && this.#signaling.state === 'open') {
      await this.request('call.hangup', { callId }, now).catch((err: unknown) =>
        this.#deps.options.logger.warn('hangup on unInit failed', { callId, error: String(err) }),
      );
    }
    // Sign the device out now so presence (ringing, pending invitations) does not wait for the
    // heartbeat window.
    if (this.#signaling.state === 'open') {
      await this.request('logout', {}, now).catch((err: unknown) =>
        this.#deps.options.logger.warn('logout on unInit failed', { error: String(err) }),
      );
    }
  }

  #end(error: CallEngineError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#signaling.close(error);
    this.store.clear();
    this.#deps.media.stop();
    this.#setLink('disconnected');
  }

  /** Reports a change of the link to the application (onConnectionStateChanged), once per change. */
  #setLink(state: ConnectionState): void {
    if (this.#link === state) return;
    this.#link = state;
    this.#deps.hub.emit('onConnectionStateChanged', state);
  }

  #onServerEvent(event: ServerEvent, seq: number): void {
    const { hub, media, options } = this.#deps;
    options.logger.debug('event', { name: event.name, seq, callId: 'callId' in event ? event.callId : undefined });
    if (event.name === 'media.signal' || event.name === 'media.topology') {
      media.handleEvent(event);
      return;
    }
    // A leg ends once: after this device ended a call itself (the session was lost), the server's
    // own end of it may still arrive (replayed from storage after a server crash). Drop it.
    if ((event.name === 'onCallEnd' || event.name === 'onCallNotConnected') && this.store.hasEnded(event.callId) && this.store.callId !== event.callId) {
      options.logger.debug('end of a call that already ended here dropped', { callId: event.callId, seq });
      return;
    }
    this.store.apply(event);
    // The delivery trace's `received` step (SPEC §9): the app is told about the call on this device.
    // Sent before the observers run, so an observer that answers at once is traced received → accepted.
    if (event.name === 'onCallReceived') this.#signaling.notify('call.received', { callId: event.callId });
    hub.emitServerEvent(event);
    media.handleEvent(event);
    // The store's live view: a snapshot (a copy) is only made when media starts.
    media.sync(this.store.progress, () => this.#mediaContext(this.store.snapshot()!));
    // A 1-to-1 call's topology comes inside its begin event: the adapter gets it as it would a
    // `media.topology` event, once its call has started.
    if (event.name === 'onCallBegin' && event.topology) media.handleEvent({ name: 'media.topology', callId: event.callId, mode: event.topology });
    if (event.name === 'onKickedOffline') this.#onKicked();
  }

  /**
   * Kicked (the event, or the server's close 4000 when the event was lost): the server has sent the
   * final call events already; report onKickedOffline once and end the session (→ -1201).
   */
  #onKicked(): void {
    if (!this.#kickReported) {
      this.#kickReported = true;
      if (this.#signaling.state === 'closed') {
        // Only the close arrived, not the events before it: end the call here and tell the
        // application itself, in the order the server would have.
        this.#endCallLocally();
        this.#deps.hub.emit('onKickedOffline');
      }
    }
    this.#end(CallEngineError.notInitialized('kicked offline: another sign-in replaced this device'));
    this.#deps.onEnded(this);
  }

  #onReconnectRefused(error: CallEngineError): void {
    this.#endCallLocally();
    this.#deps.hub.emit('onError', error.code, `reconnection refused: ${error.message}`);
    this.#end(error);
    this.#deps.onEnded(this);
  }

  /**
   * The server ended this device's calls as `offline` while it was away and could not tell it:
   * emit the final event here so nothing stays ringing or connected in the application.
   */
  #endCallLocally(): void {
    const call = this.store.clear();
    this.#deps.media.stop();
    if (!call) return;
    const { hub } = this.#deps;
    const self = this.userId;
    if (call.status === CallStatus.accept) {
      hub.emit('onCallEnd', call.callId, call.mediaType, CallEndReason.offline, self, 0, call.info);
    } else {
      hub.emit('onCallNotConnected', call.callId, call.mediaType, CallEndReason.offline, self, call.info);
      hub.emit('onCallCancelled', self);
    }
  }

  #mediaContext(call: CallSnapshot): MediaCallContext {
    const { callId } = call;
    return {
      callId,
      selfId: this.userId,
      mediaType: call.mediaType,
      scene: call.scene,
      peers: call.connectedUserIds,
      iceServers: this.auth?.iceServers ?? [],
      sendSignal: async (to, signal) => {
        await this.request('media.signal', { callId, to, signal });
      },
      sendState: async (audio, video, connected) => {
        await this.request('media.state', connected ? { callId, audio, video, connected } : { callId, audio, video });
      },
      emit: (name, ...args) => this.#deps.hub.emit(name, ...args),
      logger: this.#deps.options.logger,
    };
  }
}
