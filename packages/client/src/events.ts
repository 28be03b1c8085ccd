/**
 * The one definition of the engine's events. {@link CallEventArgs} gives each callback's positional
 * arguments (SPEC §4 order and names) and {@link CALL_EVENT_ARG_NAMES} names them at run time; from
 * these two, checked against each other by the compiler, come the `CallObserver` interface, the
 * single-payload map of `engine.on()`, and the translation of server events (whose fields are the
 * same names) into callback arguments.
 * @packageDocumentation
 */
import type {
  CallEndReason,
  CallMediaType,
  CallObserverExtraInfo,
  NetworkQuality,
  ServerEvent,
} from '@opencall/protocol/wire';
import { TypedEmitter } from './util/TypedEmitter.js';
import type { Unsubscribe } from './util/TypedEmitter.js';

/** One user's network quality (`own id` = this device's uplink). */
export interface NetworkQualityInfo {
  userId: string;
  quality: NetworkQuality;
}

/** Positional arguments of every observer callback, in SPEC §4 order. */
export interface CallEventArgs {
  /** A failure not tied to a pending promise (e.g. a reconnection refused by the server). */
  onError: [code: number, message: string];
  /** An invitation rings on this device. `calleeIdList` holds every invitee so far (not the caller). */
  onCallReceived: [
    callId: string,
    callerId: string,
    calleeIdList: string[],
    mediaType: CallMediaType,
    info: CallObserverExtraInfo,
  ];
  /** The call ended for this device without it ever connecting; `userId` caused it. */
  onCallNotConnected: [
    callId: string,
    mediaType: CallMediaType,
    reason: CallEndReason,
    userId: string,
    info: CallObserverExtraInfo,
  ];
  /** This device is connected with at least one other participant. */
  onCallBegin: [callId: string, mediaType: CallMediaType, info: CallObserverExtraInfo];
  /** The connected call ended for this device; `totalTime` is this user's connected ms. */
  onCallEnd: [
    callId: string,
    mediaType: CallMediaType,
    reason: CallEndReason,
    userId: string,
    totalTime: number,
    info: CallObserverExtraInfo,
  ];
  /** The call switched audio ↔ video. */
  onCallMediaTypeChanged: [oldType: CallMediaType, newType: CallMediaType];
  /** A participant invited `userId` (not sent for the initial `calls()`). */
  onUserInviting: [userId: string];
  /** `userId` rejected the invitation. */
  onUserReject: [userId: string];
  /** `userId` did not answer in time. */
  onUserNoResponse: [userId: string];
  /** `userId` is busy (or ignored the invitation). */
  onUserLineBusy: [userId: string];
  /** `userId` is connected to the call. */
  onUserJoin: [userId: string];
  /** `userId` left the call. */
  onUserLeave: [userId: string];
  /** `userId` opened or closed their camera. */
  onUserVideoAvailable: [userId: string, isAvailable: boolean];
  /** `userId` opened or closed their microphone. */
  onUserAudioAvailable: [userId: string, isAvailable: boolean];
  /** Voice volume 0..100 of every user in the call, own id included. */
  onUserVoiceVolumeChanged: [volumeMap: Record<string, number>];
  /** Network quality of every user in the call (own id = uplink). */
  onUserNetworkQualityChanged: [list: NetworkQualityInfo[]];
  /** Another sign-in replaced this device; the engine is now uninitialised. */
  onKickedOffline: [];
  /** The UserSig expired; the call continues; call `init(userId, newSig)` to re-authenticate. */
  onUserSigExpired: [];
  /** Deprecated, still emitted right after every `onCallNotConnected`. */
  onCallCancelled: [userId: string];
  /**
   * The signaling link: `connected` after init and after every successful reconnection,
   * `reconnecting` while the engine resumes by itself, `disconnected` when the session is over
   * (unInit, kicked, reconnection refused).
   */
  onConnectionStateChanged: [state: ConnectionState];
  /** A camera, microphone or speaker was plugged in or removed (read `getDeviceList` again). */
  onDeviceListChanged: [];
}

/** The state of the engine's link to the server (`onConnectionStateChanged`). */
export type ConnectionState = 'connected' | 'reconnecting' | 'disconnected';

/** Name of an engine event (= observer callback name). */
export type CallEventName = keyof CallEventArgs;

type ArgNames<T extends unknown[]> = { readonly [I in keyof T]: string };

/**
 * Run-time names of each event's arguments, in positional order. They are also the field names of
 * the server's events and of the `engine.on()` payloads. The compiler checks that every event is
 * listed with exactly as many names as it has arguments.
 */
export const CALL_EVENT_ARG_NAMES = {
  onError: ['code', 'message'],
  onCallReceived: ['callId', 'callerId', 'calleeIdList', 'mediaType', 'info'],
  onCallNotConnected: ['callId', 'mediaType', 'reason', 'userId', 'info'],
  onCallBegin: ['callId', 'mediaType', 'info'],
  onCallEnd: ['callId', 'mediaType', 'reason', 'userId', 'totalTime', 'info'],
  onCallMediaTypeChanged: ['oldType', 'newType'],
  onUserInviting: ['userId'],
  onUserReject: ['userId'],
  onUserNoResponse: ['userId'],
  onUserLineBusy: ['userId'],
  onUserJoin: ['userId'],
  onUserLeave: ['userId'],
  onUserVideoAvailable: ['userId', 'isAvailable'],
  onUserAudioAvailable: ['userId', 'isAvailable'],
  onUserVoiceVolumeChanged: ['volumeMap'],
  onUserNetworkQualityChanged: ['list'],
  onKickedOffline: [],
  onUserSigExpired: [],
  onCallCancelled: ['userId'],
  onConnectionStateChanged: ['state'],
  onDeviceListChanged: [],
} as const satisfies { readonly [N in CallEventName]: ArgNames<CallEventArgs[N]> };

/** The short form of an event name for `engine.on()` (SPEC §10): `onDeviceListChanged` → `deviceListChanged`. */
export type CallEventShortName = { [N in CallEventName]: N extends `on${infer R}` ? Uncapitalize<R> : never }[CallEventName];

/** The full event name of a short one. */
export type CallEventOfShortName<S extends CallEventShortName> = `on${Capitalize<S>}` & CallEventName;

/** Either form of an event name, as `engine.on()` accepts it. */
export type AnyCallEventName = CallEventName | CallEventShortName;

/** The full name of either form (`callReceived` and `onCallReceived` → `onCallReceived`). */
export function fullEventName(name: AnyCallEventName): CallEventName {
  if (Object.hasOwn(CALL_EVENT_ARG_NAMES, name)) return name as CallEventName;
  const full = `on${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  if (Object.hasOwn(CALL_EVENT_ARG_NAMES, full)) return full as CallEventName;
  throw new TypeError(`unknown engine event ${String(name)}`);
}

/** Every event name, in declaration order. */
export const CALL_EVENT_NAMES = Object.keys(CALL_EVENT_ARG_NAMES) as CallEventName[];

type PayloadOf<Args extends unknown[], Names extends readonly string[]> = {
  -readonly [I in keyof Names as I extends `${number}` ? Names[I] & string : never]: I extends keyof Args
    ? Args[I]
    : never;
};

/** Single-payload form of every event, for `engine.on(name, handler)`: the arguments by name. */
export type CallEventPayloads = {
  [N in CallEventName]: PayloadOf<CallEventArgs[N], (typeof CALL_EVENT_ARG_NAMES)[N]>;
};

/**
 * The observer of TUICallEngine: implement any subset (`Partial<CallObserver>`). Callbacks are
 * called with the observer as `this`; one that throws is logged and never affects the others.
 */
export type CallObserver = {
  [N in CallEventName]: (...args: CallEventArgs[N]) => void;
};

/** Server events that drive an observer callback (media plumbing events excluded). */
export type ObserverServerEvent = Exclude<ServerEvent, { name: 'media.signal' | 'media.topology' }>;

// Compile-time check: every observer-bound server event name is an engine event name.
const serverEventsAreEngineEvents: ObserverServerEvent['name'] extends CallEventName ? true : never = true;
void serverEventsAreEngineEvents;

/** Positional arguments of a server event, read from its fields by the argument names. */
export function argsOfServerEvent<N extends ObserverServerEvent['name']>(
  event: Extract<ObserverServerEvent, { name: N }>,
): CallEventArgs[N] {
  const fields = event as unknown as Record<string, unknown>;
  return CALL_EVENT_ARG_NAMES[event.name].map((k) => fields[k]) as unknown as CallEventArgs[N];
}

/** The single payload of event `name` built from its positional arguments. */
export function payloadOf<N extends CallEventName>(name: N, args: CallEventArgs[N]): CallEventPayloads[N] {
  const names: readonly string[] = CALL_EVENT_ARG_NAMES[name];
  const payload: Record<string, unknown> = {};
  names.forEach((k, i) => (payload[k] = args[i]));
  return payload as CallEventPayloads[N];
}

/**
 * Holds the observers and `on()` listeners and fires events to both: observers first (in the order
 * added), then `on()` listeners. A throwing listener is logged once per listener and event name so
 * a broken 300 ms volume handler cannot flood the console, and never stops the others.
 */
export class EventHub {
  readonly #observers = new Set<Partial<CallObserver>>();
  /**
   * The observers as an array, rebuilt only when they change: an emit iterates this one, so
   * observers added or removed during an emit do not change that round (as a copy per emit would,
   * without allocating one per event).
   */
  #observerList: readonly Partial<CallObserver>[] = [];
  readonly #reported = new WeakMap<object, Set<string>>();
  readonly #emitter = new TypedEmitter<CallEventPayloads>((name, error, listener) =>
    this.#reportOnce(name, error, listener),
  );

  /** Adds an observer (adding the same object twice keeps one); returns its remover. */
  addObserver(observer: Partial<CallObserver>): Unsubscribe {
    this.#observers.add(observer);
    this.#observerList = [...this.#observers];
    return () => this.removeObserver(observer);
  }

  /** Removes an observer. */
  removeObserver(observer: Partial<CallObserver>): void {
    if (this.#observers.delete(observer)) this.#observerList = [...this.#observers];
  }

  /** Adds a single-payload listener; returns its remover. */
  on<N extends CallEventName>(name: N, listener: (payload: CallEventPayloads[N]) => void): Unsubscribe {
    return this.#emitter.on(name, listener);
  }

  /** Fires `name` with positional `args` to every observer and listener. */
  emit<N extends CallEventName>(name: N, ...args: CallEventArgs[N]): void {
    for (const observer of this.#observerList) {
      const callback = observer[name];
      if (typeof callback !== 'function') continue;
      try {
        callback.apply(observer, args);
      } catch (error) {
        this.#reportOnce(name, error, observer);
      }
    }
    if (this.#emitter.listenerCount(name) > 0) this.#emitter.emit(name, payloadOf(name, args));
  }

  /** Fires the observer callback a server event drives. */
  emitServerEvent(event: ObserverServerEvent): void {
    this.emit(event.name, ...argsOfServerEvent(event));
  }

  #reportOnce(name: string, error: unknown, listener: object): void {
    let names = this.#reported.get(listener);
    if (!names) {
      names = new Set();
      this.#reported.set(listener, names);
    }
    if (names.has(name)) return;
    names.add(name);
    console.error(`[opencall] an observer's ${name} threw (further throws of it are not logged):`, error);
  }
}
