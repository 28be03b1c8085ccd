/** The words of a call notification, shared by the providers that show an alert themselves (APNs alert). */
import { CallMediaType } from '@opencall/protocol/wire';
import type { PushPayload } from '../../call/types.js';

/** Title and body of the notification for `p`. */
export function notificationText(p: PushPayload): { title: string; body: string } {
  const who = p.offlinePushInfo?.title || p.callerProfile?.nickname || p.callerId;
  const media = p.mediaType === CallMediaType.video ? 'video' : 'audio';
  if (p.type === 'call.invite') return { title: who, body: p.offlinePushInfo?.desc || `Incoming ${media} call` };
  const missed = p.reason === 'canceled' || p.reason === 'noResponse' || p.reason === 'offline';
  return { title: who, body: missed ? `Missed call from ${who}` : 'Call ended' };
}
