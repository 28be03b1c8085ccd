/**
 * The media plane of calls on the signaling server (SPEC §7, docs/media.md):
 * - the **topology** of each call: `p2p` for 1-to-1 (`single`), `sfu` for multi/group calls when a
 *   Janus is available (one room per call, created when the call becomes multi/group and destroyed
 *   when it ends), else `mesh`; announced to every connected device as a `media.topology` event;
 * - **signals**: SDP/ICE relayed between participants' devices, or handed to the SFU (`to: 'sfu'`);
 * - **availability**: microphone/camera state relayed as onUserAudioAvailable/onUserVideoAvailable,
 *   remembered per call so a late joiner learns the devices already open;
 * - **mediaConnected**: the first device reporting its media path up sets `timings.mediaConnectedAt`.
 *
 * Call changes arrive through {@link MediaRelay.onCommitted} (after the call service's commit and
 * its events), so a topology event always follows the onCallBegin it belongs to. Per call, the
 * relay's own work runs one step at a time.
 */
import type { ClientMessageData, RelayedSignal, ServerEvent } from '@opencall/protocol';
import type { Logger } from 'pino';
import { MachineError } from '../call/MachineError.js';
import type { CallService } from '../call/CallService.js';
import type { CallState, Effect } from '../call/types.js';
import { SfuCalls } from '../media/SfuCalls.js';
import type { JanusSfu } from '../media/JanusSfu.js';
import { errorFields } from '../media/types.js';
import type { Storage } from '../storage/Storage.js';
import type { Presence } from './Presence.js';
import type { Session } from './Session.js';

/** How a call's media flows. */
export type MediaMode = 'p2p' | 'sfu' | 'mesh';

/** Dependencies of the {@link MediaRelay}. */
export interface MediaRelayDeps {
  storage: Storage;
  presence: Presence;
  /** Records `mediaConnected` on the call. */
  service: Pick<CallService, 'run'>;
  /** The SFU driver, or null for mesh-only. */
  sfu: JanusSfu | null;
  log: Logger;
}

interface Availability {
  audio: boolean;
  video: boolean;
}

interface CallMedia {
  mode: MediaMode;
  /** Connected members told about the topology: userId → deviceId. */
  members: Map<string, string>;
  available: Map<string, Availability>;
  /** The relay's work on this call, one step at a time. */
  chain: Promise<void>;
}

/** Relay of media signals, topology and availability. */
export class MediaRelay {
  readonly #d: MediaRelayDeps;
  readonly #sfu: SfuCalls | null;
  readonly #calls = new Map<string, CallMedia>();

  constructor(deps: MediaRelayDeps) {
    this.#d = deps;
    this.#sfu = deps.sfu
      ? new SfuCalls({
          sfu: deps.sfu,
          send: (callId, userId, signal) => this.#sendSignal(callId, userId, 'sfu', signal),
          lost: (callIds) => callIds.forEach((id) => this.#toMesh(id)),
          log: deps.log.child({ component: 'sfu' }),
        })
      : null;
  }

  /** `'janus'` when group calls go through the SFU now, else `'mesh'` (for /healthz). */
  get sfuKind(): 'janus' | 'mesh' {
    return this.#sfu?.available ? 'janus' : 'mesh';
  }

  /** The media mode of a call this relay tracks (tests and diagnostics). */
  modeOf(callId: string): MediaMode | undefined {
    return this.#calls.get(callId)?.mode;
  }

  /** Follows a committed call change: topology, SFU room, departures and arrivals. */
  onCommitted(state: CallState, _effects: readonly Effect[]): void {
    const id = state.callId;
    let call = this.#calls.get(id);
    if (state.phase === 'ended') {
      if (!call) return;
      this.#calls.delete(id);
      this.#enqueue(id, call, async () => this.#sfu?.close(id));
      return;
    }
    const joined = new Map<string, string>();
    for (const m of Object.values(state.members)) if (m.state === 'joined' && m.deviceId) joined.set(m.userId, m.deviceId);
    const want: MediaMode = state.scene === 'single' ? 'p2p' : this.#sfu?.available ? 'sfu' : 'mesh';
    if (!call) {
      // A ringing 1-to-1 call needs nothing yet; a multi/group one gets its room while it rings.
      if (joined.size === 0 && want === 'p2p') return;
      call = { mode: 'p2p', members: new Map(), available: new Map(), chain: Promise.resolve() };
      this.#calls.set(id, call);
    }
    const c = call;
    this.#enqueue(id, c, () => this.#reconcile(id, c, want, joined));
  }

  /** Relays a WebRTC signal to another connected participant, or hands it to the SFU. */
  async signal(s: Session, data: ClientMessageData<'media.signal'>): Promise<object> {
    const state = await this.#connectedCall(s, data.callId);
    if (data.to === 'sfu') {
      let call = this.#calls.get(state.callId);
      if (!call) {
        // A call this process has not seen change yet (the server restarted under it): take it
        // up now, so its devices can publish again into a fresh room.
        this.onCommitted(state, []);
        call = this.#calls.get(state.callId);
        await call?.chain;
      }
      if (!this.#sfu || call?.mode !== 'sfu') throw MachineError.state('no SFU for this call');
      try {
        await this.#sfu.handle(state.callId, s.userId, data.signal);
      } catch (err) {
        this.#d.log.warn({ callId: state.callId, userId: s.userId, kind: data.signal.kind, ...errorFields(err) }, 'sfu signal failed');
        throw MachineError.state(`sfu: ${errorFields(err).err}`);
      }
      return {};
    }
    if (state.members[data.to]?.state !== 'joined') throw MachineError.state('that user is not connected');
    // Only what a peer-to-peer signal carries: `subscribe`/`leave` and SFU fields (`feeds`,
    // `fresh`, `pc: 'pub' | 'sub'`) come from the server alone, never relayed from a user.
    const { kind, sdp, candidate } = data.signal;
    if (kind === 'subscribe' || kind === 'leave') throw MachineError.param(`a '${kind}' signal cannot be sent to a user`);
    const signal = { kind, ...(sdp === undefined ? {} : { sdp }), ...(candidate === undefined ? {} : { candidate }), ...(data.signal.pc === undefined ? {} : { pc: 'p2p' as const }) };
    this.#deliver(state, data.to, { name: 'media.signal', callId: state.callId, from: s.userId, signal });
    return {};
  }

  /** Records and relays this device's microphone/camera availability; `connected` records mediaConnected. */
  async state(s: Session, data: ClientMessageData<'media.state'>): Promise<object> {
    const state = await this.#connectedCall(s, data.callId);
    const call = this.#calls.get(state.callId);
    const prev = call?.available.get(s.userId);
    call?.available.set(s.userId, { audio: data.audio, video: data.video });
    // Told now: the members the relay already took in. Members it takes in later get the stored
    // state with their topology (never twice, never missed).
    const recipients = call ? [...call.members.keys()] : Object.values(state.members).map((m) => m.userId);
    const send = (userId: string, event: ServerEvent): void => (call ? this.#sendTo(state.callId, userId, event) : this.#deliver(state, userId, event));
    for (const userId of recipients) {
      if (userId === s.userId) continue;
      // The first announcement tells only what is open; afterwards every change is told.
      if (prev ? prev.audio !== data.audio : data.audio) {
        send(userId, { name: 'onUserAudioAvailable', callId: state.callId, userId: s.userId, isAvailable: data.audio });
      }
      if (prev ? prev.video !== data.video : data.video) {
        send(userId, { name: 'onUserVideoAvailable', callId: state.callId, userId: s.userId, isAvailable: data.video });
      }
    }
    if (data.connected && state.mediaConnectedAt === null) {
      await this.#d.service.run(state.callId, { type: 'mediaConnected' });
    }
    return {};
  }

  /** Destroys every SFU room (server shutdown). */
  async close(): Promise<void> {
    const ids = [...this.#calls.keys()];
    this.#calls.clear();
    const sfu = this.#sfu;
    if (sfu) await Promise.all(ids.map((id) => sfu.close(id)));
  }

  async #reconcile(callId: string, c: CallMedia, want: MediaMode, joined: Map<string, string>): Promise<void> {
    // Departures, and devices that took the call over from another device of the same user.
    for (const [userId, deviceId] of [...c.members]) {
      if (joined.get(userId) === deviceId) continue;
      c.members.delete(userId);
      c.available.delete(userId);
      if (c.mode === 'sfu') await this.#sfu?.removeMember(callId, userId);
      // The old device's peer connections are gone: peers drop theirs and build new ones.
      if (joined.has(userId) && c.mode !== 'sfu') {
        for (const other of c.members.keys()) this.#sendSignal(callId, other, userId, { kind: 'leave', pc: 'p2p' });
      }
    }
    if (c.mode === 'p2p' && want !== 'p2p') {
      c.mode = await this.#openSfu(callId, want);
      for (const userId of c.members.keys()) this.#sendTopology(callId, c, userId);
    }
    for (const [userId, deviceId] of joined) {
      if (c.members.has(userId)) continue;
      c.members.set(userId, deviceId);
      this.#sendTopology(callId, c, userId);
      for (const [other, av] of c.available) {
        if (other === userId) continue;
        if (av.audio) this.#sendTo(callId, userId, { name: 'onUserAudioAvailable', callId, userId: other, isAvailable: true });
        if (av.video) this.#sendTo(callId, userId, { name: 'onUserVideoAvailable', callId, userId: other, isAvailable: true });
      }
    }
  }

  /** Creates the call's SFU room; a mesh when there is no SFU or Janus refuses. */
  async #openSfu(callId: string, want: MediaMode): Promise<MediaMode> {
    if (want !== 'sfu' || !this.#sfu) return 'mesh';
    try {
      await this.#sfu.open(callId);
      return 'sfu';
    } catch (err) {
      this.#d.log.error({ callId, ...errorFields(err) }, 'sfu room creation failed; this call uses a mesh');
      return 'mesh';
    }
  }

  #sendTopology(callId: string, c: CallMedia, userId: string): void {
    if (c.mode === 'sfu') this.#sfu?.addMember(callId, userId);
    this.#sendTo(callId, userId, { name: 'media.topology', callId, mode: c.mode });
  }

  /** Janus went away: the call's devices switch to a mesh. */
  #toMesh(callId: string): void {
    const c = this.#calls.get(callId);
    if (!c || c.mode !== 'sfu') return;
    this.#enqueue(callId, c, async () => {
      c.mode = 'mesh';
      for (const userId of c.members.keys()) this.#sendTopology(callId, c, userId);
    });
  }

  #enqueue(callId: string, c: CallMedia, step: () => Promise<unknown>): void {
    c.chain = c.chain.then(step).then(
      () => undefined,
      (err: unknown) => this.#d.log.error({ callId, ...errorFields(err) }, 'media relay step failed'),
    );
  }

  async #connectedCall(s: Session, callId: string): Promise<CallState> {
    const call = await this.#d.storage.getCall(callId);
    const me = call?.members[s.userId];
    if (!call || !me) throw MachineError.notInCall();
    if (call.phase === 'ended' || me.state !== 'joined' || me.deviceId !== s.deviceId) {
      throw MachineError.state('not connected in this call');
    }
    return call;
  }

  #deliver(state: CallState, userId: string, event: ServerEvent): void {
    const m = state.members[userId];
    if (m?.state === 'joined' && m.deviceId) this.#send(userId, m.deviceId, event);
  }

  /** One event to one device, on whichever node it is (errors are logged: media recovers by itself). */
  #send(userId: string, deviceId: string, event: ServerEvent): void {
    const p = this.#d.presence.deliver(userId, deviceId, event);
    if (p) p.catch((err: unknown) => this.#d.log.warn({ err, userId }, 'media event delivery failed'));
  }

  /** Sends to the device the relay knows `userId` is connected on. */
  #sendTo(callId: string, userId: string, event: ServerEvent): void {
    const deviceId = this.#calls.get(callId)?.members.get(userId);
    if (deviceId) this.#send(userId, deviceId, event);
  }

  #sendSignal(callId: string, userId: string, from: string, signal: RelayedSignal): void {
    this.#sendTo(callId, userId, { name: 'media.signal', callId, from, signal });
  }
}
