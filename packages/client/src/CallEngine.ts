/**
 * `CallEngine`: the TUICallEngine-compatible facade. It validates arguments, runs every public
 * method through one {@link SerialQueue} (same method twice → -1204, different methods in call
 * order), and delegates: signaling and call state to the {@link EngineSession} of the current
 * sign-in, devices and views to the media adapter, events to the {@link EventHub}. It decides no
 * call outcome: the server does, and its events reach observers before the request that caused
 * them resolves.
 * @packageDocumentation
 */
import { CallRole, CallStatus, Camera } from '@opencall/protocol/wire';
import type {
  AudioPlaybackDevice,
  CallMediaType,
  CallParams,
  CallRecord,
  CallTraceStep,
  PushTarget,
  RecentCallsFilter,
  UserProfile,
} from '@opencall/protocol/wire';
import { resolveOptions } from './defaults.js';
import { CallEngineError } from './errors.js';
import { EventHub, fullEventName } from './events.js';
import type { AnyCallEventName, CallEventName, CallEventOfShortName, CallEventPayloads, CallEventShortName, CallObserver } from './events.js';
import { MediaController } from './media/MediaController.js';
import type { DeviceInfo, DeviceKind, MediaView, VideoEncoderParams, VideoRenderParams } from './media/MediaAdapter.js';
import type { CallEngineOptions, ResolvedOptions } from './options.js';
import { EngineSession } from './session/EngineSession.js';
import { parseCallId, parseIdList, parseProfiles, parseRecords, parseTrace } from './signaling/responses.js';
import type { CallSnapshot } from './state/CallStore.js';
import { SerialQueue } from './util/SerialQueue.js';
import type { Unsubscribe } from './util/TypedEmitter.js';
import {
  checkBoolean,
  checkCallId,
  checkCallIdList,
  checkPushTarget,
  checkCallParams,
  checkCallees,
  checkDeviceKind,
  checkMediaType,
  checkRecentCallsFilter,
  checkText,
  checkUserId,
  checkUserIdList,
} from './validation.js';

/**
 * The calling engine of one app instance (one user, one device at a time).
 *
 * ```ts
 * const engine = new CallEngine({ serverUrl: 'http://localhost:3000', sdkAppId: 1400000000 });
 * engine.addObserver({ onCallReceived: (callId, callerId) => engine.accept() });
 * await engine.init('alice', userSig);
 * const { callId } = await engine.calls(['bob'], CallMediaType.video);
 * ```
 */
export class CallEngine {
  readonly #options: ResolvedOptions;
  readonly #hub = new EventHub();
  readonly #queue = new SerialQueue((method) => CallEngineError.operationInProgress(method));
  readonly #media: MediaController;
  #session: EngineSession | null = null;

  /** Validates options once (-1202 on a bad one); connects nothing until {@link init}. */
  constructor(options: CallEngineOptions) {
    this.#options = resolveOptions(options);
    this.#media = new MediaController(this.#options.media, this.#options.logger);
    this.#media.adapter.watchDevices?.(() => this.#hub.emit('onDeviceListChanged'));
  }

  /** This engine instance's device id (given in the options, or generated once per instance). */
  get deviceId(): string {
    return this.#options.deviceId;
  }

  /** The signed-in user, or null when not initialised. */
  get userId(): string | null {
    return this.#session?.userId ?? null;
  }

  /** True between a successful `init` and `unInit` (or being kicked offline). */
  get isInitialized(): boolean {
    return this.#session !== null;
  }

  /** A copy of the current call as this device knows it, or null. */
  get currentCall(): CallSnapshot | null {
    return this.#session?.store.snapshot() ?? null;
  }

  /**
   * Signs in. Again on a live engine: the same user with a fresh sig re-authenticates in place (no
   * events, the call goes on); another user → -1203 while in a call, otherwise an implicit
   * `unInit` first. Rejects with -1202 for a bad user id, -1401 when the server is unreachable, or
   * the server's UserSig refusal code (70001, 70003, 70013, 70014).
   */
  init(userId: string, userSig: string): Promise<void> {
    return this.#queue.run('init', async () => {
      checkUserId(userId);
      if (typeof userSig !== 'string' || userSig === '') throw CallEngineError.invalidParameter('userSig must be a non-empty string');
      const current = this.#session;
      if (current?.userId === userId) return current.reauth(userSig);
      if (current) {
        if (current.store.isInCall) throw CallEngineError.stateRefused(`${current.userId} is in a call: hang up before signing in as another user`);
        await this.#closeSession();
      }
      const session = new EngineSession(userId, {
        options: this.#options,
        hub: this.#hub,
        media: this.#media,
        onEnded: (s) => {
          if (this.#session === s) this.#session = null;
        },
      });
      this.#session = session;
      try {
        await session.open(userSig);
      } catch (err) {
        if (this.#session === session) this.#session = null;
        throw err;
      }
    });
  }

  /** Signs out (hanging up a current call first). Resolves at once when not initialised. */
  unInit(): Promise<void> {
    return this.#queue.run('unInit', () => this.#closeSession());
  }

  /** Adds an observer (any subset of {@link CallObserver}); returns a function that removes it. Observers survive unInit → init. */
  addObserver(observer: Partial<CallObserver>): Unsubscribe {
    return this.#hub.addObserver(observer);
  }

  /** Removes an observer added with {@link addObserver}. */
  removeObserver(observer: Partial<CallObserver>): void {
    this.#hub.removeObserver(observer);
  }

  /**
   * Listens to one event with a single payload object (`{ callId, mediaType, info }`…); returns
   * its remover. The name is the observer's (`onCallReceived`) or its short form (`callReceived`,
   * `connectionStateChanged`, `deviceListChanged`).
   */
  on<N extends CallEventName>(name: N, handler: (payload: CallEventPayloads[N]) => void): Unsubscribe;
  on<S extends CallEventShortName>(name: S, handler: (payload: CallEventPayloads[CallEventOfShortName<S>]) => void): Unsubscribe;
  on(name: AnyCallEventName, handler: (payload: CallEventPayloads[CallEventName]) => void): Unsubscribe {
    return this.#hub.on(fullEventName(name), handler);
  }

  /**
   * Calls one user (1-to-1) or several (multi). Resolves with the callId; the callees ring. Rejects
   * with -1202 for an empty list, yourself, bad ids, more than `maxParticipants` people or a media
   * type other than audio/video. Glare: if one of them is already ringing you with a 1-to-1 call,
   * that call is accepted instead and its callId returned.
   */
  calls(userIdList: string[], mediaType: CallMediaType, params?: CallParams): Promise<{ callId: string }> {
    return this.#run('calls', (s) => this.#startCall(s, userIdList, mediaType, params));
  }

  /** @deprecated Use {@link calls}: `call(userId, …)` is `calls([userId], …)`. */
  call(userId: string, mediaType: CallMediaType, params?: CallParams): Promise<{ callId: string }> {
    return this.#run('call', (s) => this.#startCall(s, [userId], mediaType, params));
  }

  /** Accepts the call ringing on this device (-1203 when nothing rings). */
  accept(): Promise<void> {
    return this.#run('accept', (s) => this.#answer(s, 'call.accept'));
  }

  /** Rejects the call ringing on this device (-1203 when nothing rings). */
  reject(): Promise<void> {
    return this.#run('reject', (s) => this.#answer(s, 'call.reject'));
  }

  /** Stops ringing on this device; the caller sees busy once every ringing device ignored (-1203 when nothing rings). */
  ignore(): Promise<void> {
    return this.#run('ignore', (s) => this.#answer(s, 'call.ignore'));
  }

  /** Hangs up, cancels (caller while ringing) or rejects (callee while ringing). No call: resolves as a no-op. */
  hangup(): Promise<void> {
    return this.#run('hangup', async (s) => {
      const callId = s.store.callId;
      if (!callId) return;
      try {
        await s.request('call.hangup', { callId });
      } catch (err) {
        // The call ended while the request was underway (e.g. the session could not be resumed
        // and ended it as offline): nothing is left to hang up.
        if (s.store.callId !== callId) return;
        throw err;
      }
    });
  }

  /**
   * Invites more users into the current call (connected participants only, -1203 otherwise).
   * Resolves with the ids actually invited (busy ones included; duplicates and members dropped).
   */
  inviteUser(userIdList: string[], params?: CallParams): Promise<string[]> {
    return this.#run('inviteUser', async (s) => {
      const userIds = checkUserIdList(userIdList, 64);
      const p = checkCallParams(params);
      const callId = this.#requireCall(s);
      const invite: { userData?: string; timeout?: number; offlinePushInfo?: CallParams['offlinePushInfo'] } = {};
      if (p?.userData !== undefined) invite.userData = p.userData;
      if (p?.timeout !== undefined) invite.timeout = p.timeout;
      if (p?.offlinePushInfo !== undefined) invite.offlinePushInfo = p.offlinePushInfo;
      const data = await s.request('call.invite', { callId, userIds, params: invite });
      return parseIdList(data, 'userIds', 'call.invite');
    });
  }

  /** Joins a running call you were invited to (or moves your call to this device). Malformed id → -1202. */
  join(callId: string): Promise<void> {
    return this.#run('join', async (s) => {
      await s.request('call.join', { callId: checkCallId(callId) });
    });
  }

  /** Switches the connected 1-to-1 call between audio and video (-1202 same type, -1205 multi/group). */
  switchCallMediaType(mediaType: CallMediaType): Promise<void> {
    return this.#run('switchCallMediaType', async (s) => {
      const type = checkMediaType(mediaType);
      const callId = this.#requireCall(s);
      if (s.store.mediaType === type) throw CallEngineError.invalidParameter('the call already has this media type');
      const scene = s.store.scene;
      if (scene === 'multi' || scene === 'group') throw CallEngineError.notSupportedInScene(`cannot switch media type in a ${scene} call`);
      if (s.store.status !== CallStatus.accept) throw CallEngineError.stateRefused('the call is not connected');
      await s.request('call.switchMediaType', { callId, mediaType: type });
    });
  }

  /** Sets your nickname and avatar URL (shown to others as `callerProfile` and by getUserProfiles). */
  setSelfInfo(nickname: string, avatarUrl: string): Promise<void> {
    return this.#run('setSelfInfo', async (s) => {
      const data = { nickname: checkText(nickname, 128, 'nickname'), avatar: checkText(avatarUrl, 2048, 'avatarUrl') };
      await s.request('profile.set', data);
    });
  }

  /** Reads users' profiles (at most 100 ids). */
  getUserProfiles(userIds: string[]): Promise<UserProfile[]> {
    return this.#run('getUserProfiles', async (s) => {
      const data = await s.request('profile.get', { userIds: checkUserIdList(userIds, 100, 'userIds') });
      return parseProfiles(data);
    });
  }

  /** Opts this device in or out of ringing together with your other devices (policy `multi`). */
  enableMultiDeviceAbility(enable: boolean): Promise<void> {
    return this.#run('enableMultiDeviceAbility', (s) => s.setMultiDevice(checkBoolean(enable, 'enable')));
  }

  /** Your recent call records, newest first. */
  queryRecentCalls(filter?: RecentCallsFilter): Promise<CallRecord[]> {
    return this.#run('queryRecentCalls', async (s) => parseRecords(await s.request('records.query', checkRecentCallsFilter(filter))));
  }

  /** Deletes your copies of call records; resolves with the ids deleted. */
  deleteRecordCalls(callIds: string[]): Promise<string[]> {
    return this.#run('deleteRecordCalls', async (s) => {
      const data = await s.request('records.delete', { callIds: checkCallIdList(callIds) });
      return parseIdList(data, 'callIds', 'records.delete');
    });
  }

  /**
   * Registers this device for offline pushes (SPEC §9): a Web Push subscription
   * (`{ type: 'webpush', subscription: sub.toJSON() }`), an FCM token or an APNs token. Calls then
   * ring it through the provider while the app is closed. Invalid target → -1202.
   */
  registerPush(target: PushTarget): Promise<void> {
    return this.#run('registerPush', async (s) => {
      await s.request('push.register', { target: checkPushTarget(target) });
    });
  }

  /** Removes a push registration; resolves with whether it was registered. */
  unregisterPush(target: PushTarget): Promise<boolean> {
    return this.#run('unregisterPush', async (s) => {
      const data = await s.request('push.unregister', { target: checkPushTarget(target) });
      return (data as { removed?: unknown } | undefined)?.removed === true;
    });
  }

  /**
   * The delivery trace of a call you were part of (SPEC §9): per invitee, in order, the devices
   * rung, each push with provider/status/latency, `received`, `notification.shown` and the outcome.
   * A call you were not in → -1203.
   */
  getCallTrace(callId: string): Promise<CallTraceStep[]> {
    return this.#run('getCallTrace', async (s) => parseTrace(await s.request('call.trace', { callId: checkCallId(callId) })));
  }

  /** Opens the camera (front by default), rendering the local preview into `view`. */
  openCamera(camera: Camera = Camera.front, view?: MediaView): Promise<void> {
    return this.#runMedia('openCamera', (m) => m.openCamera(camera, view));
  }

  /** Closes the camera. */
  closeCamera(): Promise<void> {
    return this.#runMedia('closeCamera', (m) => m.closeCamera());
  }

  /** Switches between front and back camera. */
  switchCamera(camera: Camera): Promise<void> {
    return this.#runMedia('switchCamera', (m) => m.switchCamera(camera));
  }

  /** Opens the microphone. */
  openMicrophone(): Promise<void> {
    return this.#runMedia('openMicrophone', (m) => m.openMicrophone());
  }

  /** Closes the microphone. */
  closeMicrophone(): Promise<void> {
    return this.#runMedia('closeMicrophone', (m) => m.closeMicrophone());
  }

  /** Plays audio on the speakerphone or the earpiece. */
  selectAudioPlaybackDevice(device: AudioPlaybackDevice): Promise<void> {
    return this.#runMedia('selectAudioPlaybackDevice', (m) => m.selectAudioPlaybackDevice(device));
  }

  /** The cameras, microphones or speakers to choose from ([] where the media adapter has none). */
  getDeviceList(kind: DeviceKind): Promise<DeviceInfo[]> {
    return this.#queue.run(`getDeviceList:${String(kind)}`, async () => {
      const k = checkDeviceKind(kind);
      return (await this.#media.adapter.getDeviceList?.(k)) ?? [];
    });
  }

  /** Uses `deviceId` for `kind`; an open microphone or camera is swapped during the call (peers keep receiving). */
  switchDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    return this.#runMedia(`switchDevice:${String(kind)}`, async (m) => {
      const k = checkDeviceKind(kind);
      if (typeof deviceId !== 'string') throw CallEngineError.invalidParameter('deviceId must be a string');
      if (!m.switchDevice) throw CallEngineError.invalidParameter('this media adapter has no devices to choose from');
      await m.switchDevice(k, deviceId);
    });
  }

  /** Renders `userId`'s video into `view`. Per user: views of different users may start together. */
  startRemoteView(userId: string, view: MediaView): Promise<void> {
    return this.#runMedia(`startRemoteView:${userId}`, (m) => m.startRemoteView(checkUserId(userId), view));
  }

  /** Stops rendering `userId`'s video. */
  stopRemoteView(userId: string): Promise<void> {
    return this.#runMedia(`stopRemoteView:${userId}`, (m) => m.stopRemoteView(checkUserId(userId)));
  }

  /** Sets the local video encoder's resolution and orientation. */
  setVideoEncoderParams(params: VideoEncoderParams): Promise<void> {
    return this.#runMedia('setVideoEncoderParams', (m) => m.setVideoEncoderParams(params));
  }

  /** Sets how `userId`'s video fills its view and its rotation. */
  setVideoRenderParams(userId: string, params: VideoRenderParams): Promise<void> {
    return this.#runMedia(`setVideoRenderParams:${userId}`, (m) => m.setVideoRenderParams(checkUserId(userId), params));
  }

  /** Queues a method that needs a signed-in session (-1201 without one, checked when it runs). */
  #run<T>(method: string, task: (session: EngineSession) => Promise<T>): Promise<T> {
    return this.#queue.run(method, () => {
      const session = this.#session;
      if (!session?.isLive) throw CallEngineError.notInitialized();
      return task(session);
    });
  }

  /** Queues a media method: they work before init too (a camera preview before signing in). */
  #runMedia(key: string, task: (adapter: MediaController['adapter']) => Promise<void>): Promise<void> {
    return this.#queue.run(key, () => task(this.#media.adapter));
  }

  async #startCall(s: EngineSession, userIdList: unknown, mediaType: CallMediaType, params?: CallParams): Promise<{ callId: string }> {
    const userIds = checkCallees(userIdList, s.userId, s.auth?.maxParticipants ?? Number.MAX_SAFE_INTEGER);
    const type = checkMediaType(mediaType);
    const p = checkCallParams(params);
    s.store.beginOutgoing(s.userId, userIds, type, p);
    try {
      // The store learns the callId while the answer is processed, before any later event.
      const data = await s.request('call.start', p ? { userIds, mediaType: type, params: p } : { userIds, mediaType: type }, {
        onResult: (d) => s.store.outgoingStarted(parseCallId(d)),
      });
      return { callId: parseCallId(data) };
    } finally {
      s.store.endOutgoing();
    }
  }

  async #answer(s: EngineSession, type: 'call.accept' | 'call.reject' | 'call.ignore'): Promise<void> {
    const { callId, role, status } = s.store;
    if (!callId || role !== CallRole.called || status !== CallStatus.waiting) throw CallEngineError.stateRefused('no call is ringing on this device');
    await s.request(type, { callId });
  }

  #requireCall(s: EngineSession): string {
    const callId = s.store.callId;
    if (!callId) throw CallEngineError.stateRefused('not in a call');
    return callId;
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    await session.close();
    if (this.#session === session) this.#session = null;
  }
}
