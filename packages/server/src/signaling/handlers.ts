/**
 * Request handlers: one per client message type (after `auth`). Each turns a validated request
 * into CallService commands or storage reads and returns the response data.
 */
import { ErrorCode } from '@opencall/protocol';
import type { ClientMessageData, ClientMessageType, UserProfile } from '@opencall/protocol';
import { MachineError } from '../call/MachineError.js';
import { hasBusyLeg } from '../call/CallService.js';
import type { CallService } from '../call/CallService.js';
import type { ServerConfig } from '../config/schema.js';
import type { Membership, Storage } from '../storage/Storage.js';
import type { Session } from './Session.js';
import type { SessionManager } from './SessionManager.js';
import type { MediaRelay } from './MediaRelay.js';
import type { IpRateLimiter } from '../http/IpRateLimiter.js';
import { callReceived, callTrace, registerPush, unregisterPush } from '../push/handlers.js';
import type { RequestContext } from '../call/requests.js';
import type { DeliverFn } from './storedRequests.js';

/** Dependencies of the handlers. */
export interface HandlerDeps {
  config: ServerConfig;
  service: CallService;
  storage: Storage;
  sessions: SessionManager;
  media: MediaRelay;
  /** `limits.callsPerMinutePerUser`: call starts per user id (absent: unlimited). */
  callStarts?: IpRateLimiter;
  /** Sends an event to a device on any node (re-sends of stored events: signaling/storedRequests.ts). */
  deliver?: DeliverFn;
}

/** `requestId`: the client's id of the request being handled (its outcome is stored with a commit). */
type Handler<T extends ClientMessageType> = (s: Session, data: ClientMessageData<T>, d: HandlerDeps, requestId: number) => Promise<unknown>;

/**
 * The request context of a call command: its outcome (`respond`) is stored with the change, which
 * commits only while the session still speaks for its device (`SessionManager.speaksFor`).
 */
function requestOf(s: Session, requestId: number, respond: RequestContext['respond'], d: HandlerDeps): RequestContext {
  return { userId: s.userId, deviceId: s.deviceId, requestId, respond, current: () => d.sessions.speaksFor(s) };
}

const empty = (): object => ({});
type Handlers = { [T in Exclude<ClientMessageType, 'auth'>]: Handler<T> };

async function profileOf(storage: Storage, userId: string): Promise<UserProfile> {
  const [p] = await storage.getProfiles([userId]);
  return p ?? { userId, nickname: '', avatar: '' };
}

/**
 * Glare (SPEC §5.1): B calls A while A's 1-to-1 call to B rings at B → B accepts A's call.
 * Returns the merged call id, or null when this is not glare.
 */
async function glare(s: Session, callee: string, mine: readonly Membership[], d: HandlerDeps, requestId: number): Promise<string | null> {
  for (const m of mine) {
    if (m.state !== 'ringing') continue;
    const call = await d.storage.getCall(m.callId);
    const me = call?.members[s.userId];
    if (!call || call.phase !== 'ringing' || call.scene !== 'single' || call.callerId !== callee) continue;
    if (!me?.ringingDevices.includes(s.deviceId)) continue;
    const callId = call.callId;
    await d.service.apply(callId, { type: 'accept', userId: s.userId, deviceId: s.deviceId }, requestOf(s, requestId, () => ({ callId }), d));
    return callId;
  }
  return null;
}

/**
 * SPEC §5.4: once a device's UserSig has expired, the current call goes on (media, hang up,
 * answering) but nothing new starts from it until it re-authenticates in place: 70001.
 */
function requireLiveSig(s: Session): void {
  if (Date.now() > s.expireAt) {
    throw new MachineError(ErrorCode.USERSIG_EXPIRED, 'the UserSig has expired: sign in again with a fresh one (init)');
  }
}

const simple =
  (type: 'accept' | 'reject' | 'ignore' | 'hangup') =>
  async (s: Session, data: { callId: string }, d: HandlerDeps, requestId: number): Promise<object> => {
    await d.service.run(data.callId, { type, userId: s.userId, deviceId: s.deviceId }, requestOf(s, requestId, empty, d));
    return {};
  };

/** The request handlers by message type. */
export const handlers: Handlers = {
  ping: async () => ({}),

  logout: async (s, _data, d) => {
    await d.sessions.logout(s);
    return {};
  },

  'call.start': (s, data, d, requestId) =>
    d.service.exclusive(async () => {
      requireLiveSig(s);
      // Ringing costs the callees attention and the server records (up to one per participant).
      if (d.callStarts && !d.callStarts.take(s.userId)) {
        throw new MachineError(ErrorCode.RATE_LIMITED, `at most ${d.config.limits.callsPerMinutePerUser} calls per minute`);
      }
      const callees = [...new Set(data.userIds)];
      if (callees.includes(s.userId)) throw MachineError.param('you cannot call yourself');
      if (callees.length + 1 > d.config.maxParticipants) {
        throw MachineError.param(`a call holds at most ${d.config.maxParticipants} participants`);
      }
      const params = data.params ?? {};
      const mine = await d.storage.membershipsOf(s.userId);
      const glareable = callees.length === 1 && !params.chatGroupId;
      if (glareable) {
        const merged = await glare(s, callees[0]!, mine, d, requestId);
        if (merged) return { callId: merged };
      }
      if (hasBusyLeg(mine, null)) throw MachineError.state('you are already in a call');
      const callId = await d.service.startCall({
        userId: s.userId,
        deviceId: s.deviceId,
        callees,
        mediaType: data.mediaType,
        params,
        callerProfile: await profileOf(d.storage, s.userId),
        // The callee read as busy may be calling us from another node (cluster glare): look again.
        ...(glareable ? { onCalleesBusy: async () => glare(s, callees[0]!, await d.storage.membershipsOf(s.userId), d, requestId) } : {}),
        request: requestOf(s, requestId, (_reply, state) => ({ callId: state.callId }), d),
      });
      return { callId };
    }, { defer: true, key: `user:${s.userId}` }),

  'call.accept': simple('accept'),
  'call.reject': simple('reject'),
  'call.ignore': simple('ignore'),
  'call.hangup': simple('hangup'),

  'call.invite': (s, data, d, requestId) =>
    d.service.exclusive(async () => {
      requireLiveSig(s);
      const ctx = await d.service.userContext(data.userIds, data.callId);
      const { reply } = await d.service.apply(data.callId, {
        type: 'invite',
        userId: s.userId,
        deviceId: s.deviceId,
        userIds: data.userIds,
        maxParticipants: d.config.maxParticipants,
        params: data.params ?? {},
        ctx,
      }, requestOf(s, requestId, (r) => ({ userIds: (r as string[] | undefined) ?? [] }), d));
      return { userIds: (reply as string[] | undefined) ?? [] };
    }, { defer: true, key: `call:${data.callId}` }),

  'call.join': (s, data, d, requestId) =>
    d.service.exclusive(async () => {
      requireLiveSig(s);
      const busyElsewhere = await d.service.isBusy(s.userId, data.callId);
      await d.service.apply(data.callId, {
        type: 'join',
        userId: s.userId,
        deviceId: s.deviceId,
        busyElsewhere,
        maxParticipants: d.config.maxParticipants,
      }, requestOf(s, requestId, empty, d));
      return {};
    }, { defer: true, key: `call:${data.callId}` }),

  'call.switchMediaType': async (s, data, d, requestId) => {
    await d.service.run(data.callId, { type: 'switchMediaType', userId: s.userId, deviceId: s.deviceId, mediaType: data.mediaType }, requestOf(s, requestId, empty, d));
    return {};
  },

  'media.signal': (s, data, d) => d.media.signal(s, data),
  'media.state': (s, data, d) => d.media.state(s, data),

  'profile.set': async (s, data, d) => {
    requireLiveSig(s);
    await d.storage.setProfile({ userId: s.userId, nickname: data.nickname, avatar: data.avatar });
    return {};
  },

  'profile.get': async (_s, data, d) => {
    const found = await d.storage.getProfiles(data.userIds);
    return { profiles: data.userIds.map((u) => found.find((p) => p.userId === u) ?? { userId: u, nickname: '', avatar: '' }) };
  },

  'device.multi': async (s, data, d) => {
    await d.sessions.setMultiDevice(s, data.enable);
    return {};
  },

  'records.query': async (s, data, d) => ({ records: await d.storage.queryRecords(s.userId, data) }),

  'records.delete': async (s, data, d) => ({ callIds: await d.storage.deleteRecords(s.userId, data.callIds) }),

  'push.register': registerPush,
  'push.unregister': unregisterPush,
  // A notification (no answer unless refused): recorded once per device and call.
  'call.received': async (s, data, d) => {
    if (s.hasReportedReceived(data.callId)) return {};
    await callReceived(s, data, d);
    s.reportedReceived(data.callId);
    return {};
  },
  'call.trace': callTrace,
};

