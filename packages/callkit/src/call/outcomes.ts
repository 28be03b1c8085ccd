/**
 * How a call's ending reads to a person. The engine reports an end reason and the user whose action
 * or absence caused it; this module turns that into a title and a detail line, from the point of
 * view of this user (caller or callee, the actor or not). Pure, so it is table-tested.
 * @packageDocumentation
 */
import { CallEndReason } from '@opencall/client';
import { t } from '../i18n/index.js';

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
  const name = f.nameOf(f.userId);
  if (f.kind === 'ended') return describeEnded(f, self, name);
  switch (f.reason) {
    case CallEndReason.reject:
      if (self) return { title: t('end.declinedSelf'), detail: t('end.declinedSelfDetail'), tone: 'neutral' };
      return { title: t('end.declined', { name }), detail: f.isGroup ? t('end.declinedGroupDetail') : t('end.declinedDetail', { name }), tone: 'warn' };
    case CallEndReason.noResponse:
      if (f.isCaller) return { title: t('end.noAnswer'), detail: t('end.noAnswerDetail', { name }), tone: 'warn' };
      return { title: t('end.missed', { name: f.nameOf(f.callerId) }), detail: t('end.missedDetail'), tone: 'warn' };
    case CallEndReason.lineBusy:
      if (f.isCaller) return { title: t('end.busy', { name }), detail: t('end.busyDetail', { name }), tone: 'warn' };
      return { title: t('end.ignored'), detail: t('end.ignoredDetail'), tone: 'neutral' };
    case CallEndReason.canceled:
      if (self || f.isCaller) return { title: t('end.canceled'), detail: t('end.canceledDetail'), tone: 'neutral' };
      return { title: t('end.missed', { name }), detail: t('end.missedCanceledDetail', { name }), tone: 'warn' };
    case CallEndReason.otherDeviceAccepted:
      return { title: t('end.otherAccepted'), detail: t('end.otherAcceptedDetail'), tone: 'neutral' };
    case CallEndReason.otherDeviceReject:
      return { title: t('end.otherRejected'), detail: t('end.otherRejectedDetail'), tone: 'neutral' };
    case CallEndReason.offline:
      if (self) return { title: t('end.lost'), detail: t('end.lostBeforeDetail'), tone: 'error' };
      return { title: t('end.unreachable', { name }), detail: t('end.unreachableDetail', { name }), tone: 'error' };
    case CallEndReason.endByServer:
      return { title: t('end.byService'), detail: t('end.byServiceDetail'), tone: 'warn' };
    case CallEndReason.hangup:
    case CallEndReason.unknown:
    default:
      return { title: t('end.notConnected'), detail: t('end.notConnectedDetail'), tone: 'warn' };
  }
}

function describeEnded(f: EndFacts, self: boolean, name: string): Outcome {
  const duration = t('end.duration', { time: formatDuration(f.totalTime) });
  switch (f.reason) {
    case CallEndReason.hangup:
      return { title: self ? t('end.ended') : t('end.hungUp', { name }), detail: duration, tone: 'neutral' };
    case CallEndReason.offline:
      if (self) return { title: t('end.lost'), detail: t('end.lostDetail', { duration }), tone: 'error' };
      return { title: t('end.peerLost', { name }), detail: t('end.peerLostDetail', { duration }), tone: 'error' };
    case CallEndReason.otherDeviceAccepted:
      return { title: t('end.moved'), detail: t('end.movedDetail'), tone: 'neutral' };
    case CallEndReason.endByServer:
      return { title: t('end.byService'), detail: t('end.byServiceEndedDetail', { duration }), tone: 'warn' };
    default:
      return { title: t('end.ended'), detail: duration, tone: 'neutral' };
  }
}

/** A friendly sentence for a failed engine request (CallEngineError code). */
export function describeError(code: number | undefined, message: string): string {
  switch (code) {
    case -1201:
      return t('error.signedOut');
    case -1202:
      return t('error.invalid', { message });
    case -1203:
      return t('error.refused', { message });
    case -1205:
      return t('error.group');
    case -1401:
      return t('error.unreachable');
    case 70001:
      return t('error.expired');
    case 70003:
    case 70013:
    case 70014:
      return t('error.credentials');
    default:
      return message || t('error.unknown');
  }
}
