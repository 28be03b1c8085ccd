/**
 * This device's view of its current call, kept from the server's events (and the answer of
 * `calls()`, since a caller gets no event for starting a call). The server decides everything; the
 * store only remembers, so methods like `hangup()` know the callId and observers reading the
 * engine during a callback see state that already includes that event.
 * @packageDocumentation
 */
import { CallRole, CallStatus } from '@opencall/protocol/wire';
import type { CallMediaType, CallObserverExtraInfo, CallParams, CallScene, ServerEvent } from '@opencall/protocol/wire';

/** A read-only picture of the current call. */
export interface CallSnapshot {
  readonly callId: string;
  /** `caller` for the device that started it, else `called` (from the server's `info.role`). */
  readonly role: CallRole;
  /** `waiting` while calling/ringing, `accept` once connected. */
  readonly status: CallStatus;
  readonly mediaType: CallMediaType;
  /** `group` with a chatGroupId; `multi` with several invitees, once grown, or with several peers connected. */
  readonly scene: CallScene;
  /** The caller's id; null when this device entered by `join()` and was never told. */
  readonly callerId: string | null;
  /** Every invitee known so far (not the caller). */
  readonly inviteList: readonly string[];
  /** Other users connected to the call, in join order. */
  readonly connectedUserIds: readonly string[];
  /** The observer extra info of this call. */
  readonly info: CallObserverExtraInfo;
}

interface CallData {
  callId: string;
  role: CallRole;
  status: CallStatus;
  mediaType: CallMediaType;
  callerId: string | null;
  inviteList: string[];
  connected: string[];
  info: CallObserverExtraInfo;
  /** Grown by inviteUser: multi from then on. */
  grown: boolean;
}

interface PendingStart {
  selfId: string;
  userIds: string[];
  mediaType: CallMediaType;
  info: CallObserverExtraInfo;
}

/** How many ended callIds are remembered (to ignore a `calls()` answer that trails its own end). */
const ENDED_MEMORY = 64;

/** The extra info of a call this device starts, as the server will describe it. */
export function callerInfo(params: CallParams | undefined): CallObserverExtraInfo {
  return {
    roomId: { ...(params?.roomId ?? {}) },
    role: CallRole.caller,
    userData: params?.userData ?? '',
    chatGroupId: params?.chatGroupId ?? '',
    isEphemeralCall: params?.isEphemeralCall ?? false,
  };
}

/** The current call of one engine, updated by {@link CallStore.apply} before events are fired. */
export class CallStore {
  #call: CallData | null = null;
  #pendingStart: PendingStart | null = null;
  /** Recently ended callIds, oldest first (a Set iterates in insertion order). */
  readonly #ended = new Set<string>();

  /** The current call's id, or null. */
  get callId(): string | null {
    return this.#call?.callId ?? null;
  }

  /** `none` without a call. */
  get role(): CallRole {
    return this.#call?.role ?? CallRole.none;
  }

  /** `none` without a call. */
  get status(): CallStatus {
    return this.#call?.status ?? CallStatus.none;
  }

  /** The current call's media type, or null. */
  get mediaType(): CallMediaType | null {
    return this.#call?.mediaType ?? null;
  }

  /** The current call's scene, or null. */
  get scene(): CallScene | null {
    return this.#call ? sceneOf(this.#call) : null;
  }

  /** True while this device is calling, ringing or connected. */
  get isInCall(): boolean {
    return this.#call !== null;
  }

  /**
   * The current call's id and status without a copy (a live view: read it at once, do not keep
   * it), or null. What runs on every event reads this; {@link snapshot} is for handing state out.
   */
  get progress(): Pick<CallSnapshot, 'callId' | 'status'> | null {
    return this.#call;
  }

  /** A copy of the current call, or null. */
  snapshot(): CallSnapshot | null {
    const c = this.#call;
    if (!c) return null;
    return {
      callId: c.callId,
      role: c.role,
      status: c.status,
      mediaType: c.mediaType,
      scene: sceneOf(c),
      callerId: c.callerId,
      inviteList: [...c.inviteList],
      connectedUserIds: [...c.connected],
      info: { ...c.info, roomId: { ...c.info.roomId } },
    };
  }

  /** True when `callId` ended on this device recently. */
  hasEnded(callId: string): boolean {
    return this.#ended.has(callId);
  }

  /**
   * `calls()` was sent. Until its answer names the call, events for an unknown call that arrive
   * (a busy callee answers before the response) are taken as that new call's.
   */
  beginOutgoing(selfId: string, userIds: string[], mediaType: CallMediaType, params?: CallParams): void {
    this.#pendingStart = { selfId, userIds: [...userIds], mediaType, info: callerInfo(params) };
  }

  /**
   * The answer of `calls()` named the call. Ignored when that call already ended (its events came
   * first) or is already current (adopted from its events, or glare: the server accepted the
   * other side's call instead and this device stays its callee).
   */
  outgoingStarted(callId: string): void {
    const pending = this.#pendingStart;
    this.#pendingStart = null;
    if (!pending || this.hasEnded(callId) || this.#call?.callId === callId) return;
    this.#call = outgoing(callId, pending);
  }

  /** `calls()` settled (either way): stop adopting unknown calls. */
  endOutgoing(): void {
    this.#pendingStart = null;
  }

  /** Forgets the current call (session lost, kicked, unInit); returns what it was. */
  clear(): CallSnapshot | null {
    const previous = this.snapshot();
    if (previous) this.#markEnded(previous.callId);
    this.#call = null;
    this.#pendingStart = null;
    return previous;
  }

  /** The reducer: folds one server event into the current call. Events of other calls are ignored. */
  apply(event: ServerEvent): void {
    if (!('callId' in event)) return;
    const id = event.callId;
    if (event.name === 'onCallReceived') {
      this.#forgetEnded(id);
      this.#call = {
        callId: id,
        role: CallRole.called,
        status: CallStatus.waiting,
        mediaType: event.mediaType,
        callerId: event.callerId,
        inviteList: [...event.calleeIdList],
        connected: [],
        info: event.info,
        grown: false,
      };
      return;
    }
    const current = this.#call;
    if (event.name === 'onCallBegin' && current?.callId !== id && (current || !this.#pendingStart)) {
      // Connected to a call this device did not ring for (join(), or a call moved here from
      // another device of the user). The server says so: that is the current call now. With no
      // call and a calls() in flight, #target adopts it as the outgoing call instead.
      this.#forgetEnded(id);
      this.#call = adopted(id, event.mediaType, event.info);
    }
    const call = this.#target(id);
    if (!call) {
      if (event.name === 'onCallEnd' || event.name === 'onCallNotConnected') this.#markEnded(id);
      return;
    }
    switch (event.name) {
      case 'onCallBegin':
        call.status = CallStatus.accept;
        call.mediaType = event.mediaType;
        call.info = event.info;
        call.role = event.info.role;
        call.callerId ??= event.info.callerProfile?.userId ?? null;
        break;
      case 'onCallEnd':
      case 'onCallNotConnected':
        this.#markEnded(id);
        this.#call = null;
        break;
      case 'onCallMediaTypeChanged':
        call.mediaType = event.newType;
        break;
      case 'onUserInviting':
        if (!call.inviteList.includes(event.userId)) call.inviteList.push(event.userId);
        call.grown = true;
        break;
      case 'onUserJoin':
        if (!call.connected.includes(event.userId)) call.connected.push(event.userId);
        break;
      case 'onUserLeave':
        call.connected = call.connected.filter((u) => u !== event.userId);
        break;
      default:
        // Rejections, busy, no-response, availability, quality and media plumbing change
        // nothing this store keeps.
        break;
    }
  }

  /** The call an event for `id` applies to, adopting a just-started outgoing call if needed. */
  #target(id: string): CallData | null {
    if (this.#call) return this.#call.callId === id ? this.#call : null;
    const pending = this.#pendingStart;
    if (!pending || this.hasEnded(id)) return null;
    this.#pendingStart = null;
    this.#call = outgoing(id, pending);
    return this.#call;
  }

  #markEnded(id: string): void {
    this.#ended.delete(id);
    this.#ended.add(id);
    if (this.#ended.size > ENDED_MEMORY) this.#ended.delete(this.#ended.values().next().value as string);
  }

  #forgetEnded(id: string): void {
    this.#ended.delete(id);
  }
}

function sceneOf(c: CallData): CallScene {
  if (c.info.chatGroupId) return 'group';
  return c.grown || c.inviteList.length > 1 || c.connected.length > 1 ? 'multi' : 'single';
}

function outgoing(callId: string, p: PendingStart): CallData {
  return {
    callId,
    role: CallRole.caller,
    status: CallStatus.waiting,
    mediaType: p.mediaType,
    callerId: p.selfId,
    inviteList: [...p.userIds],
    connected: [],
    info: p.info,
    grown: false,
  };
}

function adopted(callId: string, mediaType: CallMediaType, info: CallObserverExtraInfo): CallData {
  return {
    callId,
    role: info.role,
    status: CallStatus.waiting,
    mediaType,
    callerId: info.callerProfile?.userId ?? null,
    inviteList: [],
    connected: [],
    info,
    grown: false,
  };
}
