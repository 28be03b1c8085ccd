/**
 * Structured call logs: one `info` line when a call starts and when it ends, one `debug` line per
 * committed transition. Lines carry ids and outcomes only (call id, user ids, version, counts):
 * never a UserSig, a key, user data or webhook bodies, so logs are safe to ship anywhere.
 */
import type { Logger } from 'pino';
import { tencentCallResult } from '../call/tencent.js';
import type { CallState, Effect } from '../call/types.js';

/**
 * Logs a committed transition of `state`. `endedNow` is true on the commit that ended the call.
 *
 * @param log - The `calls` child logger (its lines carry `component: "calls"`).
 */
export function logCommitted(log: Logger, state: CallState, effects: readonly Effect[], endedNow: boolean): void {
  const { callId } = state;
  if (state.version === 1) {
    const invitees = Object.keys(state.members).filter((u) => u !== state.callerId);
    log.info({ callId, callerId: state.callerId, invitees, scene: state.scene, mediaType: state.mediaType }, 'call started');
  }
  if (log.isLevelEnabled('debug')) {
    let sends = 0;
    const webhooks: string[] = [];
    for (const e of effects) {
      if (e.kind === 'send') sends += 1;
      else if (e.kind === 'webhook') webhooks.push(`${callId}.${e.seq}`);
    }
    log.debug({ callId, version: state.version, phase: state.phase, sends, webhooks }, 'call transition');
  }
  if (endedNow) {
    log.info(
      {
        callId,
        result: tencentCallResult(state.endReason),
        endReason: state.endReason,
        endedBy: state.endedBy,
        scene: state.scene,
        durationMs: state.endedAt === null ? null : state.endedAt - state.createdAt,
      },
      'call ended',
    );
  }
}
