/**
 * Signaling requests of offline push (SPEC §9): registering and removing a device's push target,
 * the engine's report that `onCallReceived` fired (the trace's `received` step), and reading a
 * call's trace.
 */
import { pushTargetKey, type ClientMessageData, type PushTarget } from '@opencall/protocol';
import { MachineError } from '../call/MachineError.js';
import type { ServerConfig } from '../config/schema.js';
import type { Storage } from '../storage/Storage.js';
import { wireTraceStep } from './trace.js';

/** What these handlers need. */
interface Deps {
  config: ServerConfig;
  storage: Storage;
  now?: () => number;
}

/** The caller of a request. */
interface Caller {
  userId: string;
  deviceId: string;
}

/**
 * Refuses a Web Push endpoint the server should not POST to: only `https:` unless
 * `push.allowHttpEndpoints` (the server would otherwise send requests to any URL a user names).
 */
export function checkPushTarget(target: PushTarget, allowHttp: boolean): void {
  if (target.type !== 'webpush') return;
  const url = new URL(target.subscription.endpoint);
  if (url.protocol === 'https:' || (allowHttp && url.protocol === 'http:')) return;
  throw MachineError.param(`push endpoint must be https${allowHttp ? ' or http' : ''}`);
}

/** `push.register`: stores the target for the signed-in user (their oldest beyond the cap dropped). */
export async function registerPush(c: Caller, data: ClientMessageData<'push.register'>, d: Deps): Promise<object> {
  checkPushTarget(data.target, d.config.push.allowHttpEndpoints);
  await d.storage.savePushTarget(
    {
      userId: c.userId,
      provider: data.target.type,
      key: pushTargetKey(data.target),
      target: JSON.stringify(data.target),
      createdAt: (d.now ?? Date.now)(),
    },
    d.config.push.maxTargetsPerUser,
  );
  return {};
}

/** `push.unregister`: removes the target; `removed` says whether it was registered. */
export async function unregisterPush(c: Caller, data: ClientMessageData<'push.unregister'>, d: Deps): Promise<object> {
  return { removed: await d.storage.removePushTarget(c.userId, pushTargetKey(data.target)) };
}

/**
 * `call.trace`: the delivery trace of a call, for anyone who was part of it (caller or invitee):
 * the web app's "Details" of a history row. Others are refused like for `call.received`.
 */
export async function callTrace(c: Caller, data: ClientMessageData<'call.trace'>, d: Deps): Promise<object> {
  const call = await d.storage.getCall(data.callId);
  if (!call?.members[c.userId]) throw MachineError.state('you are not in this call');
  return { trace: (await d.storage.callTrace(data.callId)).map(wireTraceStep) };
}

/** `call.received`: the engine showed the incoming call on this device. */
export async function callReceived(c: Caller, data: ClientMessageData<'call.received'>, d: Deps): Promise<object> {
  const call = await d.storage.getCall(data.callId);
  if (!call?.members[c.userId]) throw MachineError.state('you are not in this call');
  await d.storage.appendTrace([
    { callId: data.callId, userId: c.userId, deviceId: c.deviceId, step: 'received', time: (d.now ?? Date.now)(), detail: null },
  ]);
  return {};
}
