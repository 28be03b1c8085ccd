/**
 * Drives calls: turns engine events into {@link CallModel} changes, sounds and notifications, and
 * button presses into engine requests. The engine and the server decide every outcome; this class
 * only shows them and never assumes one (e.g. it does not end a call itself when the last invitee
 * declines: it waits for the engine's event).
 * @packageDocumentation
 */
import { CallMediaType, Camera } from '@opencall/client';
import type { CallEngine, CallEngineError, CallEndReason, CallObserver, CallObserverExtraInfo, CallParams } from '@opencall/client';
import type { ProfileBook } from '../profiles.js';
import type { Tones } from '../sounds.js';
import { CallModel } from './CallModel.js';
import type { Phase } from './CallModel.js';
import { describeError, describeOutcome } from './outcomes.js';
import { IncomingNotice } from './notify.js';
import { t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/index.js';

/** What the controller needs from the page. */
export interface CallControllerDeps {
  engine: CallEngine;
  profiles: ProfileBook;
  tones: Tones;
  /** A short message over the current screen. */
  toast(text: string, tone?: 'info' | 'warn' | 'error'): void;
  /** The own preview's video element (the call screen's self tile). */
  localVideo(): HTMLVideoElement;
  /** A call ended: history has a new record. */
  onCallFinished(): void;
}

type Control = 'mic' | 'camera' | 'audioOnly' | 'invite' | 'hangup' | 'answer';

/** The call side of the page for one signed-in user. */
export class CallController {
  /** The current call as the screens show it. */
  readonly model: CallModel;
  /** Controls whose request is running (their buttons are disabled). */
  readonly pending = new Set<Control>();
  /** Observers of {@link pending}. */
  onPendingChange: (control: Control, pending: boolean) => void = () => undefined;
  readonly #d: CallControllerDeps;
  readonly #notice = new IncomingNotice();
  #cameraOpen = false;
  #facing: Camera = Camera.front;
  #micOpen = false;
  #lastDial: { userIds: string[]; mediaType: CallMediaType } | null = null;
  /** Settles the preview: true places the call, false drops it. */
  #previewDecision: ((place: boolean) => void) | null = null;

  constructor(selfId: string, deps: CallControllerDeps) {
    this.model = new CallModel(selfId);
    this.#d = deps;
  }

  /** The people and media type of the last call this user made (for "Call again"). */
  get lastDial(): { userIds: string[]; mediaType: CallMediaType } | null {
    return this.#lastDial;
  }

  /**
   * Starts a call to one or more people. With `preview` (video calls), the caller first sees their
   * camera and microphone level with the device menu at hand, and the call is placed only once they
   * press Start ({@link startPreviewed}); Cancel ({@link cancelPreview}) places nothing.
   */
  async dial(userIds: string[], mediaType: CallMediaType, params?: CallParams, preview = false): Promise<void> {
    if (this.model.isActive || this.model.phase === 'preview') {
      this.#d.toast(t('toast.finishFirst'), 'warn');
      return;
    }
    const { engine, profiles, tones } = this.#d;
    this.#lastDial = { userIds, mediaType };
    tones.unlock();
    void profiles.load(userIds);
    if (preview && mediaType === CallMediaType.video) {
      this.model.previewing(userIds, mediaType);
      await this.#openMic();
      await this.#openCamera();
      const place = await new Promise<boolean>((resolve) => (this.#previewDecision = resolve));
      this.#previewDecision = null;
      if (!place) {
        // Only what the preview opened is closed: a call ringing meanwhile opens its own devices on accept.
        // (A call ringing meanwhile has already cleared the preview.)
        if (this.#phase() === 'preview') this.model.clear();
        await this.#closeDevices();
        return;
      }
    }
    this.model.dialing(userIds, mediaType);
    tones.ringback();
    // Devices first, so the media connection starts with the tracks when the callee answers.
    await this.#openMic();
    if (mediaType === CallMediaType.video) await this.#openCamera();
    try {
      const { callId } = await engine.calls(userIds, mediaType, params);
      this.model.dialed(callId);
    } catch (err) {
      // Nothing was started (bad id, too many people, no connection): say so and stop ringing back.
      tones.stop();
      await this.#closeDevices();
      if (this.model.phase === 'outgoing') {
        this.model.ended({ title: t('end.failed'), detail: describeError((err as CallEngineError).code, (err as Error).message), tone: 'error' });
      }
    }
  }

  /** The phase now (a method: the compiler would otherwise keep a narrowing across an await). */
  #phase(): Phase {
    return this.model.phase;
  }

  /** Places the call being previewed. */
  startPreviewed(): void {
    this.#previewDecision?.(true);
  }

  /** Drops the call being previewed (nothing was placed). */
  cancelPreview(): void {
    this.#previewDecision?.(false);
  }

  /** Answers the ringing call. */
  async accept(): Promise<void> {
    const video = this.model.mediaType === CallMediaType.video;
    await this.#guard('answer', async () => {
      this.#d.tones.stop();
      this.#notice.close();
      await this.#openMic();
      if (video) await this.#openCamera();
      await this.#d.engine.accept();
    });
  }

  /** Declines the ringing call. */
  async reject(): Promise<void> {
    this.#d.tones.stop();
    this.#notice.close();
    await this.#guard('answer', () => this.#d.engine.reject());
  }

  /** Hangs up (or cancels while it rings at the other end). */
  async hangup(): Promise<void> {
    await this.#guard('hangup', () => this.#d.engine.hangup());
  }

  /** Mutes or unmutes the microphone. */
  async toggleMic(): Promise<void> {
    const on = !this.model.self.audio;
    await this.#guard('mic', async () => {
      if (on) await this.#d.engine.openMicrophone();
      else await this.#d.engine.closeMicrophone();
      this.#micOpen = on;
      this.model.setAvailable(this.model.selfId, 'audio', on);
    });
  }

  /** Turns the camera on or off. */
  async toggleCamera(): Promise<void> {
    await this.#guard('camera', async () => {
      if (this.#cameraOpen) await this.#closeCamera();
      else await this.#openCamera();
    });
  }

  /** Switches between the front and back camera (phones). */
  async flipCamera(): Promise<void> {
    const next = this.#facing === Camera.front ? Camera.back : Camera.front;
    await this.#guard('camera', async () => {
      await this.#d.engine.switchCamera(next);
      this.#facing = next;
    });
  }

  /** Turns a 1-to-1 video call into an audio call (both sides get onCallMediaTypeChanged). */
  async switchToAudio(): Promise<void> {
    await this.#guard('audioOnly', () => this.#d.engine.switchCallMediaType(CallMediaType.audio));
  }

  /** Invites more people into the connected call. */
  async invite(userIds: string[]): Promise<void> {
    void this.#d.profiles.load(userIds);
    await this.#guard('invite', async () => {
      const invited = await this.#d.engine.inviteUser(userIds);
      for (const u of invited) this.model.inviting(u);
      if (invited.length === 0) this.#d.toast(t('toast.alreadyIn'));
    });
  }

  /** Renders a connected person's video into their tile. */
  showRemote(userId: string, video: HTMLVideoElement): void {
    this.#d.engine.startRemoteView(userId, video).catch((err: unknown) => this.#mediaFailed(t('media.videoOf', { name: this.#d.profiles.nameOf(userId) }), err));
  }

  /** Stops rendering a person's video. */
  hideRemote(userId: string): void {
    this.#d.engine.stopRemoteView(userId).catch(() => undefined);
  }

  /** Leaves the end screen for home. */
  dismiss(): void {
    if (this.model.phase === 'ended') this.model.clear();
  }

  /** Ends whatever the page shows without the engine (signed out, kicked). */
  reset(): void {
    this.cancelPreview();
    this.#d.tones.stop();
    this.#notice.close();
    void this.#closeDevices();
    this.model.clear();
  }

  /** The engine observer of this controller. */
  readonly observer: Partial<CallObserver> = {
    onCallReceived: (callId, callerId, calleeIdList, mediaType, info) => this.#onReceived(callId, callerId, calleeIdList, mediaType, info),
    onCallBegin: (callId, mediaType) => {
      this.#d.tones.stop();
      this.#notice.close();
      this.model.begin(callId, mediaType, Date.now());
      void this.#d.profiles.load(this.model.invitees.concat(this.model.callerId));
      if (this.model.self.audio) void this.#openMic();
      if (mediaType === CallMediaType.video) void this.#openCamera();
    },
    onUserJoin: (userId) => {
      void this.#d.profiles.load([userId]);
      this.model.join(userId);
    },
    onUserLeave: (userId) => {
      // The last other person leaving ends the call, and the end screen says so.
      if (this.model.phase === 'connected' && this.model.joined.length > 1) this.#d.toast(t('toast.left', { name: this.#d.profiles.nameOf(userId) }));
      this.model.remove(userId);
    },
    onUserInviting: (userId) => {
      void this.#d.profiles.load([userId]);
      this.model.inviting(userId);
    },
    onUserReject: (userId) => this.#peerOutcome(userId, 'toast.declined'),
    onUserNoResponse: (userId) => this.#peerOutcome(userId, 'toast.noAnswer'),
    onUserLineBusy: (userId) => this.#peerOutcome(userId, 'toast.busy'),
    onCallNotConnected: (callId, _mediaType, reason, userId) => this.#onEnded(callId, 'notConnected', reason, userId, 0),
    onCallEnd: (callId, _mediaType, reason, userId, totalTime) => this.#onEnded(callId, 'ended', reason, userId, totalTime),
    onCallMediaTypeChanged: (_old, newType) => {
      this.model.mediaTypeChanged(newType);
      if (newType === CallMediaType.audio) void this.#closeCamera();
      else void this.#openCamera();
      this.#d.toast(t(newType === CallMediaType.audio ? 'toast.switchedAudio' : 'toast.switchedVideo'));
    },
    onUserAudioAvailable: (userId, available) => this.model.setAvailable(userId, 'audio', available),
    onUserVideoAvailable: (userId, available) => this.model.setAvailable(userId, 'video', available),
    onUserVoiceVolumeChanged: (map) => this.model.volumes(map),
    onUserNetworkQualityChanged: (list) => this.model.qualities(list),
  };

  #onReceived(callId: string, callerId: string, calleeIdList: string[], mediaType: CallMediaType, info: CallObserverExtraInfo): void {
    const { profiles, tones } = this.#d;
    if (info.callerProfile) profiles.remember(info.callerProfile);
    // A call ringing during the preview takes over: nothing had been placed yet.
    if (this.model.phase === 'preview') {
      this.cancelPreview();
      this.model.clear();
    }
    if (!this.model.received(callId, callerId, calleeIdList, mediaType)) return;
    void profiles.load(calleeIdList);
    tones.ringtone();
    this.#notice.show(profiles.nameOf(callerId), mediaType === CallMediaType.video, profiles.avatarOf(callerId));
  }

  #peerOutcome(userId: string, what: MessageKey): void {
    const m = this.model;
    // In a 1-to-1 call the end screen says it; in a group the call goes on, so tell the others here.
    if (m.isGroup && m.peers.size > 1) this.#d.toast(t(what, { name: this.#d.profiles.nameOf(userId) }), 'warn');
    if (m.peers.get(userId)?.state !== 'joined') m.remove(userId);
  }

  #onEnded(callId: string, kind: 'notConnected' | 'ended', reason: CallEndReason, userId: string, totalTime: number): void {
    const m = this.model;
    // Events of a call this page is not showing (e.g. a second ring the server resolved) change nothing.
    if (m.callId !== null && m.callId !== callId) return;
    if (!m.isActive) return;
    const { tones, profiles } = this.#d;
    this.#notice.close();
    const outcome = describeOutcome({ kind, reason, userId, selfId: m.selfId, isCaller: m.isCaller, callerId: m.callerId, isGroup: m.isGroup, totalTime, nameOf: (u) => profiles.nameOf(u) });
    if (kind === 'ended') tones.endTone();
    else tones.stop();
    void this.#closeDevices();
    m.ended(outcome);
    this.#d.onCallFinished();
  }

  async #openMic(): Promise<void> {
    if (this.#micOpen) return;
    this.#micOpen = true;
    try {
      await this.#d.engine.openMicrophone();
    } catch (err) {
      this.#micOpen = false;
      this.#mediaFailed(t('media.microphone'), err);
    }
  }

  async #openCamera(): Promise<void> {
    if (this.#cameraOpen) return;
    this.#cameraOpen = true;
    try {
      await this.#d.engine.openCamera(this.#facing, this.#d.localVideo());
      this.model.setAvailable(this.model.selfId, 'video', true);
    } catch (err) {
      this.#cameraOpen = false;
      this.model.setAvailable(this.model.selfId, 'video', false);
      this.#mediaFailed(t('media.camera'), err);
    }
  }

  async #closeCamera(): Promise<void> {
    this.#cameraOpen = false;
    this.model.setAvailable(this.model.selfId, 'video', false);
    await this.#d.engine.closeCamera().catch(() => undefined);
  }

  async #closeDevices(): Promise<void> {
    // Both flags drop at once: an accept right after (a call ringing as the preview closes) opens anew.
    const mic = this.#micOpen;
    this.#micOpen = false;
    const camera = this.#cameraOpen ? this.#closeCamera() : undefined;
    await Promise.all([camera, mic ? this.#d.engine.closeMicrophone().catch(() => undefined) : undefined]);
  }

  /** Runs a button's request once at a time, reporting failures in words. */
  async #guard(control: Control, run: () => Promise<void>): Promise<void> {
    if (this.pending.has(control)) return;
    this.pending.add(control);
    this.onPendingChange(control, true);
    try {
      await run();
    } catch (err) {
      const code = (err as CallEngineError).code;
      // -1204: the same request is already on its way; the first one's result will show.
      if (code !== -1204) this.#d.toast(describeError(code, (err as Error).message), 'error');
    } finally {
      this.pending.delete(control);
      this.onPendingChange(control, false);
    }
  }

  #mediaFailed(what: string, err: unknown): void {
    const name = (err as Error).name;
    const key: MessageKey = name === 'NotAllowedError' ? 'media.denied' : name === 'NotFoundError' ? 'media.notFound' : 'media.failed';
    const text = t(key, { device: what });
    this.#d.toast(text, 'warn');
  }
}
