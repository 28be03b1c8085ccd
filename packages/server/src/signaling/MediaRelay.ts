/**
 * Relays media-plane messages between participants of a call: WebRTC signals (SDP/ICE) and
 * microphone/camera availability. Availability is remembered per call so late joiners learn the
 * state of devices already open.
 */
import type { ClientMessageData, ServerEvent } from '@opencall/protocol';
import { MachineError } from '../call/MachineError.js';
import type { CallState } from '../call/types.js';
import type { Storage } from '../storage/Storage.js';
import type { Presence } from './Presence.js';
import type { Session } from './Session.js';

/** Relay of media signals and availability. */
export class MediaRelay {
  /** callId → userId → last announced availability. */
  readonly #available = new Map<string, Map<string, { audio: boolean; video: boolean }>>();

  constructor(
    private readonly storage: Storage,
    private readonly presence: Presence,
  ) {}

  async #connectedCall(s: Session, callId: string): Promise<CallState> {
    const call = await this.storage.getCall(callId);
    const me = call?.members[s.userId];
    if (!call || call.phase === 'ended' || me?.state !== 'joined' || me.deviceId !== s.deviceId) {
      throw MachineError.state('not connected in this call');
    }
    return call;
  }

  #sendToUser(call: CallState, userId: string, event: ServerEvent): void {
    const m = call.members[userId];
    if (m?.state === 'joined' && m.deviceId) this.presence.deliver(userId, m.deviceId, event);
  }

  /** Relays a WebRTC signal to another connected participant. */
  async signal(s: Session, data: ClientMessageData<'media.signal'>): Promise<object> {
    const call = await this.#connectedCall(s, data.callId);
    if (data.to === 'sfu') throw MachineError.state('no SFU for this call');
    if (call.members[data.to]?.state !== 'joined') throw MachineError.state('that user is not connected');
    this.#sendToUser(call, data.to, { name: 'media.signal', callId: call.callId, from: s.userId, signal: { ...data.signal } });
    return {};
  }

  /** Records and relays this device's microphone/camera availability. */
  async state(s: Session, data: ClientMessageData<'media.state'>): Promise<object> {
    const call = await this.#connectedCall(s, data.callId);
    let perCall = this.#available.get(call.callId);
    if (!perCall) this.#available.set(call.callId, (perCall = new Map<string, { audio: boolean; video: boolean }>()));
    const prev = perCall.get(s.userId);
    perCall.set(s.userId, { audio: data.audio, video: data.video });
    for (const m of Object.values(call.members)) {
      if (m.userId === s.userId) continue;
      if (prev?.audio !== data.audio) {
        this.#sendToUser(call, m.userId, { name: 'onUserAudioAvailable', callId: call.callId, userId: s.userId, isAvailable: data.audio });
      }
      if (prev?.video !== data.video) {
        this.#sendToUser(call, m.userId, { name: 'onUserVideoAvailable', callId: call.callId, userId: s.userId, isAvailable: data.video });
      }
    }
    return {};
  }

  /** Forgets a call's availability (the call ended). */
  forget(callId: string): void {
    this.#available.delete(callId);
  }
}
