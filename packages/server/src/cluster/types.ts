/**
 * What crosses nodes in cluster mode (SPEC §8). Durable facts live in PostgreSQL; this is the live
 * part carried by Redis: which device is on which node, per-device event logs, node liveness.
 */
import type { SfuSignal } from '../media/SfuCalls.js';

/** A signed-in device as every node sees it (one field of the user's directory hash). */
export interface DeviceEntry {
  userId: string;
  deviceId: string;
  /** Node holding (or last holding) the device's socket. */
  node: string;
  /** Boot id of that node's incarnation: a restarted node never revives its dead predecessor. */
  boot: string;
  /** Session id the client presents to resume; also names the device's event log. */
  sid: string;
  /** Sign-in time, ms epoch (the most recent device rings under policy `multi`). */
  at: number;
  /** Multi-device ringing opt-in. */
  multi: boolean;
  /** Replaced by a newer sign-in: it still receives its final events, never rings. */
  kicked?: boolean;
}

/** A live node incarnation. */
export interface NodeInfo {
  nodeId: string;
  boot: string;
  /** Last beat, ms epoch. */
  lastBeat: number;
}

/** Messages one node sends another through its inbox channel. */
export type NodeMessage =
  /** An event frame appended to a device's log (`f`) or a close marker (`c`) at `seq`. */
  | { t: 'ev'; sid: string; seq: number; f?: string; c?: number }
  /** The device `sid` resumed on another node: drop the local session without leaving calls. */
  | { t: 'moved'; sid: string }
  /** A beat probe sent to oneself: proves the subscription still hears. */
  | { t: 'probe'; n: number }
  /** To a call's media owner: a commit on the sender changed the call (the owner reloads it). */
  | { t: 'm.commit'; callId: string }
  /** To a call's media owner: a device's SFU signal (`signal` is a parsed `media.signal` payload); answered by `m.ack`. */
  | { t: 'm.sfu'; id: string; from: string; callId: string; userId: string; signal: SfuSignal }
  /** The media owner's answer to `m.sfu` `id`: `error` when the SFU refused it. */
  | { t: 'm.ack'; id: string; error?: string }
  /** To a call's media owner: a device's microphone/camera availability (relayed and remembered there). */
  | { t: 'm.state'; callId: string; userId: string; audio: boolean; video: boolean };

