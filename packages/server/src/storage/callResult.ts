/**
 * Maps an end reason onto Tencent's `CallResult` names. Shared by the storage adapters (the SQLite
 * `call_result` column, the memory `endedCalls` filter) and the REST layer, so a filter value and
 * the value reported for a call can never disagree.
 */
import { CallEndReason } from '@opencall/protocol/wire';

/**
 * Tencent `CallResult` name of a call that ended with `reason`.
 * Reasons Tencent has no name for (server end, other-device outcomes, unknown, none) are
 * reported as `Interrupt`, which is what Tencent reports for calls it did not see end normally.
 */
export function tencentCallResult(reason: CallEndReason | null): string {
  switch (reason) {
    case CallEndReason.canceled:
      return 'Cancel';
    case CallEndReason.reject:
      return 'Reject';
    case CallEndReason.noResponse:
      return 'NotAnswer';
    case CallEndReason.hangup:
      return 'NormalEnd';
    case CallEndReason.lineBusy:
      return 'CallBusy';
    case CallEndReason.offline:
      return 'Offline';
    default:
      return 'Interrupt';
  }
}
