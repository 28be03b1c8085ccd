/**
 * How a call's ending reads to a person. The engine reports an end reason and the user whose action
 * or absence caused it; this module turns that into a title and a detail line, from the point of
 * view of this user (caller or callee, the actor or not). Pure, so it is table-tested.
 * @packageDocumentation
 */
import { CallEndReason } from '@opencall/client';

/** How an outcome is shown: neutral (grey), warn (amber), error (red). */
export type OutcomeTone = 'neutral' | 'warn' | 'error';

/** A message for the end-of-call screen. */
export interface Outcome {
  /** Short headline, e.g. "Bob is busy". */
  title: string;
  /** One line of explanation. */
  detail: string;
  tone: OutcomeTone;
}

/** What the page knows when a call ends. */
export interface EndFacts {
  /** `notConnected`: this user never got connected; `ended`: a connected call ended. */
  kind: 'notConnected' | 'ended';
  reason: CallEndReason;
  /** The user whose action or absence ended it (own id for own actions). */
  userId: string;
  selfId: string;
  /** True when this user started the call. */
  isCaller: boolean;
  /** Who started the call. */
  callerId: string;
  /** True for a call with more than one invitee. */
  isGroup: boolean;
  /** Connected time in ms (`ended` only). */
  totalTime: number;
  /** Display name of a user id. */
  nameOf: (userId: string) => string;
}

/** `m:ss` or `h:mm:ss` of a duration in ms. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  const mm = hours > 0 ? String(m).padStart(2, '0') : String(m);
  return `${hours > 0 ? `${hours}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** The message for a call that ended or never connected. */
export function describeOutcome(f: EndFacts): Outcome {
  const self = f.userId === f.selfId;
  const who = f.nameOf(f.userId);
  if (f.kind === 'ended') return describeEnded(f, self, who);
  switch (f.reason) {
    case CallEndReason.reject:
      if (self) return { title: 'Call declined', detail: 'You declined the call.', tone: 'neutral' };
      return { title: `${who} declined`, detail: f.isGroup ? 'Nobody else is in the call.' : `${who} can't talk right now.`, tone: 'warn' };
    case CallEndReason.noResponse:
      if (f.isCaller) return { title: 'No answer', detail: `${who} didn't pick up.`, tone: 'warn' };
      return { title: `Missed call from ${f.nameOf(f.callerId)}`, detail: 'You did not answer in time.', tone: 'warn' };
    case CallEndReason.lineBusy:
      if (f.isCaller) return { title: `${who} is busy`, detail: `${who} is on another call. Try again later.`, tone: 'warn' };
      return { title: 'Call ignored', detail: 'The caller was told you are busy.', tone: 'neutral' };
    case CallEndReason.canceled:
      if (self || f.isCaller) return { title: 'Call canceled', detail: 'You hung up before anyone answered.', tone: 'neutral' };
      return { title: `Missed call from ${who}`, detail: `${who} hung up before you answered.`, tone: 'warn' };
    case CallEndReason.otherDeviceAccepted:
      return { title: 'Answered on another device', detail: 'You picked up this call somewhere else.', tone: 'neutral' };
    case CallEndReason.otherDeviceReject:
      return { title: 'Declined on another device', detail: 'You declined this call somewhere else.', tone: 'neutral' };
    case CallEndReason.offline:
      if (self) return { title: 'Connection lost', detail: 'Your connection dropped before the call connected.', tone: 'error' };
      return { title: `${who} is unreachable`, detail: `${who} went offline.`, tone: 'error' };
    case CallEndReason.endByServer:
      return { title: 'Call ended by the service', detail: 'An administrator ended this call.', tone: 'warn' };
    case CallEndReason.hangup:
    case CallEndReason.unknown:
    default:
      return { title: 'Call not connected', detail: 'The call ended before it connected.', tone: 'warn' };
  }
}

function describeEnded(f: EndFacts, self: boolean, who: string): Outcome {
  const duration = `Duration ${formatDuration(f.totalTime)}`;
  switch (f.reason) {
    case CallEndReason.hangup:
      return self ? { title: 'Call ended', detail: duration, tone: 'neutral' } : { title: `${who} hung up`, detail: duration, tone: 'neutral' };
    case CallEndReason.offline:
      if (self) return { title: 'Connection lost', detail: `Your connection dropped and the call ended. ${duration}`, tone: 'error' };
      return { title: `${who}'s connection was lost`, detail: `The call ended. ${duration}`, tone: 'error' };
    case CallEndReason.otherDeviceAccepted:
      return { title: 'Call moved to another device', detail: 'You continued this call somewhere else.', tone: 'neutral' };
    case CallEndReason.endByServer:
      return { title: 'Call ended by the service', detail: `An administrator ended this call. ${duration}`, tone: 'warn' };
    default:
      return { title: 'Call ended', detail: duration, tone: 'neutral' };
  }
}

/** A friendly sentence for a failed engine request (CallEngineError code). */
export function describeError(code: number | undefined, message: string): string {
  switch (code) {
    case -1201:
      return 'You are signed out. Sign in again to call.';
    case -1202:
      return `That didn't work: ${message}`;
    case -1203:
      return `Not possible right now: ${message}`;
    case -1205:
      return 'That is not available in a group call.';
    case -1401:
      return 'Cannot reach the server. Check your connection.';
    case 70001:
      return 'Your session expired. Sign in again.';
    case 70003:
    case 70013:
    case 70014:
      return 'The server refused your sign-in credentials.';
    default:
      return message || 'Something went wrong.';
  }
}
