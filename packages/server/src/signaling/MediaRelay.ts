/**
 * The media plane of calls on the signaling server (SPEC §7, docs/media.md):
 * - the **topology** of each call: `p2p` for 1-to-1 (`single`), `sfu` for multi/group calls when a
 *   Janus is available (one room per call, created when the call becomes multi/group and destroyed
 *   when it ends), else `mesh`; announced to every connected device as a `media.topology` event
 *   (`p2p` inside the device's `onCallBegin` instead: the machine knows it at the commit);
 * - **signals**: SDP/ICE relayed between participants' devices, or handed to the SFU (`to: 'sfu'`);
 * - **availability**: microphone/camera state relayed as onUserAudioAvailable/onUserVideoAvailable,
 *   remembered per call so a late joiner learns the devices already open;
 * - **mediaConnected**: the first device reporting its media path up sets `timings.mediaConnectedAt`.
 *
 * Call changes arrive through {@link MediaRelay.onCommitted} (after the call service's commit and
 * its events), so a topology event always follows the onCallBegin it belongs to. Per call, the
 * relay's own work runs one step at a time.
 *
 * Cluster mode (SPEC §8): only the call's media owner node ({@link MediaOwners}) keeps the call's
 * state here; it reloads the call from storage on every change (commits happen on any node), and
 * the other nodes forward their commit notices, SFU signals and availability to it.
 */
import type { ClientMessageData, RelayedSignal, ServerEvent } from '@opencall/protocol';
import type { Logger } from 'pino';
import { MachineError } from '../call/MachineError.js';
import type { MediaOwnerHost, MediaOwners } from '../cluster/MediaOwners.js';
import type { CallService } from '../call/CallService.js';
import type { CallState, Effect } from '../call/types.js';
import { SfuCalls } from '../media/SfuCalls.js';
import type { SfuSignal } from '../media/SfuCalls.js';
import type { JanusSfu } from '../media/JanusSfu.js';
import { errorFields } from '../media/types.js';
import type { Storage } from '../storage/Storage.js';
import { KeyedMutex } from '../util/Mutex.js';
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
  /** Cluster mode: the election and routing of each call's media owner node. */
  owners?: MediaOwners | null;
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
export class MediaRelay implements MediaOwnerHost {
  readonly #d: MediaRelayDeps;
  readonly #sfu: SfuCalls | null;
  readonly #calls = new Map<string, CallMedia>();
  readonly #owners: MediaOwners | null;
  /** Cluster mode: routing work per call, one step at a time (ownership, reloads, forwards). */
  readonly #routing = new KeyedMutex();

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
    this.#owners = deps.owners ?? null;
    this.#owners?.attach(this);
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
    if (this.#owners) this.#routeCommit(this.#owners, state);
    else this.#apply(state);
  }

  #apply(state: CallState): void {
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
    if (data.to === 'sfu' && this.#owners) {
      const o = await this.#owners.own(state.callId);
      const forwarded = o.self ? this.#ownedSignal(o.claimed, state.callId, s.userId, data.signal) : this.#owners.signal(o.node, state.callId, s.userId, data.signal);
      await forwarded.catch((err: unknown) => {
        throw err instanceof MachineError ? err : MachineError.state(errorFields(err).err);
      });
      return {};
    }
    if (data.to === 'sfu') {
      let call = this.#calls.get(state.callId);
      if (!call) {
        // A call this process has not seen change yet (the server restarted under it): take it
        // up now, so its devices can publish again into a fresh room.
        this.onCommitted(state, []);
        call = this.#calls.get(state.callId);
        await call?.chain;
      }
      await this.#sfuSignal(state.callId, s.userId, data.signal);
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
    const o = this.#owners ? await this.#owners.own(state.callId) : null;
    if (o && !o.self) await this.#owners?.state(o.node, state.callId, s.userId, data.audio, data.video);
    else this.#relayState(state, s.userId, data.audio, data.video);
    if (data.connected && state.mediaConnectedAt === null) {
      await this.#d.service.run(state.callId, { type: 'mediaConnected' });
    }
    return {};
  }

  /** Remembers and relays a device's availability (on the call's media owner in a cluster). */
  #relayState(state: CallState, from: string, audio: boolean, video: boolean): void {
    const callId = state.callId;
    const call = this.#calls.get(callId);
    const prev = call?.available.get(from);
    call?.available.set(from, { audio, video });
    // Told now: the members the relay already took in. Members it takes in later get the stored
    // state with their topology (never twice, never missed).
    const recipients = call ? [...call.members.keys()] : Object.values(state.members).map((m) => m.userId);
    const send = (userId: string, event: ServerEvent): void => (call ? this.#sendTo(callId, userId, event) : this.#deliver(state, userId, event));
    for (const userId of recipients) {
      if (userId === from) continue;
      // The first announcement tells only what is open; afterwards every change is told.
      if (prev ? prev.audio !== audio : audio) send(userId, { name: 'onUserAudioAvailable', callId, userId: from, isAvailable: audio });
      if (prev ? prev.video !== video : video) send(userId, { name: 'onUserVideoAvailable', callId, userId: from, isAvailable: video });
    }
  }

  async #sfuSignal(callId: string, userId: string, signal: SfuSignal): Promise<void> {
    const call = this.#calls.get(callId);
    if (!this.#sfu || call?.mode !== 'sfu') throw MachineError.state('no SFU for this call');
    try {
      await this.#sfu.handle(callId, userId, signal);
    } catch (err) {
      this.#d.log.warn({ callId, userId, kind: signal.kind, ...errorFields(err) }, 'sfu signal failed');
      throw MachineError.state(`sfu: ${errorFields(err).err}`);
    }
  }

  /** Destroys every SFU room (server shutdown); in a cluster, hands the calls over to the other nodes. */
  async close(): Promise<void> {
    const ids = [...this.#calls.keys()];
    this.#calls.clear();
    const owners = this.#owners;
    if (owners) {
      owners.close();
      await Promise.all(ids.map((id) => owners.release(id, false).catch(() => undefined)));
    }
    const sfu = this.#sfu;
    if (sfu) await Promise.all(ids.map((id) => sfu.close(id)));
  }

  /** Calls whose media this node runs (cluster mode: the calls it owns). */
  ownedCalls(): string[] {
    return [...this.#calls.keys()];
  }

  /** Another node took the call over: forget it and free its room here, without a word to devices. */
  dropCall(callId: string): void {
    const c = this.#calls.get(callId);
    if (!c) return;
    this.#d.log.warn({ callId }, 'media ownership of the call moved to another node');
    this.#calls.delete(callId);
    this.#enqueue(callId, c, async () => this.#sfu?.close(callId));
  }

  /** This node took the call (a takeover when `claimed` > 1): run its media from storage. */
  takeUp(callId: string, claimed: number): Promise<void> {
    return this.#routed(callId, () => this.#reload(callId, claimed));
  }

  /** Another node committed a change of the call: follow it from storage. */
  remoteCommit(callId: string): void {
    void this.#routed(callId, async () => {
      const o = await this.#owners!.own(callId);
      if (o.self) await this.#reload(callId, o.claimed);
      else await this.#owners!.commit(o.node, callId);
    });
  }

  /** A device on another node signals the SFU of a call this node owns. */
  async remoteSignal(callId: string, userId: string, signal: SfuSignal): Promise<void> {
    const o = await this.#owners!.own(callId);
    if (!o.self) throw MachineError.state("the call's media moved to another node; try again");
    await this.#ownedSignal(o.claimed, callId, userId, signal);
  }

  /** An SFU signal of a call this node owns (taken up from storage first when it just claimed it). */
  async #ownedSignal(claimed: number, callId: string, userId: string, signal: SfuSignal): Promise<void> {
    if (claimed > 0 || !this.#calls.has(callId)) await this.#routed(callId, () => this.#reload(callId, claimed, userId));
    await this.#sfuSignal(callId, userId, signal);
  }

  /** A device on another node announced its availability in a call this node owns. */
  remoteState(callId: string, userId: string, audio: boolean, video: boolean): void {
    void this.#routed(callId, async () => {
      const state = await this.#d.storage.getCall(callId);
      if (state && state.phase !== 'ended') this.#relayState(state, userId, audio, video);
    });
  }

  /** Cluster mode: the media owner follows the change; another node tells the owner. */
  #routeCommit(owners: MediaOwners, state: CallState): void {
    const id = state.callId;
    // A ringing 1-to-1 call needs no media yet: no owner is elected for it.
    const idle = state.phase !== 'ended' && state.scene === 'single' && !Object.values(state.members).some((m) => m.state === 'joined');
    if (idle && !this.#calls.has(id)) return;
    void this.#routed(id, async () => {
      if (state.phase === 'ended') {
        const holder = this.#calls.has(id) ? owners.nodeId : await owners.holder(id);
        if (holder === owners.nodeId) await this.#reload(id, 0);
        else if (holder) await owners.commit(holder, id);
        owners.forget(id);
        return;
      }
      const o = await owners.own(id);
      if (o.self) await this.#reload(id, o.claimed);
      else await owners.commit(o.node, id);
    });
  }

  /**
   * The owner brings the call's media in line with its stored state. After a takeover (`claimed` >
   * 1, the call's room was on another node) every member but `publishing` (whose offer is being
   * handled) is told to publish afresh into the new room.
   */
  async #reload(callId: string, claimed: number, publishing?: string): Promise<void> {
    const [owners, state] = [this.#owners!, await this.#d.storage.getCall(callId)];
    const known = this.#calls.has(callId);
    if (!state || state.phase === 'ended') {
      if (state) this.#apply(state);
      else this.#calls.delete(callId);
      return owners.release(callId, true);
    }
    this.#apply(state);
    const c = this.#calls.get(callId);
    if (!c) return owners.release(callId, false);
    if (claimed > 1 && !known) {
      this.#d.log.info({ callId, claimed }, 'took over the media of a call from another node');
      this.#enqueue(callId, c, async () => {
        if (c.mode !== 'sfu') return;
        for (const userId of c.members.keys()) if (userId !== publishing) this.#sendSignal(callId, userId, 'sfu', { kind: 'restart', pc: 'pub' });
      });
    }
    await c.chain;
  }

  /** Runs `step` after the call's earlier routing steps; a failure is logged (so callers may ignore it): the next change retries. */
  #routed(callId: string, step: () => Promise<void>): Promise<void> {
    const run = this.#routing.run(callId, step);
    run.catch((err: unknown) => this.#d.log.warn({ callId, ...errorFields(err) }, 'media routing step failed'));
    return run;
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
      // Only a 1-to-1 call is p2p here, and its onCallBegin told the device so (call/effects.ts).
      if (c.mode !== 'p2p') this.#sendTopology(callId, c, userId);
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
