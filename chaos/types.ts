/**
 * The history a chaos run records and the checker reads: what every client device saw (observer
 * callbacks with their time), what it asked (requests and their outcome), which faults were
 * injected when, the webhooks the receiver got, and the REST record of every call.
 */

/**
 * One observer callback a device saw. `n` orders entries of one worker process (ties in `t`).
 * Two names are not callbacks but what a media user's worker measured (`NodeMedia.receivedFrames`):
 * `media:flowing` (args `[callId, fromUser]`: frames from that user started arriving) and
 * `media:stalled` (`[callId, fromUser]`: none arrived for {@link MEDIA_STALL_MS}).
 */
export interface SeenEvent {
  kind: 'event';
  t: number;
  n: number;
  user: string;
  device: string;
  name: string;
  args: unknown[];
}

/** One API call a device made; `t` when it was made, `end` when it settled. */
export interface Action {
  kind: 'action';
  t: number;
  n: number;
  end: number;
  user: string;
  device: string;
  /** `calls`, `accept`, `reject`, `ignore`, `hangup`, `inviteUser`, `join`, `switchCallMediaType`, `init`, `unInit`. */
  name: string;
  args: unknown[];
  ok: boolean;
  /** Error code when it failed. */
  code?: number;
  /** The callId a successful `calls`/`join` is about. */
  callId?: string;
}

/** No frame for this long while connected counts as a stall (recorded as `media:stalled`). */
export const MEDIA_STALL_MS = 1000;

/** A history entry. */
export type Entry = SeenEvent | Action;

/** Kinds of injected faults. */
export type FaultKind = 'serverKill' | 'nodeKill' | 'nodeStall' | 'cut' | 'blackhole' | 'silent' | 'webhookFail' | 'webhookHang' | 'dbPause' | 'redisPause';

/** One injected fault, from `t` until it was repaired at `end`. */
export interface Fault {
  kind: FaultKind;
  t: number;
  end: number;
  /** The user whose connection it hit; absent for faults that hit everyone. */
  user?: string;
  /** What it hit and how, when not everything (e.g. `n2` for a node, `n1,n3 cut` for a database pause that ended in a cut). */
  detail?: string;
}

/** One webhook request the receiver got. */
export interface Hook {
  t: number;
  eventId: string;
  callId: string;
  seq: number;
  command: string;
  /** What the receiver answered; 'hang' when it never did. */
  status: number | 'hang';
  /** `CallRecord.CallResult` of an end-call webhook. */
  callResult?: string;
}

/** What REST says about one call (the fields the checker compares). */
export interface RecordView {
  CallId: string;
  Caller_Account: string;
  AcceptTime: number;
  CallResult: string;
  CallType: string;
}

/** The timing promises the checker holds the run to. */
export interface Promises {
  /** Ring timeout, ms. */
  ringTimeoutMs: number;
  /** `heartbeatTimeoutMs` of the server. */
  heartbeatMs: number;
  /** Transport and scheduling slack on a loaded machine, ms. */
  slackMs: number;
  /** Whether a webhook receiver was configured (then every call's events must arrive). */
  webhooks: boolean;
  /**
   * The server's webhook request timeout: an acknowledged event may come again (at least once)
   * when the server could not see the answer in time, which takes at least this long.
   */
  webhookTimeoutMs: number;
  /**
   * How long a connected 1-to-1 call between two media users may go without media arriving (at
   * its start, or after a stall) before it is a violation, plus the time faults kept either user
   * or the server away. Absent in histories recorded before media users existed.
   */
  mediaSlackMs?: number;
}

/** Everything the checker reads. */
export interface RunHistory {
  seed: number;
  promises: Promises;
  /** Time the run (and recording) started. */
  startedAt: number;
  /** Time the run stopped recording (after the settle phase). */
  endedAt: number;
  entries: Entry[];
  faults: Fault[];
  hooks: Hook[];
  /** REST record per callId seen by any client; null when REST had none. */
  records: Record<string, RecordView | null>;
  /** Users with real Node media (the media promise applies to 1-to-1 calls between two of them). */
  mediaUsers?: string[];
}

/** One broken promise, with the slice of history that shows it. */
export interface Violation {
  kind:
    | 'terminal-count'
    | 'leg-open'
    | 'busy-overlap'
    | 'invite-unresolved'
    | 'record-missing'
    | 'record-mismatch'
    | 'webhook-gap'
    | 'webhook-order'
    | 'webhook-doubled'
    | 'event-doubled'
    | 'media-missing';
  message: string;
  /** The minimal entries that show it, in order. */
  slice: (Entry | Hook | Fault)[];
}
